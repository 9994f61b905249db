using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

[TestClass]
public sealed class BatchNormTests
{
    private static readonly Tensor X = Tensor.FromArray(new float[] { 1, 10, 2, 20, 3, 30, 6, 60 }, 4, 2);

    [TestMethod]
    public void TrainingNormalisesWithBatchStatisticsAndUpdatesTheRunningAverages()
    {
        var bn = new BatchNorm(2, new Rngs(0), momentum: 0.9);
        var y = bn.Call(X).ToArray<float>();
        // Feature 0: mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5.
        y[0].Should().BeApproximately((float)((1 - 3) / Math.Sqrt(3.5 + 1e-5)), 1e-6f);
        y.Where((_, i) => i % 2 == 0).Sum().Should().BeApproximately(0, 1e-5f);
        bn.Mean.Value.ToArray<float>().Should().BeEquivalentTo(new[] { 0.3f, 3f }, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        bn.Var.Value.ToArray<float>()[0].Should().BeApproximately(0.9f + 0.1f * 3.5f, 1e-6f, "the biased variance, as Flax");
        bn.Var.Value.ToArray<float>()[1].Should().BeApproximately(0.9f + 0.1f * 350f, 1e-4f);
    }

    [TestMethod]
    public void EvaluationUsesTheRunningAveragesAndLeavesThemAlone()
    {
        var bn = new BatchNorm(2, new Rngs(0));
        bn.Mean.Value = Tensor.FromArray(new float[] { 1, 2 }, 2);
        bn.Var.Value = Tensor.FromArray(new float[] { 4, 9 }, 2);
        bn.Eval();
        var y = bn.Call(X).ToArray<float>();
        y[0].Should().BeApproximately(0, 1e-6f);
        y[1].Should().BeApproximately((float)((10 - 2) / Math.Sqrt(9 + 1e-5)), 1e-5f);
        bn.Mean.Value.ToArray<float>().Should().Equal(1f, 2f);

        var forced = new BatchNorm(2, new Rngs(0), useRunningAverage: true);
        forced.Training.Should().BeTrue();
        forced.Call(X).ToArray<float>()[0].Should().BeApproximately((float)(1 / Math.Sqrt(1 + 1e-5)), 1e-6f, "useRunningAverage overrides the training mode");
        forced.Mean.Value.ToArray<float>().Should().Equal(0f, 0f);
    }

    [TestMethod]
    public void FieldsAndPathsAreFlaxs()
    {
        var bn = new BatchNorm(3, new Rngs(0), useBias: false);
        var (_, state) = Nnx.Split(bn);
        state.Select(e => e.Path).Should().Equal("mean", "var", "scale");
        Nnx.State(new BatchNorm(3, new Rngs(0)), Filter.Of<BatchStat>()).Select(e => e.Path).Should().Equal("mean", "var");
        var (_, lin) = Nnx.Split(new Linear(2, 3, new Rngs(0)));
        lin.Select(e => e.Path).Should().Equal("kernel", "bias");
    }

    [TestMethod]
    public void AChannelsFirstAxisNormalisesPerChannel()
    {
        var x = Prng.Normal(Prng.Key(3), [4, 3, 2, 2]) * 5 + 1;
        var first = new BatchNorm(3, new Rngs(0), axis: 1).Call(x);
        var last = new BatchNorm(3, new Rngs(0)).Call(x.Transpose(0, 2, 3, 1)).Transpose(0, 3, 1, 2);
        var (a, b) = (first.ToArray<float>(), last.ToArray<float>());
        for (var i = 0; i < a.Length; i++) a[i].Should().BeApproximately(b[i], 1e-5f);
    }
}
