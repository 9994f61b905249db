using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// <see cref="NnxCpuOps.PackedGemmPair"/>: a dense layer's reverse pass at a small batch, the two products that read its
/// weight W [D, N], as one kernel: the input gradient <c>α₁·g·Wᵀ</c> and the weight's update <c>β·W + α₂·xᵀ·g</c>. A
/// block of 16 rows of W computes 16 columns of the input gradient (W's rows read where they lie) and then those 16
/// rows of the new weight, whose <c>β·W</c> finds the rows still in cache: the weight is read
/// from memory once a step instead of twice (a 2048 × 2048 float32 weight is 16 MB, beyond the caches).
/// </summary>
internal static unsafe partial class CpuKernels
{
    /// <summary>The two products of a pair, handed to its blocks.</summary>
    private struct GemmPairJob
    {
        public GemmJob* InputGradient, Update;
        public long Call; // this call's number: each thread packs gᵀ once per call (TransposedG)
    }

    // Each thread's copy of gᵀ and the call it was packed for.
    [ThreadStatic] private static float* t_transposedG;
    [ThreadStatic] private static long t_transposedGFloats;
    [ThreadStatic] private static long t_transposedGCall;
    private static long s_pairCalls;

    [ThreadStatic] private static float* t_whole2;
    [ThreadStatic] private static long t_whole2Floats;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ComputeGemmPair(IntPtr context)
    {
        IntPtr g = Input(context, 0), w = Input(context, 1), x = Input(context, 2), flags = Input(context, 3);
        long* dg = stackalloc long[MaxRank], dw = stackalloc long[MaxRank], dx = stackalloc long[MaxRank], df = stackalloc long[MaxRank];
        int rg = ShapeOf(g, dg, out _, out _), rw = ShapeOf(w, dw, out _, out _), rx = ShapeOf(x, dx, out _, out _);
        ShapeOf(flags, df, out _, out var flagCount);
        if (flagCount != 3) throw new InvalidOperationException($"the flags are [alpha of g·Wᵀ, alpha of xᵀ·g, beta of W], 3 floats, not {flagCount}.");
        if (rg != 2 || rw != 2 || rx != 2 || dg[1] != dw[1] || dx[0] != dg[0] || dx[1] != dw[0])
            throw new InvalidOperationException($"g {Dims(dg, rg)}, W {Dims(dw, rw)} and x {Dims(dx, rx)} are not [B, N], [D, N] and [B, D].");
        var p = (float*)Data(flags);
        long batch = dg[0], d = dw[0], n = dw[1];
        long* shapeOfGradient = stackalloc long[] { batch, d };
        long* shapeOfUpdate = stackalloc long[] { d, n };
        var dxOut = Output(context, shapeOfGradient, 2, 0);
        var wOut = Output(context, shapeOfUpdate, 2, 1);
        float* gData = (float*)Data(g), wData = (float*)Data(w);
        var inputGradient = new GemmJob
        {
            A = gData, B = wData, C = wData, Y = (float*)Data(dxOut),
            M = batch, N = d, K = n, TransB = true, Alpha = p[0],
        };
        var update = new GemmJob
        {
            A = (float*)Data(x), B = gData, C = wData, Y = (float*)Data(wOut),
            M = d, N = n, K = batch, TransA = true, Alpha = p[1], Beta = p[2], CRowStride = n, CColumnStride = 1,
        };
        if (batch == 0 || d == 0 || n == 0)
        {
            // No products to split; the update is β·W alone (an empty contraction), the input gradient empty or zero.
            new Span<float>(inputGradient.Y, checked((int)(batch * d))).Clear();
            for (long i = 0; i < d * n; i++) update.Y[i] = wData[i] * p[2]; // elements only when the batch is empty
            return IntPtr.Zero;
        }
        // As the update's B, g is read where it lies, but for a last panel of fewer than 48 columns (PackPanelsOfB); the input
        // gradient's gᵀ is packed by each thread for itself as its first block starts (TransposedG).
        PackPanelsOfB(&update, ref t_whole2, ref t_whole2Floats);
        var job = new GemmPairJob { InputGradient = &inputGradient, Update = &update, Call = Interlocked.Increment(ref s_pairCalls) };
        return ParallelFor(context, &RunGemmPair, (d + PairBlockRows - 1) / PairBlockRows, &job);
    }

    private static string Dims(long* dims, int rank) => $"[{string.Join(",", new ReadOnlySpan<long>(dims, rank).ToArray())}]";

    // Rows of W per block: small enough that the blocks share out evenly between threads (a 512-wide weight in blocks of
    // 48 rows is 11 blocks, 6 on one thread and 5 on the other), a whole number of tiles.
    private const int PairBlockRows = 2 * TileRows;

    // Rows i0 … i0 + 15 of W: those columns of the input gradient, then those rows of the update, 8 at a time.
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunGemmPair(void* state, nuint index)
    {
        var job = (GemmPairJob*)state;
        var i0 = (long)index * PairBlockRows;
        var inputGradient = *job->InputGradient;
        inputGradient.Packed = TransposedG(job);
        InputGradientColumns(&inputGradient, i0, PairBlockRows);
        for (var i = i0; i < Math.Min(i0 + PairBlockRows, job->Update->M); i += TileRows) GemmRows(job->Update, i);
    }

    /// <summary>
    /// gᵀ in panels of 48 of the batch's rows ([n, 48] each, rows past the batch as zeros), packed by this thread for this
    /// call at its first block. Each thread packing its own copy (a few microseconds at width 512) costs less than one
    /// copy packed on the calling thread while the others wait and then read it from that thread's cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float* TransposedG(GemmPairJob* job)
    {
        var g = job->InputGradient;
        long batch = g->M, n = g->K, panels = (batch + TileColumns - 1) / TileColumns;
        var packed = Scratch(ref t_transposedG, ref t_transposedGFloats, panels * TileColumns * n);
        if (t_transposedGCall != job->Call)
        {
            var transposed = new GemmJob { B = g->A, N = batch, K = n, TransB = true };
            for (long j = 0; j < panels; j++) PackB(&transposed, j * TileColumns, 0, n, packed + j * TileColumns * n);
            t_transposedGCall = job->Call;
        }
        return packed;
    }

    /// <summary>
    /// Columns i0 … i0 + <paramref name="count"/> − 1 of the input gradient <c>α·g·Wᵀ</c> (fewer at the end) as their transpose <c>W·gᵀ</c>: 8 rows of W
    /// where they lie against gᵀ packed whole (<see cref="GemmJob.Packed"/>, panels of 48 of the batch's rows), so that W is
    /// not copied (transposing it 8 × 8 into panels cost a fifth of this product's time at width 2,048). Each 8 × 48 tile
    /// then goes to the result transposed (<see cref="FinishTransposed"/>; the job's β is 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradientColumns(GemmJob* job, long i0, long count)
    {
        long batch = job->M, d = job->N, k = job->K;
        var last = Math.Min(i0 + count, d);
        var tile = Scratch(ref t_panel, ref t_panelFloats, TileRows * (TileColumns + k));
        var padded = tile + TileRows * TileColumns;
        for (var r0 = i0; r0 < last; r0 += TileRows)
        {
            long rows = Math.Min(TileRows, last - r0);
            var a = job->B + r0 * k;
            if (rows < TileRows) // the rows past W's last are zeros, in a copy: a tile reads 8
            {
                CopyFloats(a, padded, rows * k);
                FillFloats(padded + rows * k, 0f, (TileRows - rows) * k);
                a = padded;
            }
            for (long p = 0; p < batch; p += TileColumns)
            {
                TileOfRows(batch - p, a, k, job->Packed + p * k, TileColumns, k, tile, TileColumns);
                FinishTransposed(job, tile, p, Math.Min(TileColumns, batch - p), r0, rows);
            }
        }
    }
}
