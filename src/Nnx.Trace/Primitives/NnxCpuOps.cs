namespace NnxSharp.Primitives;

/// <summary>
/// The operators of Nnx's own CPU kernels (domain <c>ai.nnx.cpu</c>), which Nnx.Onnx registers with ONNX Runtime for every
/// CPU session it creates in this process: single passes split over the session's intra-op threads, where ONNX
/// Runtime's kernel for the same work makes several passes on one thread. A lowering uses them only when
/// <see cref="IOnnxEmitter.OwnCpuKernels"/> says so, so exported files and CUDA graphs never contain them.
/// </summary>
internal static class NnxCpuOps
{
    /// <summary>The operators' domain.</summary>
    public const string Domain = "ai.nnx.cpu";

    /// <summary><c>(bool c, x) → c ? x : +0</c>, c and x of one shape, x float32 or float64 (ONNX Where with a zero branch).</summary>
    public const string SelectOrZero = "SelectOrZero";

    /// <summary>Bool to float32: 1 where true, 0 where false (ONNX Cast).</summary>
    public const string BoolToFloat32 = "BoolToFloat32";

    /// <summary>Bool to float64.</summary>
    public const string BoolToFloat64 = "BoolToFloat64";

    /// <summary>
    /// <c>(x, starts, ends) → x[starts : ends]</c>, copied by contiguous rows: ONNX Slice with constant int64 starts and
    /// ends for every axis, in range, step 1; any dtype. Named apart from ONNX's Slice so that profiles tell them apart.
    /// </summary>
    public const string Slice = "SliceRows";

    /// <summary>
    /// <c>(x, pads) → x padded with zeros</c>, written by rows: ONNX Pad in constant mode with the value 0, pads int64
    /// [2·rank], none negative; any dtype.
    /// </summary>
    public const string Pad = "PadRows";

    /// <summary>
    /// <c>(x, shape, scale) → Σ over x's leading rows · scale</c>, reshaped to <c>shape</c>: x seen as [rows, columns] with
    /// columns the size of <c>shape</c>, x and scale float32 or float64 (ReduceSum with scale 1, ReduceMean with 1/rows).
    /// </summary>
    public const string ColumnSums = "ColumnSums";

    /// <summary>
    /// <c>(A, B, C, [transA, transB, α, β]) → α·op(A)·op(B) + β·C</c> for float32 matrices, C broadcast to the result (not
    /// read when β = 0), the flags and scales one float32 vector: ONNX Gemm for a product with a thin operand, on CPUs
    /// with AVX-512F (<see cref="PackedGemmFits"/>).
    /// </summary>
    public const string PackedGemm = "PackedGemm";

    /// <summary>
    /// Whether a float32 product of [m, k] and [k, n] goes to <see cref="PackedGemm"/>: on CPUs with AVX-512F, few rows
    /// (m ≤ 64, a dense layer at a small batch, forward or input gradient) or a short contraction (k ≤ 64 &lt; m, a weight's
    /// gradient), with at least 48 columns and 2²¹ flops, and the thin side at least <see cref="MinThinSide"/>. Elsewhere
    /// (square products, vectors, a batch of one) ONNX Runtime's MLAS stays.
    /// </summary>
    public static bool PackedGemmFits(IOnnxEmitter e, DType dtype, long m, long n, long k) =>
        e.OwnCpuKernels && dtype == DType.Float32 && System.Runtime.Intrinsics.X86.Avx512F.IsSupported
        && n >= 48 && 2 * m * n * k >= 1 << 21
        && ((m <= 64 && m >= MinThinSide && k >= 32) || (k <= 64 && k >= MinThinSide && m > 64));

    /// <summary>
    /// The fewest rows (or steps of a short contraction) that <see cref="PackedGemm"/> takes: a product with one row is a
    /// matrix-vector product, which MLAS streams from memory, while the kernel's tiles of 8 rows would be mostly zeros. The
    /// seed's step at width 2,048 (AMD EPYC, one thread): at a batch of 1, 21.8 ms on the kernel against 13.3 on MLAS; at 2,
    /// 24.5 / 20.1 against 23.2 / 22.3; at 4, 23.9 / 25.5 against 25.4 / 34.2; at 8, 23.0 / 24.1 against 25.2 / 24.3; at 16,
    /// 26.2 against 31.6.
    /// </summary>
    public const long MinThinSide = 2;

    /// <summary>
    /// <c>(g, W, x, [α₁, α₂, β]) → (α₁·g·Wᵀ, β·W + α₂·xᵀ·g)</c> for float32 g [B, N], W [D, N], x [B, D]: a dense layer's
    /// input gradient and its weight's update, which both read W, as one node with two outputs. Not a lowering's: the
    /// in-process CPU model fuses such pairs of <see cref="PackedGemm"/> nodes after lowering (Nnx.Onnx's
    /// PackedGemmPairs).
    /// </summary>
    public const string PackedGemmPair = "PackedGemmPair";

    /// <summary>
    /// <c>(program, x₀, x₁, …) → (y₀, y₁, …)</c>: a cluster of float32 elementwise ONNX nodes (Add, Sub, Mul, Div, Neg, Abs,
    /// Sqrt, Reciprocal, Relu, Where and <see cref="SelectOrZero"/>, with the comparisons that feed their masks) as one pass
    /// over the result, every operand of the result's shape or broadcast to it as a row, a column or a scalar. The program
    /// is an int64 vector (Nnx.Onnx's ElementwiseProgram). Not a lowering's: the in-process CPU model fuses such clusters
    /// after lowering (Nnx.Onnx's ElementwiseFusion), and each operation rounds as ONNX Runtime's own kernel does.
    /// </summary>
    public const string Elementwise = "Elementwise";

    /// <summary>One <see cref="PackedGemm"/> node; <paramref name="c"/> null for none (β = 0; a scalar 0 is passed, not read).</summary>
    public static string Gemm(IOnnxEmitter e, string a, string b, string? c, bool transA, bool transB, double alpha, double beta)
    {
        var flags = HostArray.Create([transA ? 1f : 0f, transB ? 1f : 0f, (float)alpha, c is null ? 0f : (float)beta], Shape.Of(4));
        return e.Node(Domain, PackedGemm, [a, b, c ?? e.Constant(HostArray.Scalar(DType.Float32, 0)), e.Constant(flags)]);
    }

    /// <summary>
    /// The most rows <see cref="ColumnSums"/> takes: from 1 024 rows ReduceSum is a product with a row of ones, which
    /// reads a tall matrix better than column blocks do.
    /// </summary>
    public const int MaxColumnSumRows = 1023;

    /// <summary>
    /// The smallest sum <see cref="ColumnSums"/> takes: any with an element. Alone it is faster than ONNX Runtime's
    /// reduction at every size measured (a mean over [8, 128], one thread: 2.0 µs a call against 2.9; [32, 32] 1.8 against
    /// 2.6; [2, 3] 1.8 against 1.9), and ORT's wakes a second thread however little the work; inside an elementwise
    /// cluster (ElementwiseFusion) a sum costs no node at all. At width 32 the seed's step ran 16 ReduceMean nodes of
    /// [32, 32] when this was 2,048 elements.
    /// </summary>
    public const int MinColumnSumElements = 1;

    /// <summary>
    /// The smallest tensor the lowerings hand to these kernels: below it ONNX Runtime's own kernels take a few
    /// microseconds, which a second thread does not shorten.
    /// </summary>
    public const int MinElements = 1 << 14;

    /// <summary>Whether <paramref name="e"/> may use the kernels for a tensor of <paramref name="shape"/>.</summary>
    public static bool Use(IOnnxEmitter e, Shape shape) => e.OwnCpuKernels && shape.Size >= MinElements;

    /// <summary>
    /// A float sum over the leading axes 0 … k − 1 of the operand (fewer than 1 024 rows, at least
    /// <see cref="MinColumnSumElements"/> elements) times <paramref name="scale"/> as one <see cref="ColumnSums"/>; null otherwise.
    /// </summary>
    public static string? LeadingSums(IOnnxEmitter e, LowerArgs args, Ints axes, double scale)
    {
        var x = args.InputAvals[0];
        if (x.DType is not (DType.Float32 or DType.Float64) || !e.OwnCpuKernels || x.Shape.Size < MinColumnSumElements
            || axes.Count == 0 || axes.Count == x.Shape.Rank
            || axes[^1] != axes.Count - 1 || axes.Aggregate(1, (acc, d) => acc * x.Shape[d]) > MaxColumnSumRows)
            return null;
        var shape = e.Int64s([.. args.Output.Shape.ToArray().Select(d => (long)d)]);
        return e.Node(Domain, ColumnSums, [args.Inputs[0], shape, e.Constant(HostArray.Scalar(x.DType, scale))]);
    }
}
