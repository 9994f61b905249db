using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;

namespace NnxSharp.Tests;

/// <summary>
/// Eager execution on ONNX Runtime (one cached one-node session per primitive and avals) gives what the
/// reference evaluator gives for the same function traced into a graph.
/// </summary>
[TestClass]
public sealed class EagerConformanceTests
{
    private static readonly Random Rng = new(7);

    private static HostArray Uniform(DType t, Shape s, double lo, double hi) =>
        new Primitives.Cast(t).Eval([HostArray.Create(Enumerable.Range(0, s.Size).Select(_ => lo + (hi - lo) * Rng.NextDouble()).ToArray(), s)]);

    private static HostArray Longs(DType t, params long[] v) => new Primitives.Cast(t).Eval([HostArray.Create(v, Shape.Of(v.Length))]);

    /// <summary>Runs <paramref name="f"/> eagerly and on the reference evaluator and compares the results.</summary>
    private static void AgreesWithReference(Func<Tensor[], Tensor> f, params HostArray[] inputs)
    {
        var eager = f([.. inputs.Select(Tensor.FromHost)]);
        eager.IsSymbolic.Should().BeFalse();
        var graph = Graph.Trace(a => [f(a)], [.. inputs.Select(x => x.Aval)]);
        var expected = ReferenceBackend.Evaluate(graph, inputs)[0];
        OrtConformanceTests.Compare(expected, eager.ToHost()).Should().BeNull($"eager and reference results of\n{graph}\nshould agree");
    }

    [TestMethod]
    public void AnMlpLayerWithASoftmax() => AgreesWithReference(a =>
    {
        var h = (a[0].MatMul(a[1]) + a[2]).Relu();
        var e = (h - h.Max(axis: 1, keepDims: true)).Exp();
        return e / e.Sum(axis: 1, keepDims: true);
    }, Uniform(DType.Float32, Shape.Of(8, 5), -1, 1), Uniform(DType.Float32, Shape.Of(5, 4), -1, 1), Uniform(DType.Float32, Shape.Of(4), -0.5, 0.5));

    [TestMethod]
    public void AMeanSquaredErrorWithTypePromotionInFloat64() => AgreesWithReference(a =>
    {
        var diff = a[0] - a[1].Cast(DType.Float64);
        return (diff * diff).Mean() + a[0].Tanh().Sum() * 1e-3 + a[0].Erf().Sum();
    }, Uniform(DType.Float64, Shape.Of(6, 3), -2, 2), Uniform(DType.Float32, Shape.Of(3), -2, 2));

    [TestMethod]
    public void AThreefryStyleRoundInUInt32() => AgreesWithReference(a =>
    {
        var x0 = a[0] + a[1];
        var x1 = (a[1] << 13) | (a[1] >> 19);
        return (x1 ^ x0) + Tensor.Arange(16, DType.UInt32);
    }, Longs(DType.UInt32, [.. Enumerable.Range(0, 16).Select(i => (long)Rng.NextInt64(0, 1L << 32))]), Longs(DType.UInt32, [.. Enumerable.Range(0, 16).Select(i => (long)Rng.NextInt64(0, 1L << 32))]));

    [TestMethod]
    public void Int64SelectionsNearTheHalfWidthAndIntegerDivision() => AgreesWithReference(a =>
    {
        var (x, y) = (a[0], a[1]);
        var spread = x.Maximum(y) - x.Minimum(y) + x.Max(axis: 0) + x.Relu() + x.Sign();
        return spread + x / (y - 3_000_000_000.0) + x.Sum();
    }, Longs(DType.Int64, 3_000_000_000, 5, 1L << 31, long.MinValue, 7, 1L << 40, (1L << 32) + 1, -1),
       Longs(DType.Int64, 5, 3_000_000_000, 1, 2_999_999_999, 3_000_000_000, 3, 1L << 32, 0));

    [TestMethod]
    public void ShapeOpsAndGather() => AgreesWithReference(a =>
    {
        var x = a[0];
        var joined = Tensor.Concat(1, x, x.Slice(1, 1, 3) * 2.0);
        var picked = joined.Transpose().Gather(a[1], axis: 0);
        return Tensor.Where(picked > 0.0, picked, picked.Abs() * 0.5).Mean(axis: 1);
    }, Uniform(DType.Float32, Shape.Of(3, 4), -1, 1), Longs(DType.Int64, 0, -1, 2, 2, 5));

    [TestMethod]
    public void EmptyTensorsRunWithoutASession() => AgreesWithReference(a => (a[0] + a[1]).Exp().Sum(axis: 0),
        HostArray.Zeros(DType.Float32, Shape.Of(0, 3)), Uniform(DType.Float32, Shape.Of(3), -1, 1));

    [TestMethod]
    public void TheEagerCacheDoesNotGrowWhenTheSameOpAndAvalsRunAgain()
    {
        Tensor Step(Tensor x, Tensor y) => (x * y + 0.5).Tanh();
        var (x, y) = (Tensor.FromHost(Uniform(DType.Float32, Shape.Of(7, 13), -1, 1)), Tensor.FromHost(Uniform(DType.Float32, Shape.Of(13), -1, 1)));
        Step(x, y);
        var cached = Eager.CacheCount;
        for (var i = 0; i < 5; i++)
            Step(Tensor.FromHost(Uniform(DType.Float32, Shape.Of(7, 13), -1, 1)), y);
        Eager.CacheCount.Should().Be(cached, "the same primitives on the same avals reuse their sessions");

        Step(Tensor.FromHost(Uniform(DType.Float32, Shape.Of(6, 13), -1, 1)), y);
        Eager.CacheCount.Should().BeGreaterThan(cached, "new avals compile new sessions");
    }
}
