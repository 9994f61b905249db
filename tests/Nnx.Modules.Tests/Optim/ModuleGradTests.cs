using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Nnx.Grad / Nnx.ValueAndGrad over modules: the gradient is a State; undifferentiated mutations persist.</summary>
[TestClass]
public sealed class ModuleGradTests
{
    private static readonly Tensor X = Tensor.FromArray([1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 2.0, 2.0, -0.5, 1.0, 1.5, 0.25], 4, 3);
    private static readonly Tensor Y = Tensor.FromArray([0.5, -1.0, 2.0, 0.0, 1.0, 1.0, -0.5, 0.25], 4, 2);

    private static Affine NewModel() => new(
        Tensor.FromArray([0.1, -0.2, 0.3, 0.4, -0.5, 0.6], 3, 2), Tensor.FromArray([0.05, -0.05]));

    private static Tensor Loss(Affine m) => (m.Call(X) - Y).Square().Mean();

    [TestMethod]
    public void GradientsEqualAutodiffOverTheRawTensorsAndParamsKeepTheirValues()
    {
        var model = NewModel();
        var (w, b) = (model.W.Value, model.B.Value);
        var (loss, grads) = Nnx.ValueAndGrad<Affine>(Loss)(model);
        var (expectedLoss, (gw, gb)) = Autodiff.ValueAndGrad((Tensor w, Tensor b) => (X.MatMul(w) + b - Y).Square().Mean())(w, b);

        loss.Item<double>().Should().Be(expectedLoss.Item<double>());
        grads.Paths.Should().Equal("w", "b");
        grads["w"].ToArray<double>().Should().Equal(gw.ToArray<double>());
        grads["b"].ToArray<double>().Should().Equal(gb.ToArray<double>());
        model.W.Value.Should().BeSameAs(w, "the differentiated variables keep their tensors");
        model.Calls.Value.Item<float>().Should().Be(1, "undifferentiated state the function changed persists, as in Flax");
        Nnx.Grad<Affine>(Loss)(model)["w"].ToArray<double>().Should().Equal(gw.ToArray<double>());
        model.Calls.Value.Item<float>().Should().Be(2);
    }

    [TestMethod]
    public void WrtChoosesTheVariablesAndHasAuxReturnsExtraData()
    {
        var model = NewModel();
        var onlyBias = Nnx.Grad<Affine>(Loss, Filter.PathContains("b"))(model);
        onlyBias.Paths.Should().Equal("b");

        var ((loss, prediction), grads) = Nnx.ValueAndGrad<Affine, Tensor>(m =>
        {
            var p = m.Call(X);
            return ((p - Y).Square().Mean(), p);
        })(model);
        prediction.Shape.Should().Equal(4, 2);
        loss.Item<double>().Should().Be((prediction - Y).Square().Mean().Item<double>());
        grads.Paths.Should().Equal("w", "b");
    }

    [TestMethod]
    public void IntegerVariablesCannotBeDifferentiatedAndTheErrorNamesThePath()
    {
        var model = NewModel();
        var act = () => Nnx.Grad<Affine>(Loss, Filter.Of<Models.Count>())(NewCountingModel());
        act.Should().Throw<ArgumentException>().WithMessage("*variable 'calls'*i32[]*only float tensors*");
        model.W.Value.IsSymbolic.Should().BeFalse();
    }

    private static Affine NewCountingModel()
    {
        var m = NewModel();
        m.Calls = new Models.Count(Tensor.Scalar(0, DType.Int32));
        return m;
    }
}

/// <summary>Average, Accuracy and MultiMetric, eagerly and as state of a jitted step.</summary>
[TestClass]
public sealed class MetricTests
{
    [TestMethod]
    public void AverageAccumulatesAndResets()
    {
        var average = new Average();
        average.Update(Tensor.FromArray([1f, 2f, 3f]));
        average.Update(Tensor.Scalar(10f));
        average.Compute().Item<float>().Should().Be(4f);
        average.Reset();
        average.Update(Tensor.Scalar(2f));
        average.Compute().Item<float>().Should().Be(2f);
    }

    [TestMethod]
    public void AccuracyCountsArgmaxHits()
    {
        var accuracy = new Accuracy();
        var logits = Tensor.FromArray([0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f, 0.6f, 0.4f], 4, 2);
        accuracy.Update(("logits", logits), ("labels", Tensor.FromArray([1, 0, 0, 0])));
        accuracy.Compute().Item<float>().Should().Be(0.75f);
        var bad = () => accuracy.Update(("logits", logits), ("labels", Tensor.FromArray([1f, 0f, 0f, 0f])));
        bad.Should().Throw<ArgumentException>().WithMessage("*labels must be integers*f32[4]*");
        var missing = () => accuracy.Update(("logits", logits));
        missing.Should().Throw<ArgumentException>().WithMessage("*no value named 'labels'*'logits'*");
    }

    [TestMethod]
    public void MultiMetricUpdatesInsideAJittedStepPersist()
    {
        var metrics = new MultiMetric(("loss", new Average()), ("accuracy", new Accuracy()));
        var step = Nnx.Jit((MultiMetric m, Tensor loss, Tensor logits, Tensor labels) =>
        {
            m.Update(("loss", loss), ("logits", logits), ("labels", labels));
        });
        var logits = Tensor.FromArray([0.1f, 0.9f, 0.8f, 0.2f], 2, 2);
        step(metrics, Tensor.Scalar(1f), logits, Tensor.FromArray([1, 1]));
        step(metrics, Tensor.Scalar(3f), logits, Tensor.FromArray([1, 0]));
        var values = metrics.Compute();
        values["loss"].Item<float>().Should().Be(2f);
        values["accuracy"].Item<float>().Should().Be(0.75f);
        step.TraceCount().Should().Be(1);
        metrics.Reset();
        metrics.Compute()["loss"].Item<float>().Should().Be(float.NaN, "0 / 0 after a reset, as Flax");
    }
}
