using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Tests;

namespace UserCode.Tests;

/// <summary>GroupNorm and RmsNorm: float64 values and gradients against PyTorch, finite differences, and errors.</summary>
[TestClass]
public sealed class NormTests
{
    private const double Tolerance = 1e-12;
    private static Rngs Rngs => new(0);

    [TestMethod]
    [DataRow("group_norm_nhwc")]
    [DataRow("group_norm_2d")]
    [DataRow("group_norm_rank3_g1")]
    public void GroupNormMatchesPyTorch(string name)
    {
        var c = Reference.Case(name);
        var features = Reference.Input(c, "scale").Shape[0];
        var layer = new GroupNorm(features, Rngs, numGroups: c.GetProperty("groups").GetInt32(), epsilon: c.GetProperty("epsilon").GetDouble(), paramDType: DType.Float64);
        Reference.Check(name, ["x", "scale", "bias"], p =>
        {
            layer.Scale!.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    [DataRow("rms_norm")]
    [DataRow("rms_norm_rank3")]
    public void RmsNormMatchesPyTorch(string name)
    {
        var c = Reference.Case(name);
        var layer = new RmsNorm(Reference.Input(c, "scale").Shape[0], Rngs, epsilon: c.GetProperty("epsilon").GetDouble(), paramDType: DType.Float64);
        Reference.Check(name, ["x", "scale"], p =>
        {
            layer.Scale!.Value = p[1];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    public void GradientsMatchFiniteDifferencesInFloat64()
    {
        var rng = new Random(5);
        var r = Numeric.Random(rng, [2, 3, 2, 4]);
        var gn = new GroupNorm(4, Rngs, groupSize: 2, paramDType: DType.Float64);
        var rms = new RmsNorm(4, Rngs, paramDType: DType.Float64);
        var largest = Math.Max(
            Numeric.CheckGrad(p =>
            {
                gn.Scale!.Value = p[1];
                gn.Bias!.Value = p[2];
                return (gn.Call(p[0]) * r).Sum();
            }, [Numeric.Random(rng, [2, 3, 2, 4]), Numeric.Random(rng, [4]), Numeric.Random(rng, [4])]),
            Numeric.CheckGrad(p =>
            {
                rms.Scale!.Value = p[1];
                return (rms.Call(p[0]) * r).Sum();
            }, [Numeric.Random(rng, [2, 3, 2, 4]), Numeric.Random(rng, [4])]));
        Console.WriteLine($"group/rms norm: largest scaled error against finite differences {largest:e2}");
    }

    [TestMethod]
    public void DefaultsAndPathsAreFlaxs()
    {
        var gn = new GroupNorm(64, Rngs);
        (gn.NumGroups, gn.Epsilon).Should().Be((32, 1e-6));
        new GroupNorm(12, Rngs, groupSize: 4).NumGroups.Should().Be(3);
        var (_, state) = Nnx.Split(new RmsNorm(5, Rngs));
        state.ToString().Should().Contain("scale").And.NotContain("bias");
        new RmsNorm(5, Rngs, useScale: false).Call(Tensor.Ones(2, 5)).ToArray<float>().Should().AllSatisfy(v => v.Should().BeApproximately(1 / MathF.Sqrt(1 + 1e-6f), 1e-6f));
    }

    [TestMethod]
    public void BadArgumentsAreNamed()
    {
        FluentActions.Invoking(() => new GroupNorm(10, Rngs, numGroups: 4)).Should().Throw<ArgumentException>().WithMessage("GroupNorm: 10 features do not split into 4 groups*");
        FluentActions.Invoking(() => new GroupNorm(10, Rngs, groupSize: 3)).Should().Throw<ArgumentException>().WithMessage("*groups of 3*");
        FluentActions.Invoking(() => new GroupNorm(8, Rngs, numGroups: null)).Should().Throw<ArgumentException>().WithMessage("*exactly one*");
        FluentActions.Invoking(() => new GroupNorm(8, Rngs, numGroups: 2).Call(Tensor.Zeros(3, 6))).Should().Throw<ArgumentException>().WithMessage("GroupNorm: expected 8 features*f32[3,6]*");
        FluentActions.Invoking(() => new RmsNorm(4, Rngs).Call(Tensor.Zeros(2, 3))).Should().Throw<ArgumentException>().WithMessage("RmsNorm: expected 4 features*f32[2,3]*");
    }
}
