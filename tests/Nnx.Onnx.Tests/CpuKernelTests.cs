using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// Nnx's own CPU kernels (<see cref="CpuKernels"/>, the <see cref="NnxCpuOps"/> operators): a large float
/// <c>Where(c, x, 0)</c>, a large bool → float <c>Cast</c>, Slice and Pad lower to them only in process on the CPU, and they give
/// the reference evaluator's bits (NaN, infinities, −0 and subnormals included) at every size and thread count.
/// </summary>
[TestClass]
public sealed class CpuKernelTests
{
    // Values whose bits a select must keep: NaN, ±∞, −0, the smallest float32 subnormal, ordinary numbers.
    private static readonly double[] Hard = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, 1.401298464324817e-45, 1.5, -2.25, 3e38];

    /// <summary>c [shape] bool, x [shape] of <paramref name="t"/> → Where(c, x, <paramref name="zero"/>).</summary>
    private static Graph Select(DType t, Shape shape, double zero = 0.0, Shape? maskShape = null)
    {
        var (c, x) = (new Value(new Aval(maskShape ?? shape, DType.Bool)), new Value(new Aval(shape, t)));
        var z = Node.Create(new Full(Shape.Of(), t, zero), []);
        var where = Node.Create(new Where(), [c, x, z.Output]);
        return new Graph([c, x], [z, where], [where.Output]);
    }

    /// <summary>c [shape] bool → c as <paramref name="t"/>.</summary>
    private static Graph ToFloat(DType t, Shape shape)
    {
        var c = new Value(new Aval(shape, DType.Bool));
        var cast = Node.Create(new Cast(t), [c]);
        return new Graph([c], [cast], [cast.Output]);
    }

    private static HostArray Mask(Shape shape, int seed)
    {
        var r = new Random(seed);
        return HostArray.FromLongs(DType.Bool, shape, [.. Enumerable.Range(0, shape.Size).Select(_ => r.Next(3) == 0 ? 0L : 1L)]);
    }

    private static HostArray Values(DType t, Shape shape, int seed)
    {
        var r = new Random(seed);
        return HostArray.FromDoubles(t, shape, [.. Enumerable.Range(0, shape.Size).Select(k => k < 64 || r.Next(8) == 0 ? Hard[r.Next(Hard.Length)] : r.NextDouble() * 4 - 2)]);
    }

    private static string[] Ops(Graph graph, bool inProcess) =>
        [.. OnnxLowering.ToModel(graph, inProcess: inProcess).Graph.Node.Select(n => n.Domain.Length > 0 ? $"{n.Domain}:{n.OpType}" : n.OpType)];

    private static HostArray Run(Graph graph, params HostArray[] inputs)
    {
        using var exe = OrtBackend.Cpu.Compile(graph);
        var buffers = inputs.Select(OrtBackend.Cpu.Upload).ToArray();
        var outputs = exe.Run(buffers);
        try
        {
            return OrtBackend.Cpu.Download(outputs[0]);
        }
        finally
        {
            foreach (var b in buffers.Concat(outputs)) b.Dispose();
        }
    }

    private static void SameBits(HostArray actual, HostArray expected, string because)
    {
        actual.Aval.Should().Be(expected.Aval, because);
        var (a, e) = (actual.ToDoubles(), expected.ToDoubles());
        for (var k = 0; k < a.Length; k++)
            if (BitConverter.DoubleToInt64Bits(a[k]) != BitConverter.DoubleToInt64Bits(e[k]))
                Assert.Fail($"{because}: element {k} is {a[k]:R} (bits {BitConverter.DoubleToInt64Bits(a[k]):X16}), expected {e[k]:R} (bits {BitConverter.DoubleToInt64Bits(e[k]):X16})");
    }

    private static void OnThreads(Action<int> check)
    {
        foreach (var threads in new[] { 1, 2 })
            try
            {
                Device.Cpu.IntraOpThreads = threads;
                check(threads);
            }
            finally
            {
                Device.Cpu.IntraOpThreads = null;
            }
    }

    [TestMethod]
    public void TheKernelsAreRegistered() => CpuKernels.Available.Should().BeTrue("ONNX Runtime's C API is reachable (OrtNative.Available)");

    [TestMethod]
    public void OnlyLargeInProcessCpuSelectsAndMasksUseTheKernels()
    {
        var large = Shape.Of(128, 256);
        var select = $"{NnxCpuOps.Domain}:{NnxCpuOps.SelectOrZero}";
        Ops(Select(DType.Float32, large), inProcess: true).Should().Equal(select);
        Ops(Select(DType.Float64, large), inProcess: true).Should().Equal(select);
        Ops(ToFloat(DType.Float32, large), inProcess: true).Should().Equal($"{NnxCpuOps.Domain}:{NnxCpuOps.BoolToFloat32}");
        Ops(ToFloat(DType.Float64, large), inProcess: true).Should().Equal($"{NnxCpuOps.Domain}:{NnxCpuOps.BoolToFloat64}");

        Ops(Select(DType.Float32, large), inProcess: false).Should().Equal(["Where"], "an exported file must load in any ONNX runtime");
        Ops(ToFloat(DType.Float32, large), inProcess: false).Should().Equal(["Cast"], "an exported file must load in any ONNX runtime");
        Ops(Select(DType.Float32, Shape.Of(8, 256)), inProcess: true).Should().Equal(["Where"], "a small select costs ONNX Runtime a few microseconds");
        Ops(Select(DType.Float32, large, maskShape: Shape.Of(1, 256)), inProcess: true).Should().Equal(["Where"], "the kernel does not broadcast");
        Ops(Select(DType.Float32, large, zero: -0.0), inProcess: true).Should().Equal(["Where"], "the kernel writes +0");
        Ops(Select(DType.Float32, large, zero: 1.0), inProcess: true).Should().Equal(["Where"], "the kernel writes only zeros");
        Ops(Select(DType.Int32, large), inProcess: true).Should().Equal(["Where"], "the kernel is for floats");
    }

    [TestMethod]
    public void SelectOrZeroGivesWhereBitsForEverySizeAndThreadCount()
    {
        // One block exactly (16 384), a tail that is not a multiple of the vector width, and 22 blocks.
        foreach (var shape in new[] { Shape.Of(16384), Shape.Of(3, 5463), Shape.Of(7, 100003) })
            foreach (var t in new[] { DType.Float32, DType.Float64 })
            {
                var graph = Select(t, shape);
                var inputs = new[] { Mask(shape, shape.Size), Values(t, shape, shape.Size + 1) };
                var expected = ReferenceBackend.Evaluate(graph, inputs)[0];
                OnThreads(threads => SameBits(Run(graph, inputs), expected, $"{t} {shape} on {threads} threads"));
            }
    }

    [TestMethod]
    public void BoolToFloatGivesCastBitsForEverySizeAndThreadCount()
    {
        foreach (var shape in new[] { Shape.Of(16384), Shape.Of(3, 5463), Shape.Of(7, 100003) })
            foreach (var t in new[] { DType.Float32, DType.Float64 })
            {
                var graph = ToFloat(t, shape);
                var mask = Mask(shape, shape.Size);
                var expected = ReferenceBackend.Evaluate(graph, [mask])[0];
                OnThreads(threads => SameBits(Run(graph, mask), expected, $"{t} {shape} on {threads} threads"));
            }
    }

    /// <summary>x → x[starts : ends].</summary>
    private static Graph SliceOf(Aval x, int[] starts, int[] ends)
    {
        var input = new Value(x);
        var slice = Node.Create(new Slice(new Ints(starts), new Ints(ends)), [input]);
        return new Graph([input], [slice], [slice.Output]);
    }

    [TestMethod]
    public void LargeInProcessSlicesUseTheKernel()
    {
        var x = Aval.F32(128, 16, 16, 32);
        var window = SliceOf(x, [0, 1, 2, 0], [128, 15, 16, 32]);
        Ops(window, inProcess: true).Should().Equal($"{NnxCpuOps.Domain}:{NnxCpuOps.Slice}");
        Ops(window, inProcess: false).Should().Equal(["Slice"], "an exported file must load in any ONNX runtime");
        Ops(SliceOf(x, [0, 0, 0, 0], [2, 16, 16, 1]), inProcess: true).Should().Equal(["Slice"], "a small block costs ONNX Runtime little");
    }

    [TestMethod]
    public void SliceGivesTheReferenceBlockForEveryLayoutDTypeAndThreadCount()
    {
        // (shape, starts, ends): per-offset conv windows, a partial innermost axis (runs of one element), a block of
        // whole rows (one run per outer index), a partial outermost axis only (one run), and a rank-1 slice.
        (int[] Shape, int[] Starts, int[] Ends)[] cases =
        [
            ([128, 16, 16, 32], [0, 1, 2, 0], [128, 15, 16, 32]),
            ([128, 30, 30, 1], [0, 2, 0, 0], [128, 30, 28, 1]),
            ([128, 200, 33], [0, 0, 5], [128, 200, 6]),
            ([50, 20, 30], [0, 4, 0], [50, 19, 30]),
            ([300, 257], [7, 0], [299, 257]),
            ([100003], [1], [99000]),
        ];
        foreach (var (shape, starts, ends) in cases)
            foreach (var t in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Bool, DType.Float16 })
            {
                var graph = SliceOf(new Aval(Shape.Of(shape), t), starts, ends);
                var x = t == DType.Bool ? Mask(Shape.Of(shape), 5) : t == DType.Int32
                    ? HostArray.FromLongs(t, Shape.Of(shape), [.. Enumerable.Range(0, Shape.Of(shape).Size).Select(k => (long)k - 1000)])
                    : Values(t, Shape.Of(shape), 6);
                var expected = ReferenceBackend.Evaluate(graph, [x])[0];
                Ops(graph, inProcess: true).Should().Equal([$"{NnxCpuOps.Domain}:{NnxCpuOps.Slice}"], "{0} [{1}]", t, string.Join(", ", shape));
                OnThreads(threads => SameBits(Run(graph, x), expected, $"{t} [{string.Join(", ", shape)}] [{string.Join(", ", starts)} : {string.Join(", ", ends)}] on {threads} threads"));
            }
    }

    /// <summary>x → x padded with zeros.</summary>
    private static Graph PadOf(Aval x, int[] before, int[] after)
    {
        var input = new Value(x);
        var pad = Node.Create(new Pad(new Ints(before), new Ints(after)), [input]);
        return new Graph([input], [pad], [pad.Output]);
    }

    [TestMethod]
    public void PadGivesTheReferenceBlockForEveryLayoutDTypeAndThreadCount()
    {
        // (shape, before, after): a SAME convolution's input, an inner axis padded (runs of one element), an outer
        // axis only (whole zero rows), every axis, and a rank-1 pad.
        (int[] Shape, int[] Before, int[] After)[] cases =
        [
            ([128, 14, 14, 32], [0, 1, 1, 0], [0, 1, 1, 0]),
            ([128, 200, 1], [0, 0, 2], [0, 0, 1]),
            ([50, 20, 30], [3, 0, 0], [4, 0, 0]),
            ([31, 17, 33], [1, 2, 3], [3, 2, 1]),
            ([100003], [5], [0]),
        ];
        foreach (var (shape, before, after) in cases)
            foreach (var t in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Bool, DType.Float16 })
            {
                var graph = PadOf(new Aval(Shape.Of(shape), t), before, after);
                var x = t == DType.Bool ? Mask(Shape.Of(shape), 5) : t == DType.Int32
                    ? HostArray.FromLongs(t, Shape.Of(shape), [.. Enumerable.Range(0, Shape.Of(shape).Size).Select(k => (long)k - 1000)])
                    : Values(t, Shape.Of(shape), 6);
                var expected = ReferenceBackend.Evaluate(graph, [x])[0];
                Ops(graph, inProcess: true).Should().Equal([$"{NnxCpuOps.Domain}:{NnxCpuOps.Pad}"], "{0} [{1}]", t, string.Join(", ", shape));
                OnThreads(threads => SameBits(Run(graph, x), expected, $"{t} [{string.Join(", ", shape)}] pads [{string.Join(", ", before)}] [{string.Join(", ", after)}] on {threads} threads"));
            }
        Ops(PadOf(Aval.F32(128, 14, 14, 32), [0, 1, 1, 0], [0, 1, 1, 0]), inProcess: false).Should().Equal(["Pad"], "an exported file must load in any ONNX runtime");
        Ops(PadOf(Aval.F32(8, 14, 14, 1), [0, 1, 1, 0], [0, 1, 1, 0]), inProcess: true).Should().Equal(["Pad"], "a small pad costs ONNX Runtime little");
    }

    [TestMethod]
    public void AKernelGivenOperandsOfDifferentSizesFailsWithItsNameInsteadOfCrashing()
    {
        // The lowerings never do this; a model written by hand can. The kernel's error becomes ONNX Runtime's error status.
        using var c = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new bool[4], [4]);
        using var x = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new float[5], [5]);
        var run = () => OwnKernelModel.Run(NnxCpuOps.SelectOrZero, [("c", new Aval(Shape.Of(4), DType.Bool), c), ("x", Aval.F32(5), x)], [("y", Aval.F32(4))]);
        run.Should().Throw<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>()
            .WithMessage("*ai.nnx.cpu SelectOrZero: the mask has 4 elements and the values 5*");
    }

    /// <summary>x → the sum (or mean) of x over <paramref name="axes"/>.</summary>
    private static Graph Reduction(Aval x, int[] axes, bool mean, bool keepDims = false)
    {
        var input = new Value(x);
        var node = Node.Create(mean ? new ReduceMean(new Ints(axes), keepDims) : new ReduceSum(new Ints(axes), keepDims), [input]);
        return new Graph([input], [node], [node.Output]);
    }

    [TestMethod]
    public void SumsOverAFewLeadingRowsUseTheColumnKernelInProcess()
    {
        var columnSums = $"{NnxCpuOps.Domain}:{NnxCpuOps.ColumnSums}";
        Ops(Reduction(Aval.F32(32, 512), [0], mean: false), inProcess: true).Should().Equal(columnSums);
        Ops(Reduction(Aval.F32(32, 512), [0], mean: true), inProcess: true).Should().Equal(columnSums);
        Ops(Reduction(Aval.F64(4, 8, 600), [0, 1], mean: true, keepDims: true), inProcess: true).Should().Equal(columnSums);
        Ops(Reduction(Aval.F32(32, 512), [0], mean: true), inProcess: false).Should().Equal(["ReduceMean"], "an exported file must load in any ONNX runtime");
        Ops(Reduction(Aval.F32(2048, 32), [0], mean: false), inProcess: true).Should().NotContain(columnSums, "from 1 024 rows a product with a row of ones reads the matrix better");
        Ops(Reduction(Aval.F32(512, 32), [1], mean: false), inProcess: true).Should().NotContain(columnSums, "only leading axes are columns");
        Ops(Reduction(Aval.F32(2, 64, 32), [0], mean: false), inProcess: true).Should().Equal(columnSums);
        Ops(Reduction(Aval.F32(8, 128), [0], mean: false), inProcess: true).Should().Equal([columnSums], "a small sum is faster here than in ONNX Runtime too");
        Ops(Reduction(Aval.F32(2, 3), [0], mean: true), inProcess: true).Should().Equal(columnSums);
    }

    [TestMethod]
    public void ColumnSumsMatchTheReferenceForEveryShapeAndThreadCount()
    {
        // [32, 512] (a BatchNorm's statistics at batch 32), columns not a multiple of the vector width, two leading axes
        // with kept dims, and 22 blocks of columns.
        (int[] Shape, int[] Axes, bool KeepDims)[] cases = [([1, 5], [0], false), ([2, 3], [0], false), ([1000, 1], [0], false), ([8, 128], [0], false), ([32, 32], [0], false), ([2, 64, 32], [0], false), ([32, 512], [0], false), ([40, 1001], [0], false), ([4, 8, 600], [0, 1], true), ([1000, 700], [0], false)];
        foreach (var (shape, axes, keepDims) in cases)
            foreach (var t in new[] { DType.Float32, DType.Float64 })
                foreach (var mean in new[] { false, true })
                {
                    var graph = Reduction(new Aval(Shape.Of(shape), t), axes, mean, keepDims);
                    var x = Values(t, Shape.Of(shape), 41).ToDoubles().Select(v => double.IsFinite(v) && Math.Abs(v) < 1e30 ? v : 0.5).ToArray();
                    var input = HostArray.FromDoubles(t, Shape.Of(shape), x);
                    var expected = ReferenceBackend.Evaluate(graph, [input])[0].ToDoubles();
                    // A running sum of n terms: its rounding error grows with n (float32 ε = 6e-8, float64 1.1e-16).
                    var rows = axes.Aggregate(1, (acc, d) => acc * shape[d]);
                    var tol = (t == DType.Float32 ? 2e-7 : 1e-15) * rows;
                    OnThreads(threads =>
                    {
                        var actual = Run(graph, input);
                        actual.Aval.Should().Be(graph.Outputs[0].Aval);
                        var a = actual.ToDoubles();
                        for (var k = 0; k < a.Length; k++)
                            Math.Abs(a[k] - expected[k]).Should().BeLessThanOrEqualTo(tol * (1 + Math.Abs(expected[k])), "{0} [{1}] mean {2}, {3} threads, element {4}", t, string.Join(", ", shape), mean, threads, k);
                    });
                }
    }

    [TestMethod]
    public void ReluGradientsThroughTheKernelMatchTheReference()
    {
        // d/dx sum(relu(x) · r): ReLU's gradient is Where(y > 0, r, 0), which the kernel computes in process, inside the
        // elementwise cluster that also computes the comparison (ElementwiseFusion).
        var x = Values(DType.Float32, Shape.Of(64, 512), 11);
        var r = Values(DType.Float32, Shape.Of(64, 512), 12);
        var graph = Graph.Trace(a => [Autodiff.Grad((Tensor v) => (v.Relu() * a[1]).Sum())(a[0])], [x.Aval, r.Aval]);
        Ops(graph, inProcess: true).Should().Contain($"{NnxCpuOps.Domain}:{NnxCpuOps.Elementwise}").And.NotContain(["Greater", "Where"]);
        var expected = HostArray.FromDoubles(DType.Float32, x.Shape, [.. x.ToDoubles().Zip(r.ToDoubles(), (xv, rv) => xv > 0 ? rv : 0.0)]);
        var actual = Run(graph, x, r);
        SameBits(actual, expected, "relu's gradient");
    }
}
