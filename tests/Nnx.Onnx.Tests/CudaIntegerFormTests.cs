using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// The CUDA form of the integer reductions, matrix products and padding (<c>CudaInts</c>), run on the CPU
/// provider, on operands built to break an inexact form: values that float32 or float64 cannot tell apart
/// (2^24 + 1, 2^53 + 1, int64 values that differ only in the low half), the dtypes' extremes, sums and products
/// that wrap, many ties (the first maximum must win), and contractions long enough to switch to narrower chunks.
/// </summary>
[TestClass]
public sealed class CudaIntegerFormTests
{
    private static readonly DType[] Integers = [DType.Int32, DType.Int64, DType.UInt32, DType.UInt64];

    [TestMethod]
    public void ExtremaAndArgMaxOfHardIntegersAreExactAndTheFirstMaximumWins()
    {
        var rng = new Random(15);
        var cases = new List<PrimitiveCase>();
        foreach (var t in Integers)
            for (var draw = 0; draw < 4; draw++)
            {
                cases.Add(Row(new ArgMax(1, false), Hard(rng, t, Shape.Of(6, 9))));
                cases.Add(Row(new ArgMax(0, true), Hard(rng, t, Shape.Of(7, 5))));
                cases.Add(Row(new ArgMax(1, false), Hard(rng, t, Shape.Of(3, 8, 4))));
                foreach (var (axes, keep) in new[] { (new[] { 1 }, false), ([0, 2], true), ([0, 1, 2], false) })
                {
                    cases.Add(Row(new ReduceMax(Ints.Of(axes), keep), Hard(rng, t, Shape.Of(4, 6, 3))));
                    cases.Add(Row(new ReduceMin(Ints.Of(axes), keep), Hard(rng, t, Shape.Of(4, 6, 3))));
                }
            }
        // Ties by construction: the maximum at positions 2 and 5 (the first must win), and a row of one value.
        foreach (var t in Integers)
        {
            var (max, below) = (Max(t), Max(t) - 1);
            cases.Add(Row(new ArgMax(0, false), Of(t, [below, 0, max, below, 1, max, max - 2])));
            cases.Add(Row(new ArgMax(0, false), Of(t, [max, max, max])));
            cases.Add(Row(new ArgMax(0, false), Of(t, [Min(t), Min(t) + 1, Min(t)])));
        }
        CudaLoweringTests.MismatchesOfTheCudaForm(cases).Should().BeEmpty();
        CudaLoweringTests.MissingKernels(cases).Should().BeEmpty();
    }

    [TestMethod]
    public void SumsAndMatrixProductsOfIntegersWrapExactly()
    {
        var rng = new Random(1515);
        var cases = new List<PrimitiveCase>();
        foreach (var t in Integers)
            for (var draw = 0; draw < 3; draw++)
            {
                cases.Add(Row(new ReduceSum(Ints.Of(1), false), Hard(rng, t, Shape.Of(5, 12))));
                cases.Add(Row(new ReduceSum(Ints.Of(0, 2), true), Hard(rng, t, Shape.Of(4, 3, 5))));
                cases.Add(Row(new MatMul(), Hard(rng, t, Shape.Of(3, 7)), Hard(rng, t, Shape.Of(7, 4))));
                cases.Add(Row(new MatMul(), Hard(rng, t, Shape.Of(2, 3, 5)), Hard(rng, t, Shape.Of(5, 2))));
            }
        // Wrap-around: max + 1 is min (or 0), and products past the width keep their low bits.
        foreach (var t in Integers)
        {
            cases.Add(Row(new ReduceSum(Ints.Of(0), false), Of(t, [Max(t), 1, Max(t), Max(t)])));
            cases.Add(Row(new MatMul(), Of(t, [Max(t), Min(t), Max(t) - 1, 3], Shape.Of(2, 2)), Of(t, [Max(t), 2, Min(t), Max(t)], Shape.Of(2, 2))));
        }
        CudaLoweringTests.MismatchesOfTheCudaForm(cases).Should().BeEmpty();
        CudaLoweringTests.MissingKernels(cases).Should().BeEmpty();
    }

    [TestMethod]
    public void LongSumsAndContractionsUseNarrowerChunksAndStayExact()
    {
        // Past 2^21 terms a float64 sum of 32-bit (sums) or of 16-bit × 16-bit (products) chunks could pass 2^53.
        const int n = (1 << 21) + 3;
        var rng = new Random(7);
        PrimitiveCase[] cases =
        [
            Row(new ReduceSum(Ints.Of(1), false), Full(rng, DType.UInt64, Shape.Of(1, n))),
            Row(new ReduceSum(Ints.Of(0), false), Full(rng, DType.Int64, Shape.Of(n))),
            Row(new MatMul(), Full(rng, DType.UInt64, Shape.Of(1, n)), Full(rng, DType.UInt64, Shape.Of(n, 2))),
            Row(new MatMul(), Full(rng, DType.Int32, Shape.Of(2, n)), Full(rng, DType.Int32, Shape.Of(n, 1))),
        ];
        CudaLoweringTests.MismatchesOfTheCudaForm(cases).Should().BeEmpty();
        var product = OnnxLowering.ToModel(Graph.Trace((a, b) => a.MatMul(b), new Aval(Shape.Of(1, n), DType.UInt64), new Aval(Shape.Of(n, 2), DType.UInt64)), target: OnnxTarget.Cuda);
        product.Graph.Node.Count(node => node.OpType == "MatMul").Should().Be(36, "8-bit chunks: the 36 pairs (i, j) with 8(i + j) < 64");
    }

    [TestMethod]
    public void PaddingIntegersConcatenatesBlocksOfZeros()
    {
        var rng = new Random(151515);
        var cases = new List<PrimitiveCase>();
        foreach (var t in Integers)
        {
            cases.Add(Row(new Pad(Ints.Of(1, 0, 2), Ints.Of(0, 3, 1)), Hard(rng, t, Shape.Of(2, 3, 2))));
            cases.Add(Row(new Pad(Ints.Of(0, 2), Ints.Of(1, 0)), Hard(rng, t, Shape.Of(0, 2))));
            cases.Add(Row(new Pad(Ints.Of(4), Ints.Of(0)), Hard(rng, t, Shape.Of(3))));
        }
        CudaLoweringTests.MismatchesOfTheCudaForm(cases).Should().BeEmpty();
        CudaLoweringTests.MissingKernels(cases).Should().BeEmpty();
        var model = OnnxLowering.ToModel(CudaLoweringTests.OneNode(cases[0]), target: OnnxTarget.Cuda);
        model.Graph.Node.Select(node => node.OpType).Should().NotContain("Pad").And.Contain("Concat");
    }

    [TestMethod]
    public void TheCpuKeepsItsIntegerFormAndOnlyTheCudaFormAvoidsTheMissingKernels()
    {
        var x = new Aval(Shape.Of(3, 4), DType.Int64);
        var graph = Graph.Trace(a => [a[0].MatMul(a[1].SwapLastAxes()), a[0].ArgMax(1), a[0].Max([1]), a[0].Sum([0]), new Pad(Ints.Of(1, 0), Ints.Of(0, 2)).Bind(a[0])], x, x);
        var cpu = OnnxLowering.ToModel(graph);
        cpu.Graph.Node.Select(node => node.OpType).Should().Contain(["MatMul", "ArgMax", "Pad"]);
        OnnxOpCensus.MissingOnCuda(cpu).Select(u => u.ToString()).Should().Contain(["MatMul(i64)", "ArgMax(i64)", "Pad(i64)"]);
        var cuda = OnnxLowering.ToModel(graph, target: OnnxTarget.Cuda);
        cuda.Graph.Node.Select(node => node.OpType).Should().NotContain(["ArgMax", "Pad"]);
        OnnxOpCensus.MissingOnCuda(cuda).Should().BeEmpty();
    }

    private static PrimitiveCase Row(Primitive op, params HostArray[] inputs) => new(op, inputs);

    /// <summary>Values from a small pool of hard cases for the dtype, so that equal values (ties) are common.</summary>
    private static HostArray Hard(Random rng, DType t, Shape s)
    {
        var pool = Pool(t);
        return Of(t, [.. Enumerable.Range(0, s.Size).Select(_ => pool[rng.Next(pool.Length)])], s);
    }

    /// <summary>Uniform values over the whole width.</summary>
    private static HostArray Full(Random rng, DType t, Shape s) =>
        Of(t, [.. Enumerable.Range(0, s.Size).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63))], s);

    /// <summary>
    /// The extremes and their neighbours, 2^24 ± 1 (float32 rounds them), and for 64 bits 2^53 + 1, values with one
    /// high half and different low halves (signed: also negative ones), and a low half with its top bit set.
    /// </summary>
    private static ulong[] Pool(DType t)
    {
        ulong[] common = [0, 1, Max(t), Max(t) - 1, Min(t), Min(t) + 1, (1UL << 24) + 1, 1UL << 24, unchecked(0UL - (1UL << 24) - 1)];
        if (CudaBits.Width(t) == 32) return common;
        return [.. common, (1UL << 53) + 1, 1UL << 53, (5UL << 32) + 7, (5UL << 32) + 0x8000_0000, (5UL << 32) + 6,
            unchecked(0UL - (5UL << 32) - 7), unchecked(0UL - (5UL << 32) + 3)];
    }

    private static ulong Max(DType t) => t switch
    {
        DType.Int32 => int.MaxValue, DType.UInt32 => uint.MaxValue, DType.Int64 => long.MaxValue, _ => ulong.MaxValue,
    };

    private static ulong Min(DType t) => t switch
    {
        DType.Int32 => unchecked((ulong)int.MinValue), DType.Int64 => unchecked((ulong)long.MinValue), _ => 0,
    };

    /// <summary>A 1-D (or shaped) array of dtype <paramref name="t"/> from bit patterns (wrapped to the width).</summary>
    private static HostArray Of(DType t, ulong[] bits, Shape? shape = null) =>
        new Cast(t).Eval([HostArray.Create(bits, shape ?? Shape.Of(bits.Length))]);
}
