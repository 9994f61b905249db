using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NnxSharp.Backends;
using NnxSharp.Ir;

namespace NnxSharp.Onnx;

/// <summary>
/// An eager call's small float32 matrix product <c>[m, k] · [k, n]</c> computed on the calling thread without a session
/// (<see cref="IEagerKernels"/>), where the session would run ONNX Runtime's MatMul on one thread. That kernel (MLAS) computes
/// each element as one chain of fused multiply-adds from zero, k ascending, whenever its blocks along k hold all of k, which
/// they do up to <see cref="MaxSteps"/> steps. This kernel computes the same chain, 16 columns of 4 rows at a time, so
/// the result has the session's bits; what it saves is the session's run, about 1.5 µs of ONNX Runtime's own work a call
/// against about 1 µs of arithmetic for a 32 × 32 product (notes/jit.md, "Eager matrix products").
/// </summary>
internal sealed unsafe class MatMulExecutable : CallingThreadExecutable
{
    /// <summary>The longest contraction taken: MLAS keeps one block along k up to 128 steps whatever the other sizes.</summary>
    public const long MaxSteps = 128;

    /// <summary>
    /// The most multiply-adds taken (2¹⁸: a 64 × 64 · 64 × 64 product). Beyond that the arithmetic, which MLAS does faster
    /// from packed panels, outweighs the session's cost.
    /// </summary>
    public const long MaxProducts = 1 << 18;

    private readonly int _a, _b; // the graph inputs read as the left and the right operand
    private readonly long _m, _k, _n;

    private MatMulExecutable(OrtBackend backend, Graph graph, int a, int b, TimeSpan lowering) : base(backend, graph, lowering)
    {
        (_a, _b) = (a, b);
        var (x, y) = (graph.Inputs[a].Aval.Shape, graph.Inputs[b].Aval.Shape);
        (_m, _k, _n) = (x[0], x[1], y[1]);
    }

    /// <summary>The kernel's executable for <paramref name="graph"/>, or null when the kernel does not run it on <paramref name="backend"/>.</summary>
    public static MatMulExecutable? TryCreate(OrtBackend backend, Graph graph)
    {
        if (backend.CudaDevice is not null || !OrtNative.Available || !Fma.IsSupported || !Avx.IsSupported
            || graph.Nodes is not [{ Op: Primitives.MatMul } node] || graph.Outputs.Length != 1 || graph.Outputs[0] != node.Output)
            return null;
        var (x, y) = (node.Inputs[0].Aval, node.Inputs[1].Aval);
        if (x.DType != DType.Float32 || x.Shape.Rank != 2 || y.Shape.Rank != 2) return null;
        long m = x.Shape[0], k = x.Shape[1], n = y.Shape[1];
        // MLAS's one-row and one-column products take another path (a matrix-vector kernel).
        if (m < 2 || n < 2 || k > MaxSteps || m * n * k > MaxProducts || backend.ThreadsFor(graph) != 1) return null;
        int a = graph.Inputs.IndexOf(node.Inputs[0]), b = graph.Inputs.IndexOf(node.Inputs[1]);
        if (a < 0 || b < 0) return null;
        var watch = Stopwatch.StartNew();
        // The node the session would run: only ONNX Runtime's own MatMul is matched (not Nnx's PackedGemm, say).
        var model = OnnxLowering.ToModel(graph, inProcess: true, threads: 1);
        if (model.Graph.Node is not [{ Domain: "", OpType: "MatMul" }]) return null;
        return new MatMulExecutable(backend, graph, a, b, watch.Elapsed);
    }

    protected override void Compute(IReadOnlyList<DeviceBuffer> inputs, OrtBuffer output)
    {
        Multiply((float*)DataOf(inputs[_a]), (float*)DataOf(inputs[_b]), (float*)DataOf(output), _m, _k, _n);
        // The values behind the pointers must outlive the kernel: the inputs (through the list that holds them) and the output.
        GC.KeepAlive(inputs);
        GC.KeepAlive(output);
    }

    /// <summary>
    /// <c>y = a · b</c> for row-major a [m, k], b [k, n], y [m, n]: each element one chain of fused multiply-adds from +0,
    /// k ascending. Needs FMA and AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Multiply(float* a, float* b, float* y, long m, long k, long n)
    {
        long i = 0;
        for (; i + 4 <= m; i += 4) FourRows(a + i * k, b, y + i * n, k, n);
        for (; i < m; i++) OneRow(a + i * k, b, y + i * n, k, n);
    }

    // Rows 0 … 3 of a (k apart) into rows 0 … 3 of y (n apart): 16 columns at a time in 8 accumulators, then 8, then one by one.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows(float* a, float* b, float* y, long k, long n)
    {
        long j = 0;
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            var bj = b + j;
            for (long s = 0; s < k; s++, bj += n)
            {
                var (b0, b1) = (Avx.LoadVector256(bj), Avx.LoadVector256(bj + 8));
                var x = Vector256.Create(a[s]);
                (c00, c01) = (Fma.MultiplyAdd(x, b0, c00), Fma.MultiplyAdd(x, b1, c01));
                x = Vector256.Create(a[k + s]);
                (c10, c11) = (Fma.MultiplyAdd(x, b0, c10), Fma.MultiplyAdd(x, b1, c11));
                x = Vector256.Create(a[2 * k + s]);
                (c20, c21) = (Fma.MultiplyAdd(x, b0, c20), Fma.MultiplyAdd(x, b1, c21));
                x = Vector256.Create(a[3 * k + s]);
                (c30, c31) = (Fma.MultiplyAdd(x, b0, c30), Fma.MultiplyAdd(x, b1, c31));
            }
            var yj = y + j;
            Avx.Store(yj, c00); Avx.Store(yj + 8, c01);
            Avx.Store(yj + n, c10); Avx.Store(yj + n + 8, c11);
            Avx.Store(yj + 2 * n, c20); Avx.Store(yj + 2 * n + 8, c21);
            Avx.Store(yj + 3 * n, c30); Avx.Store(yj + 3 * n + 8, c31);
        }
        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            var bj = b + j;
            for (long s = 0; s < k; s++, bj += n)
            {
                var b0 = Avx.LoadVector256(bj);
                c0 = Fma.MultiplyAdd(Vector256.Create(a[s]), b0, c0);
                c1 = Fma.MultiplyAdd(Vector256.Create(a[k + s]), b0, c1);
                c2 = Fma.MultiplyAdd(Vector256.Create(a[2 * k + s]), b0, c2);
                c3 = Fma.MultiplyAdd(Vector256.Create(a[3 * k + s]), b0, c3);
            }
            Avx.Store(y + j, c0); Avx.Store(y + n + j, c1); Avx.Store(y + 2 * n + j, c2); Avx.Store(y + 3 * n + j, c3);
        }
        for (var r = 0; r < 4; r++) Columns(a + r * k, b, y + r * n, k, n, j);
    }

    // One row of a into one row of y, 8 columns at a time, then one by one.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRow(float* a, float* b, float* y, long k, long n)
    {
        long j = 0;
        for (; j + 8 <= n; j += 8)
        {
            Vector256<float> c = default;
            var bj = b + j;
            for (long s = 0; s < k; s++, bj += n) c = Fma.MultiplyAdd(Vector256.Create(a[s]), Avx.LoadVector256(bj), c);
            Avx.Store(y + j, c);
        }
        Columns(a, b, y, k, n, j);
    }

    // Columns j0 … n − 1 of one row, one element at a time (the same fused multiply-add, one lane).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns(float* a, float* b, float* y, long k, long n, long j0)
    {
        for (var j = j0; j < n; j++)
        {
            var c = 0f;
            for (long s = 0; s < k; s++) c = MathF.FusedMultiplyAdd(a[s], b[s * n + j], c);
            y[j] = c;
        }
    }
}
