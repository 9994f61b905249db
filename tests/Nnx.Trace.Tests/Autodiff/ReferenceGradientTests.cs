using System.Text.Json;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>
/// Composite gradients against PyTorch autograd in float64. The reference values are in
/// Data/reference_gradients.json, made by Data/make_reference.py (PyTorch, run once; the tests need no Python).
/// </summary>
[TestClass]
public sealed class ReferenceGradientTests
{
    /// <summary>|ours − PyTorch| ≤ Tolerance · (1 + |PyTorch|), elementwise, for the loss and every gradient.</summary>
    private const double Tolerance = 1e-12;

    private static readonly JsonElement Cases =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference_gradients.json"))).RootElement;

    private static Tensor Input(JsonElement c, string name) => Read(c.GetProperty("inputs").GetProperty(name));

    private static Tensor Read(JsonElement t) => Tensor.FromArray(
        t.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
        t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    /// <summary>Compares the loss and gradients with PyTorch's and returns the largest scaled error.</summary>
    private static double Compare(JsonElement c, Tensor loss, IReadOnlyDictionary<string, Tensor> grads)
    {
        var largest = Check("loss", [loss.Item<double>()], [c.GetProperty("loss").GetDouble()]);
        foreach (var (name, g) in grads)
        {
            var expected = Read(c.GetProperty("grads").GetProperty(name));
            g.Aval.Should().Be(expected.Aval, "the gradient of {0}", name);
            largest = Math.Max(largest, Check(name, g.ToArray<double>(), expected.ToArray<double>()));
        }
        Console.WriteLine($"largest scaled error against PyTorch: {largest:e2}");
        return largest;
    }

    private static double Check(string name, double[] actual, double[] expected)
    {
        var largest = 0.0;
        for (var k = 0; k < actual.Length; k++)
        {
            var err = Math.Abs(actual[k] - expected[k]) / (1 + Math.Abs(expected[k]));
            largest = Math.Max(largest, err);
            err.Should().BeLessThanOrEqualTo(Tolerance, "{0}[{1}]: {2} vs PyTorch {3}", name, k, actual[k], expected[k]);
        }
        return largest;
    }

    [TestMethod]
    public void MlpWithMeanSquaredError()
    {
        var c = Cases.GetProperty("mlp_mse");
        var y = Input(c, "y");
        var p = (X: Input(c, "x"), W1: Input(c, "w1"), B1: Input(c, "b1"), W2: Input(c, "w2"), B2: Input(c, "b2"));

        var (loss, g) = Autodiff.ValueAndGrad(((Tensor X, Tensor W1, Tensor B1, Tensor W2, Tensor B2) q) =>
            ((q.X.MatMul(q.W1) + q.B1).Relu().MatMul(q.W2) + q.B2 - y).Square().Mean())(p);

        Compare(c, loss, new Dictionary<string, Tensor> { ["x"] = g.X, ["w1"] = g.W1, ["b1"] = g.B1, ["w2"] = g.W2, ["b2"] = g.B2 });
    }

    [TestMethod]
    public void SoftmaxCrossEntropy()
    {
        var c = Cases.GetProperty("softmax_cross_entropy");
        var labels = Tensor.FromArray(c.GetProperty("labels").EnumerateArray().Select(e => e.GetInt64()).ToArray(), c.GetProperty("labels").GetArrayLength());

        Tensor Loss(Tensor x, Tensor w, Tensor b)
        {
            var logits = x.MatMul(w) + b;
            var z = logits - logits.Max(axis: 1, keepDims: true).StopGradient();
            var logp = z - z.Exp().Sum(axis: 1, keepDims: true).Log();
            return -logp.TakeAlongAxis(labels, axis: 1).Mean();
        }

        var (loss, (gx, gw, gb)) = Autodiff.ValueAndGrad(Loss)(Input(c, "x"), Input(c, "w"), Input(c, "b"));
        Compare(c, loss, new Dictionary<string, Tensor> { ["x"] = gx, ["w"] = gw, ["b"] = gb });
    }

    [TestMethod]
    public void BatchNormalisation()
    {
        var c = Cases.GetProperty("batch_normalisation");
        var t = Input(c, "t");

        Tensor Loss(Tensor x, Tensor gamma, Tensor beta)
        {
            var mean = x.Mean(axis: 0);
            var variance = (x - mean).Square().Mean(axis: 0);
            var y = (x - mean) * (variance + 1e-5).Rsqrt() * gamma + beta;
            return (y.Tanh() - t).Square().Mean();
        }

        var (loss, (gx, gg, gb)) = Autodiff.ValueAndGrad(Loss)(Input(c, "x"), Input(c, "gamma"), Input(c, "beta"));
        Compare(c, loss, new Dictionary<string, Tensor> { ["x"] = gx, ["gamma"] = gg, ["beta"] = gb });
    }
}
