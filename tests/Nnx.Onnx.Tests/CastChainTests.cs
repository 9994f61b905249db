using System.Collections.Immutable;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// Two Casts in a row, A → B → C, over every triple of Nnx's dtypes, in one ONNX graph: ONNX Runtime's
/// RemoveDuplicateCastTransformer (run on every session, whatever the optimization level) may drop the first Cast
/// and convert A → C directly, which is not the same function when B loses something C would have kept
/// (f64 → u64 → u32 wraps 5e9 to 705032704; the direct f64 → u32 Cast gives 0). The chain must equal the
/// reference evaluator element for element, bit for bit.
/// </summary>
[TestClass]
public sealed class CastChainTests
{
    private static readonly DType[] All =
        [DType.Float32, DType.Float64, DType.Float16, DType.Int32, DType.Int64, DType.UInt32, DType.UInt64, DType.Bool];

    [TestMethod]
    public void AJittedFloat64ToUInt64ToUInt32ChainWrapsAsTheReferenceDoes()
    {
        var f = Jit.Pure((Tensor x) => x.Cast(DType.UInt64).Cast(DType.UInt32));
        var x = Tensor.FromArray([5e9, 1.0, 4294967295.0, 4294967296.0, 3.7, 1e19]);
        // 5e9 mod 2^32 = 705032704; 1e19 mod 2^32 = 2313682944.
        uint[] expected = [705032704u, 1u, 4294967295u, 0u, 3u, 2313682944u];
        f(x).ToArray<uint>().Should().Equal(expected);
        x.Cast(DType.UInt64).Cast(DType.UInt32).ToArray<uint>().Should().Equal(expected, "eagerly too");
        var reference = ReferenceBackend.Evaluate(ChainGraph(DType.Float64, DType.UInt64, DType.UInt32, 6),
            [HostArray.Create([5e9, 1.0, 4294967295.0, 4294967296.0, 3.7, 1e19], Shape.Of(6))])[0];
        Enumerable.Range(0, 6).Select(k => (uint)reference.GetULong(k)).Should().Equal(expected);
    }

    [TestMethod]
    public void EveryTwoCastChainOnTheCpuLoweringEqualsTheReference()
    {
        var failures = Mismatches(OrtBackend.Cpu);
        Console.WriteLine(string.Join("\n", failures));
        failures.Should().BeEmpty();
    }

    [TestMethod]
    public void EveryTwoCastChainOnTheCudaLoweringEqualsTheReference() =>
        Mismatches(OrtBackend.CpuWithCudaLowering).Should().BeEmpty();

    [TestMethod]
    public void TheCudaFormOfEveryChainUsesOnlyOperatorsWithCudaKernels()
    {
        var missing = new List<string>();
        foreach (var (a, b, c) in Triples())
            foreach (var use in OnnxOpCensus.MissingOnCuda(OnnxLowering.ToModel(ChainGraph(a, b, c, 3), target: OnnxTarget.Cuda)))
                missing.Add($"{a}->{b}->{c}: {use}");
        missing.Should().BeEmpty();
    }

    [TestMethod]
    public void OnlyChainsThatAMergeWouldChangeGetANoOpBetweenTheirCasts()
    {
        // int32 -> int64 -> uint32 (the wrap mod 2^32 is the same with or without int64), float32 -> float64 ->
        // int32 (float64 holds every float32), bool -> float32 -> int64: merged or not, the same function.
        // float32 -> int32 -> float32 (truncation) is not, but ONNX Runtime's guard keeps both Casts of it.
        OpTypes(DType.Int32, DType.Int64, DType.UInt32).Should().Equal("Cast", "Cast");
        OpTypes(DType.Float32, DType.Float64, DType.Int32).Should().Equal("Cast", "Cast");
        OpTypes(DType.Bool, DType.Float32, DType.Int64).Should().Equal("Cast", "Cast");
        OpTypes(DType.Float32, DType.Int32, DType.Float32).Should().Equal("Cast", "Cast");
        OpTypes(DType.Float64, DType.UInt64, DType.UInt32).Should().Equal("Cast", "Max", "Cast");
        OpTypes(DType.Int64, DType.Int32, DType.Bool).Should().Equal("Cast", "Max", "Cast");
        OpTypes(DType.Int64, DType.Bool, DType.Float32).Should().Equal("Cast", "Cast");
        var barriers = Triples().Count(t => OpTypes(t.A, t.B, t.C).Length > 2);
        Console.WriteLine($"{barriers} of {Triples().Count()} two-Cast chains get a no-op between their Casts");
        barriers.Should().BeLessThan(Triples().Count() / 4);
    }

    private static string[] OpTypes(DType a, DType b, DType c) =>
        [.. OnnxLowering.ToModel(ChainGraph(a, b, c, 3)).Graph.Node.Select(n => n.OpType)];

    private static IEnumerable<(DType A, DType B, DType C)> Triples() =>
        from a in All from b in All where b != a from c in All where c != b select (a, b, c);

    /// <summary>
    /// Each triple on <paramref name="backend"/>, compared with the reference on the elements where each Cast on its
    /// own agrees with the reference (a single float → int Cast out of the target's range is another matter: the
    /// conformance table keeps floats in range). Every triple has such elements (0 and 1 at least).
    /// </summary>
    private static List<string> Mismatches(OrtBackend backend)
    {
        var failures = new List<string>();
        foreach (var (a, b, c) in Triples())
        {
            var x = Edges(a);
            var first = Run(backend, new Cast(b), x);
            var refFirst = new Cast(b).Eval([x]);
            var second = Run(backend, new Cast(c), refFirst);
            var refSecond = new Cast(c).Eval([refFirst]);
            var chain = Run(backend, ChainGraph(a, b, c, x.Size), x);
            var expected = ReferenceBackend.Evaluate(ChainGraph(a, b, c, x.Size), [x])[0];
            var (compared, bad, example) = (0, 0, "");
            for (var k = 0; k < x.Size; k++)
            {
                if (!Same(first, refFirst, k) || !Same(second, refSecond, k)) continue;
                compared++;
                if (Same(chain, expected, k)) continue;
                if (bad++ == 0) example = $"{x.FormatElement(k)} gave {chain.FormatElement(k)}, expected {expected.FormatElement(k)}";
            }
            if (bad > 0) failures.Add($"{a}->{b}->{c}: {bad} of {compared} elements differ, e.g. {example}");
            if (compared < 2) failures.Add($"{a}->{b}->{c}: only {compared} elements where each Cast alone agrees");
        }
        return failures;
    }

    private static bool Same(HostArray x, HostArray y, int k) => x.DType.IsFloat()
        ? BitConverter.DoubleToInt64Bits(x.GetDouble(k)) == BitConverter.DoubleToInt64Bits(y.GetDouble(k))
            || (double.IsNaN(x.GetDouble(k)) && double.IsNaN(y.GetDouble(k)))
        : x.GetULong(k) == y.GetULong(k);

    private static Graph ChainGraph(DType a, DType b, DType c, int n)
    {
        var input = new Value(new Aval(Shape.Of(n), a));
        var first = Node.Create(new Cast(b), [input]);
        var second = Node.Create(new Cast(c), [first.Output]);
        return new Graph([input], [first, second], [second.Output]);
    }

    private static HostArray Run(OrtBackend backend, Primitive op, HostArray x)
    {
        var input = new Value(x.Aval);
        var node = Node.Create(op, [input]);
        return Run(backend, new Graph([input], [node], [node.Output]), x);
    }

    /// <summary>Compiles <paramref name="graph"/> (one input, one output) on <paramref name="backend"/> and runs it on <paramref name="x"/>.</summary>
    internal static HostArray Run(OrtBackend backend, Graph graph, HostArray x) => RunAll(backend, graph, x)[0];

    /// <summary>Compiles <paramref name="graph"/> (one input) on <paramref name="backend"/>, runs it on <paramref name="x"/> and returns every output.</summary>
    internal static HostArray[] RunAll(OrtBackend backend, Graph graph, HostArray x)
    {
        using var exe = backend.Compile(graph);
        using var buffer = backend.Upload(x);
        var outputs = exe.Run([buffer]);
        try
        {
            return [.. outputs.Select(backend.Download)];
        }
        finally
        {
            foreach (var o in outputs) o.Dispose();
        }
    }

    /// <summary>
    /// Hard values of dtype <paramref name="t"/>: the type's extremes, values past 2^31, 2^32 and 2^53, negatives,
    /// fractions, values that round twice differently (int64 2^62 + 2^38 + 2^8 through float64 to float32; float64
    /// 1 + 2^-11 + 2^-30 through float32 to float16), underflows (1e-50 is 0 in float32), NaN and infinities.
    /// </summary>
    private static HostArray Edges(DType t)
    {
        if (t == DType.Bool) return HostArray.FromLongs(t, Shape.Of(4), [0, 1, 1, 0]);
        if (t.IsFloat())
        {
            double[] v =
            [
                0, -0.0, 1, -1, 0.5, -0.5, 1.5, -2.75, 100.9, -100.9, 255, 65504, 65520, 70000, -70000, 2147483647, 2147483648,
                -2147483648, -2147483649, 4294967295, 4294967296, 5e9, -5e9, 16777217, 9007199254740993, 9.2233720368547758e18,
                -9.2233720368547758e18, 1e19, 1.8446744073709552e19, 1e30, 1e39, -1e39, 1e-50, -1e-50, 1e-8, 3e-5,
                1 + Math.Pow(2, -11) + Math.Pow(2, -30), 1 + Math.Pow(2, -11) + Math.Pow(2, -20), double.MaxValue, double.MinValue,
                double.Epsilon, float.MaxValue, float.MinValue, double.NaN, double.PositiveInfinity, double.NegativeInfinity,
            ];
            return HostArray.FromDoubles(t, Shape.Of(v.Length), v);
        }
        long[] s =
        [
            0, 1, -1, 2, 127, 255, 256, 65504, 65505, 70000, 16777217, -16777217, int.MaxValue, int.MinValue, 1L << 31, 1L << 32,
            (1L << 32) + 5, -(1L << 32) - 5, 5_000_000_000, (1L << 53) + 1, (1L << 62) + (1L << 38) + (1L << 8), long.MaxValue,
            long.MinValue, long.MinValue + 1,
        ];
        var u = HostArray.FromLongs(DType.Int64, Shape.Of(s.Length), s);
        return t == DType.UInt64
            ? HostArray.FromULongs(t, Shape.Of(s.Length + 2), [.. Enumerable.Range(0, s.Length).Select(u.GetULong), ulong.MaxValue, 1UL << 63])
            : new Cast(t).Eval([u]);
    }
}
