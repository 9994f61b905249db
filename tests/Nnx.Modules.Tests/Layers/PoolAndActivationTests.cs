using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Tests;

namespace UserCode.Tests;

/// <summary>
/// Pooling, Flatten and the activations added with them (leaky_relu, elu, softplus, logsumexp, one_hot):
/// float64 values and gradients against PyTorch (Data/layer_reference.json), finite differences, and errors.
/// </summary>
[TestClass]
public sealed class PoolAndActivationTests
{
    private const double Tolerance = 1e-12;

    [TestMethod]
    [DataRow("max_pool_2x2_s2")]
    [DataRow("max_pool_2x2_s2_odd")]
    [DataRow("max_pool_3x3_s1_same")]
    [DataRow("max_pool_3x2_s21_valid")]
    [DataRow("max_pool_explicit")]
    [DataRow("avg_pool_2x2_s2")]
    [DataRow("avg_pool_3x3_s2_same")]
    [DataRow("avg_pool_3x3_s2_same_exclude")]
    [DataRow("avg_pool_explicit_exclude")]
    public void PoolMatchesPyTorch(string name)
    {
        var c = Reference.Case(name);
        int[] Ints(string p) => [.. c.GetProperty(p).EnumerateArray().Select(e => e.GetInt32())];
        var (window, strides) = (Ints("window"), Ints("strides"));
        var pads = c.GetProperty("pads").EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetInt32())).ToArray();
        Padding padding = name.Contains("same") ? "SAME" : name.Contains("explicit") ? Padding.Explicit(pads) : "VALID";
        var include = c.GetProperty("count_include_pad").GetBoolean();
        Func<Tensor, Tensor> f = name.StartsWith("max", StringComparison.Ordinal)
            ? x => Nn.MaxPool(x, window, strides, padding)
            : x => Nn.AvgPool(x, window, strides, padding, include);
        Reference.Check(name, ["x"], p => f(p[0]), Tolerance);

        // The layer forms give the same result.
        var x = Reference.Input(c, "x");
        ILayer layer = name.StartsWith("max", StringComparison.Ordinal) ? new MaxPool(window, strides, padding) : new AvgPool(window, strides, padding, include);
        layer.Call(x).ToArray<double>().Should().Equal(f(x).ToArray<double>());
    }

    [TestMethod]
    [DataRow("leaky_relu")]
    [DataRow("leaky_relu_0.2")]
    [DataRow("elu")]
    [DataRow("elu_0.5")]
    [DataRow("softplus")]
    [DataRow("logsumexp_axis2")]
    [DataRow("logsumexp_axes02")]
    [DataRow("logsumexp_all")]
    public void ActivationMatchesPyTorch(string name)
    {
        Func<Tensor, Tensor> f = name switch
        {
            "leaky_relu" => x => Nn.LeakyRelu(x),
            "leaky_relu_0.2" => x => Nn.LeakyRelu(x, 0.2),
            "elu" => x => Nn.Elu(x),
            "elu_0.5" => x => Nn.Elu(x, 0.5),
            "softplus" => Nn.Softplus,
            "logsumexp_axis2" => x => Nn.LogSumExp(x, 2),
            "logsumexp_axes02" => x => Nn.LogSumExp(x, [0, -1]),
            "logsumexp_all" => x => Nn.LogSumExp(x),
            _ => throw new ArgumentException(name),
        };
        Reference.Check("act_" + name, ["x"], p => f(p[0]), Tolerance);
    }

    [TestMethod]
    public void GradientsMatchFiniteDifferencesInFloat64()
    {
        var rng = new Random(14);
        var x = Numeric.Random(rng, [2, 5, 4, 3]);
        Tensor Probe(Tensor y) => (y * Numeric.Random(new Random(y.Size), [.. y.Shape])).Sum();
        var largest = new[]
        {
            Numeric.CheckGrad(p => Probe(Nn.MaxPool(p[0], [3, 2], [2, 1], "SAME")), [x]),
            Numeric.CheckGrad(p => Probe(Nn.MaxPool(p[0], [2, 2], [2, 2])), [x]),
            Numeric.CheckGrad(p => Probe(Nn.AvgPool(p[0], [3, 3], [2, 2], Padding.Explicit((1, 2), (0, 1)), countIncludePad: false)), [x]),
            Numeric.CheckGrad(p => Probe(Nn.AvgPool(p[0], [2, 2], [2, 2])), [x]),
            Numeric.CheckGrad(p => Probe(Nn.Elu(p[0]) + Nn.LeakyRelu(p[0], 0.3) + Nn.Softplus(p[0])), [x]),
            Numeric.CheckGrad(p => Probe(Nn.LogSumExp(p[0], [1, 2], keepDims: true)), [x]),
        }.Max();
        Console.WriteLine($"pools and activations: largest scaled error {largest:e2}");
    }

    [TestMethod]
    public void PoolingDefaultsAreFlaxs()
    {
        // Strides 1 and VALID: a 2×2 window over 3×3 gives 2×2.
        var x = Tensor.FromArray(Enumerable.Range(0, 9).Select(v => (float)v).ToArray(), 1, 3, 3, 1);
        Nn.MaxPool(x, [2, 2]).ToArray<float>().Should().Equal(4, 5, 7, 8);
        Nn.AvgPool(x, [2, 2]).ToArray<float>().Should().Equal(2, 3, 5, 6);
        // SAME with stride 2 over 3: one pad after; padded zeros count in the mean by default.
        Nn.AvgPool(x, [2, 2], [2, 2], "SAME").ToArray<float>().Should().Equal(2, 7f / 4, 13f / 4, 8f / 4);
        Nn.AvgPool(x, [2, 2], [2, 2], "SAME", countIncludePad: false).ToArray<float>().Should().Equal(2, 3.5f, 6.5f, 8);
        Nn.MaxPool(x, [2, 2], [2, 2], "SAME").ToArray<float>().Should().Equal(4, 5, 7, 8);
        // Unbatched input [h, w, c] and several batch axes.
        Nn.MaxPool(x.Reshape(3, 3, 1), [2, 2]).Shape.Should().Equal(2, 2, 1);
        Nn.MaxPool(Tensor.Zeros(2, 3, 6, 6, 4), [2, 2], [2, 2]).Shape.Should().Equal(2, 3, 3, 3, 4);
        new MaxPool([2, 2]).Strides.Should().Equal(1, 1);
        new AvgPool([2, 2]).Padding.Should().Be(Padding.Valid);
    }

    [TestMethod]
    public void FlattenKeepsTheLeadingAxes()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(v => (float)v).ToArray(), 2, 3, 2, 2);
        var y = new Flatten().Call(x);
        y.Shape.Should().Equal(2, 12);
        y.ToArray<float>().Should().Equal(x.ToArray<float>());
        new Flatten(2).Call(x).Shape.Should().Equal(2, 3, 4);
        new Flatten(0).Call(x).Shape.Should().Equal(24);
        FluentActions.Invoking(() => new Flatten(5).Call(x)).Should().Throw<ArgumentException>().WithMessage("*Flatten*f32[2,3,2,2]*5 axes*");
    }

    [TestMethod]
    public void OneHotIsJaxs()
    {
        var labels = Tensor.FromArray([2, 0, -1, 3, 1], 5);
        Nn.OneHot(labels, 3).ToArray<float>().Should().Equal(0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0);
        Nn.OneHot(labels.Reshape(5, 1), 3, DType.Float64, axis: 0).Shape.Should().Equal(3, 5, 1);
        Nn.OneHot(labels, 3, DType.Int32, axis: 0).ToArray<int>().Should().Equal(0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0);
        FluentActions.Invoking(() => Nn.OneHot(Tensor.Zeros(3), 2)).Should().Throw<ArgumentException>().WithMessage("one_hot: expected integer labels*f32[3]*");
        FluentActions.Invoking(() => Nn.OneHot(labels, 3, axis: 3)).Should().Throw<ArgumentException>().WithMessage("*axis 3*i32[5]*");
    }

    [TestMethod]
    public void LeakyReluHasJaxsGradientAtZero()
    {
        // jnp.where(x >= 0, x, slope·x): slope 1 at 0 (PyTorch's leaky_relu takes the negative slope there).
        var g = Autodiff.Grad(x => Nn.LeakyRelu(x, 0.2).Sum())(Tensor.FromArray([0.0, -1, 1]));
        g.ToArray<double>().Should().Equal(1, 0.2, 1);
    }

    [TestMethod]
    public void LogSumExpOfMinusInfinityIsMinusInfinity()
    {
        var x = Tensor.FromArray([double.NegativeInfinity, double.NegativeInfinity, 0, Math.Log(3)], 2, 2);
        var r = Nn.LogSumExp(x, 1).ToArray<double>();
        r[0].Should().Be(double.NegativeInfinity);
        r[1].Should().BeApproximately(Math.Log(4), 1e-15);
    }

    [TestMethod]
    public void BadPoolArgumentsAreNamed()
    {
        var x = Tensor.Zeros(1, 4, 4, 2);
        FluentActions.Invoking(() => Nn.MaxPool(x, [0, 2])).Should().Throw<ArgumentException>().WithMessage("max_pool: window shape [0,2]*");
        FluentActions.Invoking(() => Nn.AvgPool(x, [2, 2], [1])).Should().Throw<ArgumentException>().WithMessage("avg_pool: strides [1]*window [2,2]*");
        FluentActions.Invoking(() => Nn.MaxPool(x, [5, 2])).Should().Throw<ArgumentException>().WithMessage("max_pool: the input f32[1,4,4,2] padded to spatial size [4,4] is smaller than the window [5,2]*");
        FluentActions.Invoking(() => Nn.MaxPool(Tensor.Zeros(4, 2), [2, 2])).Should().Throw<ArgumentException>().WithMessage("max_pool: expected an input of rank ≥ 3*f32[4,2]*");
        FluentActions.Invoking(() => Nn.MaxPool(x, [2, 2], padding: Padding.Explicit((1, 1)))).Should().Throw<ArgumentException>().WithMessage("max_pool: explicit padding*1 pairs*2 spatial axes*");
    }
}
