using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Initializers: statistics over large draws, truncation bounds, fan computations, determinism.</summary>
[TestClass]
public sealed class InitTests
{
    private static (double Mean, double Std, double Min, double Max) Stats(Tensor t)
    {
        var v = t.Cast(DType.Float64).ToArray<double>();
        var mean = v.Average();
        return (mean, Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average()), v.Min(), v.Max());
    }

    [TestMethod]
    public void FansAreInAndOutSizesTimesTheReceptiveField()
    {
        Init.Fans([3, 5]).Should().Be((3.0, 5.0));
        Init.Fans([3, 3, 4, 8]).Should().Be((36.0, 72.0), "a 3×3 convolution kernel from 4 to 8 channels");
        Init.Fans([10, 4], outAxis: 0).Should().Be((4.0, 4.0), "Flax's embedding init: in axis −2 and out axis 0 are the same axis, so the receptive field is 40/10/10 and fan_in = features, as JAX computes it");
        Init.Fans([6, 2, 3], inAxis: 0, outAxis: -1).Should().Be((12.0, 6.0));
        var act = () => Init.Fans([5]);
        act.Should().Throw<ArgumentException>().WithMessage("*rank ≥ 2*");
    }

    [TestMethod]
    [DataRow("lecun_normal", 1.0 / 200, true)]
    [DataRow("lecun_uniform", 1.0 / 200, false)]
    [DataRow("glorot_normal", 2.0 / 500, true)]
    [DataRow("glorot_uniform", 2.0 / 500, false)]
    [DataRow("he_normal", 2.0 / 200, true)]
    [DataRow("he_uniform", 2.0 / 200, false)]
    public void VarianceScalingHasTheTargetVarianceAndRange(string name, double variance, bool truncated)
    {
        var init = name switch
        {
            "lecun_normal" => Init.LecunNormal(),
            "lecun_uniform" => Init.LecunUniform(),
            "glorot_normal" => Init.GlorotNormal(),
            "glorot_uniform" => Init.XavierUniform(),
            "he_normal" => Init.KaimingNormal(),
            "he_uniform" => Init.HeUniform(),
            _ => throw new ArgumentException(name),
        };
        var w = init(Prng.Key(11), [200, 300], DType.Float32);
        w.Aval.ToString().Should().Be("f32[200,300]");
        var (mean, std, min, max) = Stats(w);
        var target = Math.Sqrt(variance);
        mean.Should().BeApproximately(0, 0.01 * target, "60 000 draws: the mean's standard error is 0.004σ");
        std.Should().BeApproximately(target, 0.01 * target);
        var bound = truncated ? 2 * target / .87962566103423978 : Math.Sqrt(3) * target;
        min.Should().BeGreaterThanOrEqualTo(-bound);
        max.Should().BeLessThanOrEqualTo(bound);
        max.Should().BeGreaterThan(0.98 * bound, "the draws reach close to the bound");
    }

    [TestMethod]
    public void VarianceScalingNormalIsUntruncated()
    {
        var w = Init.VarianceScaling(3, FanMode.FanOut, InitDistribution.Normal)(Prng.Key(2), [100, 600], DType.Float64);
        w.DType.Should().Be(DType.Float64);
        var (mean, std, _, max) = Stats(w);
        mean.Should().BeApproximately(0, 0.01 * Math.Sqrt(3.0 / 600));
        std.Should().BeApproximately(Math.Sqrt(3.0 / 600), 0.01 * Math.Sqrt(3.0 / 600));
        max.Should().BeGreaterThan(3.5 * Math.Sqrt(3.0 / 600), "60 000 untruncated normal draws pass 3.5σ");
    }

    [TestMethod]
    public void SimpleInitializers()
    {
        var key = Prng.Key(5);
        Init.Zeros(key, [2, 3], DType.Float32).ToArray<float>().Should().AllBeEquivalentTo(0f);
        Init.Ones(key, [4], DType.Float64).ToArray<double>().Should().AllBeEquivalentTo(1.0);
        Init.Constant(-2.5)(key, [3], DType.Float32).ToArray<float>().Should().AllBeEquivalentTo(-2.5f);

        var (mean, std, min, max) = Stats(Init.Uniform(0.5)(key, [100_000], DType.Float32));
        min.Should().BeGreaterThanOrEqualTo(0);
        max.Should().BeLessThan(0.5);
        mean.Should().BeApproximately(0.25, 0.003);
        std.Should().BeApproximately(0.5 / Math.Sqrt(12), 0.002);

        (mean, std, _, _) = Stats(Init.Normal(0.2)(key, [100_000], DType.Float32));
        mean.Should().BeApproximately(0, 0.003);
        std.Should().BeApproximately(0.2, 0.002);

        (_, std, min, max) = Stats(Init.TruncatedNormal(0.3, lower: -1, upper: 1.5)(key, [100_000], DType.Float32));
        min.Should().BeGreaterThanOrEqualTo(-0.3);
        max.Should().BeLessThanOrEqualTo(0.45);
        min.Should().BeLessThan(-0.29);
        max.Should().BeGreaterThan(0.44);
        std.Should().BeLessThan(0.3, "truncation narrows the distribution");
    }

    [TestMethod]
    public void TheSameKeyGivesTheSameValues()
    {
        var init = Init.HeNormal();
        init(Prng.Key(9), [4, 5], DType.Float32).ToArray<float>().Should().Equal(init(Prng.Key(9), [4, 5], DType.Float32).ToArray<float>());
        init(Prng.Key(9), [4, 5], DType.Float32).ToArray<float>().Should().NotEqual(init(Prng.Key(10), [4, 5], DType.Float32).ToArray<float>());
    }

    [TestMethod]
    public void LayersDrawKernelThenBiasKeysFromTheParamsStreamAsFlax()
    {
        var linear = new Linear(2, 3, new Rngs(0), biasInit: Init.Normal(1));
        var stream = Prng.Key(0);
        linear.Kernel.Value.ToArray<float>().Should().Equal(Init.LecunNormal()(Prng.FoldIn(stream, 0), [2, 3], DType.Float32).ToArray<float>());
        linear.Bias!.Value.ToArray<float>().Should().Equal(Init.Normal(1)(Prng.FoldIn(stream, 1), [3], DType.Float32).ToArray<float>());

        var rngs = new Rngs(("params", 7), ("dropout", 8));
        var conv = new Conv(3, 4, [3, 3], rngs);
        var embed = new Embed(10, 6, rngs);
        rngs["params"].Count.Value.Item<uint>().Should().Be(3, "the conv drew two keys and the embedding one");
        rngs["dropout"].Count.Value.Item<uint>().Should().Be(0);
        conv.Kernel.Shape.Should().Equal([3, 3, 3, 4]);
        embed.Embedding.Value.ToArray<float>().Should().Equal(
            Init.VarianceScaling(1, FanMode.FanIn, InitDistribution.Normal, outAxis: 0)(Prng.FoldIn(Prng.Key(7), 2), [10, 6], DType.Float32).ToArray<float>());
    }

    [TestMethod]
    public void DefaultLinearAndEmbedInitialisationHaveFlaxsScales()
    {
        var (_, std, _, _) = Stats(new Linear(400, 300, new Rngs(1)).Kernel.Value);
        std.Should().BeApproximately(Math.Sqrt(1.0 / 400), 0.02 * Math.Sqrt(1.0 / 400), "LeCun normal: variance 1/fan_in");
        (_, std, _, _) = Stats(new Embed(5000, 16, new Rngs(1)).Embedding.Value);
        std.Should().BeApproximately(Math.Sqrt(1.0 / 16), 0.02 * Math.Sqrt(1.0 / 16), "variance 1/features");
    }
}
