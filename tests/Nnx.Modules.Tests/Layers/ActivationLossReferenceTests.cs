using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Activations and losses (values and gradients) against PyTorch in float64.</summary>
[TestClass]
public sealed class ActivationLossReferenceTests
{
    /// <summary>|ours − PyTorch| ≤ Tolerance·(1 + |PyTorch|) elementwise.</summary>
    private const double Tolerance = 1e-12;

    [TestMethod]
    [DataRow("relu")]
    [DataRow("gelu_tanh")]
    [DataRow("gelu_exact")]
    [DataRow("silu")]
    [DataRow("sigmoid")]
    [DataRow("tanh")]
    [DataRow("softmax")]
    [DataRow("log_softmax")]
    public void Activation(string name)
    {
        Func<Tensor, Tensor> f = name switch
        {
            "relu" => Nn.Relu,
            "gelu_tanh" => x => Nn.Gelu(x),
            "gelu_exact" => x => Nn.Gelu(x, approximate: false),
            "silu" => Nn.Silu,
            "sigmoid" => Nn.Sigmoid,
            "tanh" => Nn.Tanh,
            "softmax" => x => Nn.Softmax(x),
            "log_softmax" => x => Nn.LogSoftmax(x),
            _ => throw new ArgumentException(name),
        };
        Reference.Check("act_" + name, ["x"], p => f(p[0]), Tolerance);
    }

    [TestMethod]
    public void SoftmaxCrossEntropyWithIntegerLabels()
    {
        var labels = Reference.ReadInt64(Reference.Case("loss_softmax_cross_entropy_integer").GetProperty("labels"));
        Reference.Check("loss_softmax_cross_entropy_integer", ["logits"], p => Losses.SoftmaxCrossEntropyWithIntegerLabels(p[0], labels), Tolerance);
        Reference.Check("loss_softmax_cross_entropy_integer", ["logits"], p => Losses.SoftmaxCrossEntropyWithIntegerLabels(p[0], labels.Cast(DType.Int32)), Tolerance);
    }

    [TestMethod]
    public void SoftmaxCrossEntropyWithProbabilities() =>
        Reference.Check("loss_softmax_cross_entropy", ["logits", "labels"], p => Losses.SoftmaxCrossEntropy(p[0], p[1]), Tolerance);

    [TestMethod]
    public void SigmoidBinaryCrossEntropyIsStableForLargeLogits() =>
        Reference.Check("loss_sigmoid_binary_cross_entropy", ["logits", "labels"], p => Losses.SigmoidBinaryCrossEntropy(p[0], p[1]), Tolerance);

    [TestMethod]
    public void SquaredErrorAndItsMean()
    {
        Reference.Check("loss_squared_error", ["p", "t"], p => Losses.SquaredError(p[0], p[1]), Tolerance);
        var c = Reference.Case("loss_squared_error");
        var (p, t) = (Reference.Input(c, "p"), Reference.Input(c, "t"));
        Losses.MeanSquaredError(p, t).Item<double>().Should().BeApproximately(Reference.Read(c.GetProperty("output")).Mean().Item<double>(), 1e-14);
    }

    [TestMethod]
    public void OneHotLabelsGiveTheIntegerLabelLoss()
    {
        var logits = Prng.Normal(Prng.Key(4), [5, 7]);
        var labels = Tensor.FromArray(new long[] { 0, 6, 3, 3, 1 }, 5);
        var oneHot = Tensor.Where(Tensor.Iota(DType.Int64, Shape.Of(5, 7), 1).Equal(labels.Reshape(5, 1)), 1.0, Tensor.Zeros(5, 7));
        var a = Losses.SoftmaxCrossEntropy(logits, oneHot).ToArray<float>();
        var b = Losses.SoftmaxCrossEntropyWithIntegerLabels(logits, labels).ToArray<float>();
        for (var i = 0; i < a.Length; i++) a[i].Should().BeApproximately(b[i], 1e-5f);
    }

    [TestMethod]
    public void LossesRejectLabelsOfTheWrongKind()
    {
        var logits = Tensor.Zeros(4, 3);
        var act = () => Losses.SoftmaxCrossEntropy(logits, Tensor.FromArray(new long[] { 0, 1, 2, 0 }, 4));
        act.Should().Throw<ArgumentException>().WithMessage("*SoftmaxCrossEntropyWithIntegerLabels*");
        var act2 = () => Losses.SoftmaxCrossEntropyWithIntegerLabels(logits, Tensor.Zeros(4, 3));
        act2.Should().Throw<ArgumentException>().WithMessage("*int32 or int64*f32[4,3]*");
        var act3 = () => Losses.SoftmaxCrossEntropyWithIntegerLabels(logits, Tensor.FromArray(new long[] { 0, 1, 2 }, 3));
        act3.Should().Throw<ArgumentException>().WithMessage("*i64[3]*f32[4,3]*");
        var act4 = () => Nn.Relu(Tensor.FromArray(new long[] { 1, 2 }, 2));
        act4.Should().Throw<ArgumentException>().WithMessage("relu: expected a float tensor*");
    }
}
