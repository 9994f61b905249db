using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// Nnx's float32 Gemm for thin operands (<see cref="NnxCpuOps.PackedGemm"/>): where the lowering uses it, and its values
/// against the reference for every transpose, every form of C, α and β, and shapes with partial tiles, on 1 and 2 threads.
/// </summary>
[TestClass]
public sealed class PackedGemmTests
{
    private static readonly string Packed = $"{NnxCpuOps.Domain}:{NnxCpuOps.PackedGemm}";

    /// <summary>A [a], B [b], C [c] → α·op(A)·op(B) + β·C as the Gemm primitive.</summary>
    private static Graph GemmOf(Gemm gemm, Shape a, Shape b, Shape c, DType t = DType.Float32)
    {
        var (x, y, z) = (new Value(new Aval(a, t)), new Value(new Aval(b, t)), new Value(new Aval(c, t)));
        var node = Node.Create(gemm, [x, y, z]);
        return new Graph([x, y, z], [node], [node.Output]);
    }

    private static string[] Ops(Graph graph, bool inProcess) =>
        [.. OnnxLowering.ToModel(graph, inProcess: inProcess).Graph.Node.Select(n => n.Domain.Length > 0 ? $"{n.Domain}:{n.OpType}" : n.OpType)];

    [TestMethod]
    public void ThinProductsLowerToTheKernelInProcessOnAvx512()
    {
        var fits = CpuKernels.Available && CpuKernels.PackedGemmSupported;
        string[] Expect(string because) => fits ? [Packed] : ["Gemm"];
        Ops(GemmOf(new Gemm(false, false), Shape.Of(32, 512), Shape.Of(512, 512), Shape.Of(512)), inProcess: true)
            .Should().Equal(Expect("a dense layer's forward at batch 32"));
        Ops(GemmOf(new Gemm(false, true, Beta: 0), Shape.Of(32, 512), Shape.Of(512, 512), Shape.Of()), inProcess: true)
            .Should().Equal(Expect("its input gradient"));
        Ops(GemmOf(new Gemm(true, false, Alpha: -1e-3), Shape.Of(32, 512), Shape.Of(32, 512), Shape.Of(512, 512)), inProcess: true)
            .Should().Equal(Expect("a weight's gradient fused with its SGD update"));
        var (x, w) = (new Value(Aval.F32(32, 512)), new Value(Aval.F32(512, 512)));
        var product = Node.Create(new MatMul(), [x, w]);
        Ops(new Graph([x, w], [product], [product.Output]), inProcess: true).Should().Equal(Expect("a layer without bias is a MatMul"));
        Ops(GemmOf(new Gemm(false, false), Shape.Of(32, 512), Shape.Of(512, 512), Shape.Of(512)), inProcess: false)
            .Should().Equal(["Gemm"], "an exported file must load in any ONNX runtime");
        Ops(GemmOf(new Gemm(false, false), Shape.Of(32, 512), Shape.Of(512, 512), Shape.Of(512), DType.Float64), inProcess: true)
            .Should().Equal(["Gemm"], "the kernel is float32");
        Ops(GemmOf(new Gemm(false, false), Shape.Of(512, 512), Shape.Of(512, 512), Shape.Of(512)), inProcess: true)
            .Should().Equal(["Gemm"], "MLAS does square products well");
        Ops(GemmOf(new Gemm(false, false), Shape.Of(32, 512), Shape.Of(512, 1), Shape.Of(1)), inProcess: true)
            .Should().Equal(["Gemm"], "a product with one column is a matrix-vector product");
        Ops(GemmOf(new Gemm(false, false), Shape.Of(8, 32), Shape.Of(32, 64), Shape.Of(64)), inProcess: true)
            .Should().Equal(["Gemm"], "a small product costs ONNX Runtime little");
        Ops(GemmOf(new Gemm(false, false), Shape.Of(1, 2048), Shape.Of(2048, 2048), Shape.Of(2048)), inProcess: true)
            .Should().Equal(["Gemm"], "a batch of one is a matrix-vector product, which MLAS streams");
        Ops(GemmOf(new Gemm(true, false, Alpha: -1e-3), Shape.Of(1, 2048), Shape.Of(1, 2048), Shape.Of(2048, 2048)), inProcess: true)
            .Should().Equal(["Gemm"], "so is the update of a batch of one, a contraction of one step");
        Ops(GemmOf(new Gemm(false, false), Shape.Of(2, 2048), Shape.Of(2048, 2048), Shape.Of(2048)), inProcess: true)
            .Should().Equal(Expect("from a batch of two the kernel is as fast or faster"));
    }

    internal static HostArray Values(Shape shape, int seed, bool hard = false)
    {
        var r = new Random(seed);
        return HostArray.FromDoubles(DType.Float32, shape, [.. Enumerable.Range(0, shape.Size).Select(k =>
            hard && k == 3 ? double.NaN : hard && k == 5 ? double.PositiveInfinity : r.NextDouble() * 2 - 1)]);
    }

    /// <summary>The reference's α·op(A)·op(B) + β·C in float64, and the same with every product's magnitude (the error's scale).</summary>
    internal static (double[] Value, double[] Scale) Reference(Gemm gemm, HostArray a, HostArray b, HostArray c)
    {
        HostArray F64(HostArray x) => HostArray.FromDoubles(DType.Float64, x.Shape, x.ToDoubles());
        HostArray Abs(HostArray x) => HostArray.FromDoubles(DType.Float64, x.Shape, [.. x.ToDoubles().Select(Math.Abs)]);
        var value = gemm.Eval([F64(a), F64(b), F64(c)]).ToDoubles();
        var scale = (gemm with { Alpha = Math.Abs(gemm.Alpha), Beta = Math.Abs(gemm.Beta) }).Eval([Abs(a), Abs(b), Abs(c)]).ToDoubles();
        return (value, scale);
    }

    /// <summary>Runs one <see cref="NnxCpuOps.PackedGemm"/> node on A, B, C in an ONNX Runtime session with the kernels registered.</summary>
    private static float[] RunKernel(Gemm gemm, HostArray a, HostArray b, HostArray c, int threads)
    {
        var (m, n) = (gemm.TransA ? a.Shape[1] : a.Shape[0], gemm.TransB ? b.Shape[0] : b.Shape[1]);
        using OrtValue va = OwnKernelModel.Float32(a), vb = OwnKernelModel.Float32(b), vc = OwnKernelModel.Float32(c);
        using var flags = OrtValue.CreateTensorValueFromMemory(new[] { gemm.TransA ? 1f : 0f, gemm.TransB ? 1f : 0f, (float)gemm.Alpha, (float)gemm.Beta }, [4]);
        return OwnKernelModel.Run(NnxCpuOps.PackedGemm, [("a", a.Aval, va), ("b", b.Aval, vb), ("c", c.Aval, vc), ("flags", Aval.F32(4), flags)],
            [("y", Aval.F32(m, n))], threads)[0];
    }

    private static void Check(Gemm gemm, int m, int n, int k, Shape c, int threads, bool hard = false)
    {
        var a = Values(gemm.TransA ? Shape.Of(k, m) : Shape.Of(m, k), 1, hard);
        var b = Values(gemm.TransB ? Shape.Of(n, k) : Shape.Of(k, n), 2);
        var cv = Values(c, 3);
        var (expected, scale) = Reference(gemm, a, b, cv);
        var actual = RunKernel(gemm, a, b, cv, threads);
        actual.Length.Should().Be(m * n);
        for (var i = 0; i < actual.Length; i++)
        {
            var what = $"{gemm} [{m},{n},{k}] C [{string.Join(",", c.ToArray())}] on {threads} threads, element ({i / n}, {i % n})";
            if (double.IsNaN(expected[i]) || double.IsInfinity(expected[i]))
                ((double)actual[i]).Should().Be(expected[i], what);
            else
                Math.Abs(actual[i] - expected[i]).Should().BeLessThanOrEqualTo(1e-6 * (k + 4) * scale[i] + 1e-30, what);
        }
    }

    [TestMethod]
    public void EveryTransposeAndFormOfCMatchesTheReference()
    {
        // Thin rows (columns of the result in blocks) and a short contraction (rows in blocks); tiles cut at both edges.
        // 1,100 columns are blocks of 11 panels, the last a cut panel, and 200 steps four blocks of K, the last of 8: the
        // block of B fetched ahead is at each edge in turn. A is read in place but for a cut last block of rows (13, 9, 7
        // rows), B in place for a short contraction but when transposed or for a cut last panel: 96 columns are two whole
        // panels (100 × 96 × 16 short, 24 × 96 × 40 thin), with nothing packed.
        (int M, int N, int K)[] shapes = [(32, 512, 512), (13, 100, 77), (1, 48, 9), (200, 130, 32), (65, 49, 7), (9, 47, 64), (7, 1100, 200), (100, 96, 16), (24, 96, 40)];
        foreach (var (m, n, k) in shapes)
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
                foreach (var threads in new[] { 1, 2 })
                {
                    Check(new Gemm(ta, tb, Beta: 0), m, n, k, Shape.Of(), threads);
                    Check(new Gemm(ta, tb, Alpha: -0.37), m, n, k, Shape.Of(n), threads);
                    Check(new Gemm(ta, tb, Beta: 0.99), m, n, k, Shape.Of(1, n), threads);
                    Check(new Gemm(ta, tb, Alpha: 2, Beta: -1), m, n, k, Shape.Of(m, 1), threads);
                    Check(new Gemm(ta, tb, Alpha: -1e-3), m, n, k, Shape.Of(m, n), threads);
                    Check(new Gemm(ta, tb), m, n, k, Shape.Of(1), threads);
                }
    }

    [TestMethod]
    public void AThinATimesATransposedBReadsBsRowsAndGivesTheBitsOfBTransposedFirst()
    {
        // A·Bᵀ for A of at most 48 rows runs as the pair's input gradient does (B's rows in place against Aᵀ packed), and
        // A·(Bᵀ copied) reads B in place: each element is the same chain of fused multiply-adds from +0 both ways. Rows
        // of B cut the blocks of 16 and the tiles of 8 (517, 9), A cuts the narrow tile (33) and the panel (48).
        (int M, int N, int K)[] shapes = [(32, 512, 512), (1, 9, 3), (33, 517, 130), (48, 64, 1100), (7, 24, 5)];
        foreach (var (m, n, k) in shapes)
            foreach (var threads in new[] { 1, 2 })
                foreach (var (alpha, beta, c) in new[] { (1.0, 0.0, Shape.Of()), (-1e-3, 1.0, Shape.Of(m, n)), (2.0, -0.5, Shape.Of(n)), (1.0, 0.99, Shape.Of(m, 1)) })
                {
                    var (a, b, cv) = (Values(Shape.Of(m, k), 11, hard: m > 8), Values(Shape.Of(n, k), 12), Values(c, 13));
                    var bv = b.ToDoubles();
                    var bt = HostArray.FromDoubles(DType.Float32, Shape.Of(k, n), [.. Enumerable.Range(0, k * n).Select(i => bv[i % n * k + i / n])]);
                    var before = CpuKernels.RowsOfBProducts;
                    var rowsOfB = RunKernel(new Gemm(false, true, alpha, beta), a, b, cv, threads);
                    CpuKernels.RowsOfBProducts.Should().Be(before + 1, "[{0},{1},{2}]: A·Bᵀ reads B's rows", m, n, k);
                    var copied = RunKernel(new Gemm(false, false, alpha, beta), a, bt, cv, threads);
                    for (var i = 0; i < copied.Length; i++)
                        if (BitConverter.SingleToInt32Bits(rowsOfB[i]) != BitConverter.SingleToInt32Bits(copied[i]))
                            rowsOfB[i].Should().Be(copied[i], "[{0},{1},{2}] α {3} β {4} on {5} threads, element ({6}, {7})", m, n, k, alpha, beta, threads, i / n, i % n);
                }
    }

    [TestMethod]
    public void AThinProductOfALargeBMatchesTheReference()
    {
        // B of 2 MB or more is read by columns, 8 at a time, in passes of 256 steps: 1,100 and 1,030 columns end in a cut
        // block and a cut tile, 500 and 520 steps in a short pass; 7 rows of A take the narrow tile, 40 the wide one; the
        // results' rows go 8 at a time, then one by one (21 = 2 · 8 + 5).
        foreach (var (m, n, k) in new[] { (7, 1100, 500), (40, 1030, 520), (21, 1030, 300) })
            foreach (var ta in new[] { false, true })
                foreach (var threads in new[] { 1, 2 })
                {
                    Check(new Gemm(ta, false), m, n, k, Shape.Of(n), threads);
                    Check(new Gemm(ta, false, Alpha: -1e-3), m, n, k, Shape.Of(m, n), threads);
                    Check(new Gemm(ta, false, Alpha: 2, Beta: -0.5), m, n, k, Shape.Of(m, 1), threads);
                }
    }

    [TestMethod]
    public void ALargeUpdateWrittenPastTheCachesMatchesTheReference()
    {
        // From 2²¹ result elements a short contraction stores with non-temporal writes, aligned or not (rows of 1 030 floats).
        foreach (var threads in new[] { 1, 2 })
            Check(new Gemm(true, false, Alpha: -1e-3), 2048, 1030, 32, Shape.Of(2048, 1030), threads);
    }

    [TestMethod]
    public void NaNAndInfinityReachTheRowsTheyTouch()
    {
        Check(new Gemm(false, false), 32, 512, 512, Shape.Of(512), threads: 2, hard: true);
        Check(new Gemm(true, false, Alpha: -1e-3), 200, 130, 32, Shape.Of(200, 130), threads: 1, hard: true);
    }

    [TestMethod]
    public void ATrainingStepsProductsMatchTheReferenceThroughTheGraph()
    {
        // The primitive lowered in process (the kernel where it fits), against the reference backend.
        (Gemm Gemm, Shape A, Shape B, Shape C)[] cases =
        [
            (new Gemm(false, false), Shape.Of(32, 512), Shape.Of(512, 512), Shape.Of(512)),
            (new Gemm(false, true, Beta: 0), Shape.Of(32, 512), Shape.Of(512, 512), Shape.Of()),
            (new Gemm(true, false, Alpha: -1e-3), Shape.Of(32, 512), Shape.Of(32, 512), Shape.Of(512, 512)),
        ];
        foreach (var (gemm, sa, sb, sc) in cases)
        {
            var graph = GemmOf(gemm, sa, sb, sc);
            HostArray[] inputs = [Values(sa, 4), Values(sb, 5), Values(sc, 6)];
            var (expected, scale) = Reference(gemm, inputs[0], inputs[1], inputs[2]);
            foreach (var threads in new[] { 1, 2 })
            {
                var actual = RunOnCpu(graph, inputs, threads)[0];
                for (var i = 0; i < actual.Length; i++)
                    Math.Abs(actual[i] - expected[i]).Should().BeLessThanOrEqualTo(1e-6 * 516 * scale[i], $"{gemm} element {i} on {threads} threads");
            }
        }
    }

    /// <summary>Every output of <paramref name="graph"/> run in process on the CPU with <paramref name="threads"/> intra-op threads.</summary>
    internal static double[][] RunOnCpu(Graph graph, HostArray[] inputs, int threads)
    {
        try
        {
            Device.Cpu.IntraOpThreads = threads;
            using var exe = OrtBackend.Cpu.Compile(graph);
            var buffers = inputs.Select(OrtBackend.Cpu.Upload).ToArray();
            var outputs = exe.Run(buffers);
            var values = outputs.Select(o => OrtBackend.Cpu.Download(o).ToDoubles()).ToArray();
            foreach (var b in buffers.Concat(outputs)) b.Dispose();
            return values;
        }
        finally
        {
            Device.Cpu.IntraOpThreads = null;
        }
    }

    [TestMethod]
    public void AMatMulOfMatricesMatchesTheReferenceThroughTheGraph()
    {
        var (x, w) = (new Value(Aval.F32(32, 300)), new Value(Aval.F32(300, 200)));
        var product = Node.Create(new MatMul(), [x, w]);
        var graph = new Graph([x, w], [product], [product.Output]);
        HostArray[] inputs = [Values(x.Aval.Shape, 7), Values(w.Aval.Shape, 8)];
        var (expected, scale) = Reference(new Gemm(false, false, Beta: 0), inputs[0], inputs[1], HostArray.Scalar(DType.Float32, 0));
        var actual = RunOnCpu(graph, inputs, threads: 2)[0];
        for (var i = 0; i < actual.Length; i++)
            Math.Abs(actual[i] - expected[i]).Should().BeLessThanOrEqualTo(1e-6 * 304 * scale[i], $"element {i}");
    }

    [TestMethod]
    public void OperandsThatDoNotContractFailWithTheShapesInsteadOfCrashing()
    {
        var run = () => RunKernel(new Gemm(false, false), Values(Shape.Of(4, 5), 1), Values(Shape.Of(6, 7), 2), Values(Shape.Of(7), 3), threads: 1);
        run.Should().Throw<OnnxRuntimeException>().WithMessage("*ai.nnx.cpu PackedGemm: A [4,5] and B [6,7] do not contract*");
        var badC = () => RunKernel(new Gemm(false, false), Values(Shape.Of(4, 5), 1), Values(Shape.Of(5, 7), 2), Values(Shape.Of(3), 3), threads: 1);
        badC.Should().Throw<OnnxRuntimeException>().WithMessage("*ai.nnx.cpu PackedGemm: C of rank 1 (1 × 3) does not broadcast to [4,7]*");
    }
}
