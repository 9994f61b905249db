using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// Eager float32 elementwise calls, small products, sums over leading axes and small transposes on the CPU run Nnx's
/// kernels on the calling thread instead of a one-node session (<see cref="ElementwiseExecutable"/>,
/// <see cref="MatMulExecutable"/>, <see cref="ColumnSumsExecutable"/>, <see cref="TransposeExecutable"/>): which calls
/// do, and that they give a session's bits, special values, broadcasts and blocks included.
/// </summary>
[TestClass]
public sealed class EagerKernelTests
{
    private static Executable? Kernel(Graph graph) => ((IEagerKernels)OrtBackend.Cpu).CompileKernel(graph);

    private static Aval F32(params int[] dims) => Aval.F32(dims);

    [TestMethod]
    public void FloatElementwiseCallsGetTheKernelAndOthersASession()
    {
        if (!OrtNative.Available) return; // no ORT handles reached: every call goes through a session
        Graph[] kernel =
        [
            Graph.Trace((x, y) => x + y, F32(32), F32(32)),
            Graph.Trace((x, y) => x * y, F32(32), new Aval(Shape.Of(), DType.Float32)),
            Graph.Trace((x, b) => x - b, F32(4, 8), F32(8)),
            Graph.Trace((x, c) => x / c, F32(4, 8), F32(4, 1)),
            Graph.Trace(x => x.Relu(), F32(3, 5)),
            Graph.Trace(x => -x, F32(3, 5)),
            Graph.Trace(x => x.Sqrt(), F32(3, 5)),
            Graph.Trace(x => x.Rsqrt(), F32(3, 5)), // lowered as Sqrt, Reciprocal: one program of two instructions
        ];
        foreach (var g in kernel) Kernel(g).Should().BeOfType<ElementwiseExecutable>("{0} is float32 instructions only", g.Nodes[0].Op);

        Graph[] session =
        [
            Graph.Trace((x, y) => x + y, new Aval(Shape.Of(32), DType.Int64), new Aval(Shape.Of(32), DType.Int64)),
            Graph.Trace((x, y) => x + y, new Aval(Shape.Of(32), DType.Float64), new Aval(Shape.Of(32), DType.Float64)),
            Graph.Trace((x, y) => x * y, F32(4, 8, 16), F32(4, 1, 16)), // no layout of the kernel
            Graph.Trace(x => x.Exp(), F32(8)),
        ];
        foreach (var g in session) Kernel(g).Should().BeNull("{0} on {1} is not the kernel's instructions", g.Nodes[0].Op, g.Inputs[0].Aval);

        NoKernelOnTwoThreads(kernel[0], "add");
    }

    [TestMethod]
    public void SmallFloatMatrixProductsGetTheKernelAndOthersASession()
    {
        if (!OrtNative.Available || !System.Runtime.Intrinsics.X86.Fma.IsSupported) return; // the products keep their session
        Graph[] kernel =
        [
            Graph.Trace((x, y) => x.MatMul(y), F32(32, 32), F32(32, 32)),
            Graph.Trace((x, y) => x.MatMul(y), F32(2, 5), F32(5, 3)),
            Graph.Trace((x, y) => x.MatMul(y), F32(64, 64), F32(64, 64)), // MaxProducts
            Graph.Trace((x, y) => x.MatMul(y), F32(2, 128), F32(128, 9)), // MaxSteps
            Graph.Trace(x => x.MatMul(x), F32(16, 16)),
        ];
        foreach (var g in kernel) Kernel(g).Should().BeOfType<MatMulExecutable>("{0} · {1} is a small float32 product", g.Nodes[0].Inputs[0].Aval, g.Nodes[0].Inputs[1].Aval);

        Graph[] session =
        [
            Graph.Trace((x, y) => x.MatMul(y), F32(1, 32), F32(32, 32)), // one row: MLAS's matrix-vector kernel
            Graph.Trace((x, y) => x.MatMul(y), F32(32, 32), F32(32, 1)), // one column: the same
            Graph.Trace((x, y) => x.MatMul(y), F32(4, 129), F32(129, 4)), // MLAS may cut k in blocks
            Graph.Trace((x, y) => x.MatMul(y), F32(65, 64), F32(64, 64)), // over MaxProducts
            Graph.Trace((x, y) => x.MatMul(y), new Aval(Shape.Of(8, 8), DType.Float64), new Aval(Shape.Of(8, 8), DType.Float64)),
            Graph.Trace((x, y) => x.MatMul(y), F32(2, 8, 8), F32(2, 8, 8)), // batched
            Graph.Trace((x, y) => x.MatMul(y) + y, F32(8, 8), F32(8, 8)), // two primitives
        ];
        foreach (var g in session) Kernel(g).Should().BeNull("{0} · {1} keeps its session", g.Nodes[0].Inputs[0].Aval, g.Nodes[0].Inputs[1].Aval);

        NoKernelOnTwoThreads(kernel[0], "product");
    }

    [TestMethod]
    public void SumsOverLeadingAxesGetTheColumnKernelWithTheBitsOfTheirSession()
    {
        if (!OrtNative.Available || !CpuKernels.Available) return; // the sums keep their session
        Graph[] kernel =
        [
            Graph.Trace(x => x.Sum(0), F32(32, 32)),
            Graph.Trace(x => x.Sum(0, keepDims: true), F32(32, 7)),
            Graph.Trace(x => x.Sum(0), F32(32, 513)),
            Graph.Trace(x => x.Sum([0, 1]), F32(4, 5, 6)),
            Graph.Trace(x => x.Sum([0, 1], keepDims: true), F32(3, 9, 17)),
        ];
        foreach (var g in kernel) Kernel(g).Should().BeOfType<ColumnSumsExecutable>("{0} of {1} is a sum over leading axes", g.Nodes[0].Op, g.Inputs[0].Aval);
        Graph[] session =
        [
            Graph.Trace(x => x.Sum(1), F32(32, 32)), // the last axis: ONNX Runtime's ReduceSum
            Graph.Trace(x => x.Sum(0), new Aval(Shape.Of(8, 8), DType.Int64)),
            Graph.Trace(x => x.Sum(0) * 2.0, F32(8, 8)), // two primitives
        ];
        foreach (var g in session) Kernel(g).Should().BeNull("{0} of {1} keeps its session", g.Nodes[0].Op, g.Inputs[0].Aval);
        var seed = 70;
        foreach (var g in kernel)
            foreach (var hard in new[] { false, true })
                AssertSameBits(g, [ElementwiseFusionTests.Values(g.Inputs[0].Aval, seed++, hard)], $"{g.Nodes[0].Op} of {g.Inputs[0].Aval}{(hard ? " with special values" : "")}");
        NoKernelOnTwoThreads(kernel[2], "sum");

        // float64 too, with the kernel's own loop.
        var d = Tensor.FromArray(Enumerable.Range(0, 96).Select(i => 1.0 / (i + 1)).ToArray(), 12, 8);
        var expected = Enumerable.Range(0, 8).Select(c => Enumerable.Range(0, 12).Aggregate(0.0, (acc, r) => acc + 1.0 / (r * 8 + c + 1))).ToArray();
        d.Sum(0).ToArray<double>().Should().Equal(expected);
    }

    [TestMethod]
    public void SmallMatrixTransposesAreCopiedOnTheCallingThreadWithTheSessionsBits()
    {
        if (!OrtNative.Available || !System.Runtime.Intrinsics.X86.Avx.IsSupported) return; // the transposes keep their session
        // Whole 8 × 8 blocks, cut ones at either edge, a row, a column, and the largest taken.
        Graph[] kernel = [.. new[] { (1, 1), (3, 5), (8, 8), (17, 9), (9, 17), (1, 40), (40, 1), (32, 32), (256, 256) }
            .Select(s => Graph.Trace(x => x.SwapLastAxes(), F32(s.Item1, s.Item2)))];
        foreach (var g in kernel) Kernel(g).Should().BeOfType<TransposeExecutable>("{0} is a small float32 matrix", g.Inputs[0].Aval);
        Graph[] session =
        [
            Graph.Trace(x => x.SwapLastAxes(), F32(257, 256)), // over MaxElements
            Graph.Trace(x => x.SwapLastAxes(), new Aval(Shape.Of(8, 8), DType.Float64)),
            Graph.Trace(x => x.SwapLastAxes(), F32(2, 3, 4)),
            Graph.Trace(x => x.Transpose([1, 0]) * 2.0, F32(8, 8)), // two primitives
        ];
        foreach (var g in session) Kernel(g).Should().BeNull("{0} keeps its session", g.Inputs[0].Aval);
        var seed = 90;
        foreach (var g in kernel) AssertSameBits(g, [ElementwiseFusionTests.Values(g.Inputs[0].Aval, seed++, hard: true)], $"transpose of {g.Inputs[0].Aval}");
        NoKernelOnTwoThreads(kernel[7], "transpose");
    }

    /// <summary>Products at sizes that cut the kernel's 4 rows and 16 or 8 columns, with NaN, ±∞, ±0 and subnormals among the values.</summary>
    [TestMethod]
    public void SmallMatrixProductsGiveTheBitsOfTheirSession()
    {
        if (!OrtNative.Available || !System.Runtime.Intrinsics.X86.Fma.IsSupported) return;
        (int M, int K, int N)[] shapes =
        [
            (2, 1, 2), (2, 128, 2), (4, 16, 16), (5, 7, 3), (7, 33, 25), (13, 128, 19), (64, 64, 64), (9, 100, 47), (3, 0, 5), (6, 32, 200),
            (4, 128, 160), (3, 100, 128), // n ≥ k: MLAS's block along k stays 128
        ];
        var seed = 40;
        foreach (var (m, k, n) in shapes)
        {
            var (x, y) = (F32(m, k), F32(k, n));
            foreach (var hard in new[] { false, true })
            {
                var (hx, hy) = (ElementwiseFusionTests.Values(x, seed++, hard), ElementwiseFusionTests.Values(y, seed++, hard));
                AssertSameBits(Graph.Trace((a, b) => a.MatMul(b), x, y), [hx, hy], $"[{m},{k}]·[{k},{n}]{(hard ? " with special values" : "")}");
            }
        }
        var square = ElementwiseFusionTests.Values(F32(24, 24), seed, hard: false);
        AssertSameBits(Graph.Trace(a => a.MatMul(a), F32(24, 24)), [square], "a·a");
    }

    /// <summary>Each operation, on values with NaN, ±∞, ±0 and subnormals, at sizes that cut vectors, chunks and blocks.</summary>
    [TestMethod]
    public void EveryOperationGivesTheBitsOfItsSession()
    {
        if (!OrtNative.Available) return;
        Func<Tensor, Tensor, Tensor>[] binary = [(a, b) => a + b, (a, b) => a - b, (a, b) => a * b, (a, b) => a / b];
        // (Reciprocal is 1 / x: a division by a scalar operand, below.)
        Func<Tensor, Tensor>[] unary = [a => -a, a => a.Abs(), a => a.Sqrt(), a => a.Relu(), a => a.Rsqrt()];
        // The second operand as the whole result, a row, a column, a scalar; one result over 65 536 elements (several blocks).
        (Shape X, Shape Y)[] layouts =
        [
            (Shape.Of(7), Shape.Of(7)), (Shape.Of(3, 1001), Shape.Of(1001)), (Shape.Of(3, 1001), Shape.Of(3, 1)),
            (Shape.Of(2, 3, 5), Shape.Of()), (Shape.Of(5, 20000), Shape.Of(5, 20000)),
        ];
        var seed = 10;
        foreach (var (xs, ys) in layouts)
        {
            var (x, y) = (new Aval(xs, DType.Float32), new Aval(ys, DType.Float32));
            var (hx, hy) = (ElementwiseFusionTests.Values(x, seed++, hard: true), ElementwiseFusionTests.Values(y, seed++, hard: true));
            for (var k = 0; k < binary.Length; k++)
            {
                var op = binary[k];
                AssertSameBits(Graph.Trace((a, b) => op(a, b), x, y), [hx, hy], $"binary {k} on {xs} and {ys}");
                AssertSameBits(Graph.Trace((a, b) => op(b, a), y, x), [hy, hx], $"binary {k} on {ys} and {xs}");
            }
            for (var k = 0; k < unary.Length; k++)
            {
                var op = unary[k];
                AssertSameBits(Graph.Trace(a => op(a), x), [hx], $"unary {k} on {xs}");
            }
        }
    }

    [TestMethod]
    public void TensorsComputeThroughTheKernelAndABadBufferIsRejectedByName()
    {
        var x = Tensor.FromArray([1f, -2f, 3f, -4f, 5f, -6f], 2, 3);
        var b = Tensor.FromArray([0.5f, 1f, -1f]);
        ((x + b) * 2.0).Relu().ToArray<float>().Should().Equal(3f, 0f, 4f, 0f, 12f, 0f);
        (x / Tensor.FromArray([2f, -1f], 2, 1)).ToArray<float>().Should().Equal(0.5f, -1f, 1.5f, 4f, -5f, 6f);
        (x - x).ToArray<float>().Should().Equal(new float[6]);

        if (!OrtNative.Available) return;
        using var exe = Kernel(Graph.Trace((p, q) => p + q, F32(2, 3), F32(2, 3)))!;
        var wrong = () => exe.Run([x.DeviceBuffer, b.DeviceBuffer]);
        wrong.Should().Throw<ArgumentException>().WithMessage("*input 1 is f32[3]*compiled for f32[2,3]*");
        var into = OrtBackend.Cpu.Allocate(F32(2, 3));
        exe.RunInto([x.DeviceBuffer, x.DeviceBuffer], [into]);
        new Tensor(into).ToArray<float>().Should().Equal(2f, -4f, 6f, -8f, 10f, -12f);
        var badOutput = () => exe.RunInto([x.DeviceBuffer, x.DeviceBuffer], [b.DeviceBuffer]);
        badOutput.Should().Throw<ArgumentException>().WithMessage("*output 0 is f32[2,3]*buffer is f32[3]*");
    }

    /// <summary>A kernel runs on the calling thread: a graph compiled while the CPU is set to two threads keeps its session.</summary>
    private static void NoKernelOnTwoThreads(Graph graph, string what)
    {
        try
        {
            Device.Cpu.IntraOpThreads = 2;
            Kernel(graph).Should().BeNull("the kernel runs on the calling thread: a session set to two threads keeps its {0}", what);
        }
        finally
        {
            Device.Cpu.IntraOpThreads = null;
        }
    }

    /// <summary>The kernel's result of <paramref name="graph"/> against the session's, bit for bit, through Run and RunInto.</summary>
    private static void AssertSameBits(Graph graph, HostArray[] inputs, string what)
    {
        using var kernel = Kernel(graph) ?? throw new AssertFailedException($"{what}: no kernel");
        using var session = OrtBackend.Cpu.Compile(graph);
        session.Should().BeOfType<OrtExecutable>();
        var buffers = inputs.Select(OrtBackend.Cpu.Upload).ToArray();
        var expected = OrtBackend.Cpu.Download(session.Run(buffers)[0]).ToArray<float>();
        var viaRun = OrtBackend.Cpu.Download(kernel.Run(buffers)[0]).ToArray<float>();
        var into = OrtBackend.Cpu.Allocate(graph.Outputs[0].Aval);
        kernel.RunInto(buffers, [into]);
        var viaInto = OrtBackend.Cpu.Download(into).ToArray<float>();
        foreach (var actual in new[] { viaRun, viaInto })
        {
            actual.Length.Should().Be(expected.Length);
            for (var i = 0; i < expected.Length; i++)
                if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                    BitConverter.SingleToInt32Bits(actual[i]).Should().Be(BitConverter.SingleToInt32Bits(expected[i]),
                        "{0}: element {1} is {2} from the kernel and {3} from the session", what, i, actual[i], expected[i]);
        }
    }
}
