using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// <see cref="NnxCpuOps.PackedGemm"/>: float32 <c>α·op(A)·op(B) + β·C</c> with AVX-512 for the products of a training step
/// at a small batch, where one operand is thin: 32 rows (a dense layer's forward, its input gradient) or a contraction
/// of 32 (a weight's gradient fused with its update). On these shapes ONNX Runtime's MLAS keeps the arithmetic and the
/// reading of the weight apart, and its Gemm copies C over the output on one thread before an update (notes/gemm.md).
/// <para>A tile of the result, 8 rows × 48 columns, is 24 vector accumulators fed by one broadcast of A and three loads
/// of B per step of the contraction (about 140 GFLOP/s on one core of a 2.8 GHz AVX-512 Xeon whose FMA peak is about
/// 150). The blocks run on the session's threads are columns of the result for a thin A, which walk K 64 or 128 steps at
/// a time, and rows of the result for a short K, which apply α and β·C as they store whole rows (with non-temporal stores
/// when the result is larger than the caches). A thin A is read where it lies (8 rows, or 8 consecutive elements of a
/// transposed A's rows); a short contraction's A is copied by each block into a panel stored step by step ([K, 8]). B is
/// read where it is when it is not transposed and holds a panel's 48 columns, else copied into a [steps, 48] panel (a
/// transposed operand 8 × 8 at a time), and the block of B used next is prefetched meanwhile (x·w at width 2,048 on one
/// core of an AMD EPYC: 58–64 GFLOP/s without, 65–76 with; the MLAS square MatMul there 75–90). What every block reads
/// (a short contraction's transposed B, a cut last block of a thin A's rows or of B's columns) is packed on the calling
/// thread before the blocks start, while the others wait: at width 512 on two threads, when the forward's thin A and
/// both of the pair's copies of g were packed there, that was 15 % of the calling thread's time. A thin A against a B
/// beyond L2 runs as the transpose instead, B's columns as the tiles' rows (CpuKernels.GemmColumnsOfB.cs).</para>
/// <para>Each thread keeps its scratch buffers across calls (the largest it needed).</para>
/// </summary>
internal static unsafe partial class CpuKernels
{
    private const int TileRows = 8, TileColumns = 48;

    /// <summary>Whether this CPU runs <see cref="NnxCpuOps.PackedGemm"/> (the tile needs AVX-512F).</summary>
    public static bool PackedGemmSupported => Avx512F.IsSupported;

    /// <summary>What one product hands to its blocks.</summary>
    private struct GemmJob
    {
        public float* A, B, Y, C;
        public long M, N, K;
        public bool TransA, TransB;
        public float Alpha, Beta;
        public long CRowStride, CColumnStride; // C(i, j) = C[i · CRowStride + j · CColumnStride]
        public float* Packed;                  // every panel of A (blocks of columns) or of B (blocks of rows)
    }

    // A scratch buffer per thread, kept across calls: the panels one block packs, and the operand packed whole.
    [ThreadStatic] private static float* t_panel;
    [ThreadStatic] private static long t_panelFloats;
    [ThreadStatic] private static float* t_whole;
    [ThreadStatic] private static long t_wholeFloats;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float* Scratch(ref float* buffer, ref long floats, long needed)
    {
        if (floats < needed)
        {
            if (buffer != null) NativeMemory.AlignedFree(buffer);
            buffer = (float*)NativeMemory.AlignedAlloc((nuint)(needed * sizeof(float)), 64);
            floats = needed;
        }
        return buffer;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ComputeGemm(IntPtr context)
    {
        IntPtr a = Input(context, 0), b = Input(context, 1), c = Input(context, 2);
        var flags = Input(context, 3);
        long* da = stackalloc long[MaxRank], db = stackalloc long[MaxRank], dc = stackalloc long[MaxRank], df = stackalloc long[MaxRank];
        int ra = ShapeOf(a, da, out _, out _), rb = ShapeOf(b, db, out _, out _), rc = ShapeOf(c, dc, out _, out _);
        ShapeOf(flags, df, out _, out var flagCount);
        if (flagCount != 4) throw new InvalidOperationException($"the flags are [transA, transB, alpha, beta], 4 floats, not {flagCount}.");
        var p = (float*)Data(flags);
        if (ra != 2 || rb != 2) throw new InvalidOperationException($"A and B must be matrices, not of ranks {ra} and {rb}.");
        var job = new GemmJob { TransA = p[0] != 0, TransB = p[1] != 0, Alpha = p[2], Beta = p[3] };
        var (m, ka) = job.TransA ? (da[1], da[0]) : (da[0], da[1]);
        var (kb, n) = job.TransB ? (db[1], db[0]) : (db[0], db[1]);
        if (ka != kb) throw new InvalidOperationException($"A [{da[0]},{da[1]}] and B [{db[0]},{db[1]}] do not contract (transA {job.TransA}, transB {job.TransB}).");
        long rows = rc == 2 ? dc[0] : 1, columns = rc >= 1 ? dc[rc - 1] : 1;
        if (rc > 2 || (rows != 1 && rows != m) || (columns != 1 && columns != n))
            throw new InvalidOperationException($"C of rank {rc} ({rows} × {columns}) does not broadcast to [{m},{n}].");
        long* dy = stackalloc long[] { m, n };
        var y = Output(context, dy, 2);
        job.A = (float*)Data(a);
        job.B = (float*)Data(b);
        job.C = (float*)Data(c);
        job.Y = (float*)Data(y);
        (job.M, job.N, job.K) = (m, n, ka);
        job.CRowStride = rows == 1 ? 0 : columns;
        job.CColumnStride = columns == 1 ? 0 : 1;
        if (m == 0 || n == 0) return IntPtr.Zero;

        long rowBlocks = (m + TileRows - 1) / TileRows, panels = (n + TileColumns - 1) / TileColumns;
        if (ShortContraction(m, ka))
        {
            PackPanelsOfB(&job, ref t_whole, ref t_wholeFloats);
            return ParallelFor(context, &RunGemmRows, rowBlocks, &job);
        }
        if (RowsOfBPay(&job))
        {
            // op(A)ᵀ as one panel ([K, 48], A's rows as its columns), packed once; the blocks read B's rows where they lie.
            var transposed = new GemmJob { B = job.A, N = m, K = ka, TransB = true };
            job.Packed = Scratch(ref t_whole, ref t_wholeFloats, TileColumns * Math.Max(ka, 1));
            PackB(&transposed, 0, 0, ka, job.Packed);
            Interlocked.Increment(ref s_rowsOfBProducts);
            return ParallelFor(context, &RunGemmRowsOfB, (n + PairBlockRows - 1) / PairBlockRows, &job);
        }
        if (ColumnsOfBPay(&job))
        {
            // op(A)ᵀ as one panel of B ([K, 48]), packed as PackB packs a transposed B (or copies one that is not).
            var transposed = new GemmJob { B = job.A, N = m, K = ka, TransB = !job.TransA };
            job.Packed = Scratch(ref t_whole, ref t_wholeFloats, TileColumns * ka);
            PackB(&transposed, 0, 0, ka, job.Packed);
            return ParallelFor(context, &RunGemmColumnsOfB, (n + ColumnsOfBPerBlock - 1) / ColumnsOfBPerBlock, &job);
        }
        // The tiles read A where it lies (TileOfA); only a last block of fewer than 8 rows is copied, padded with zeros.
        if (m % TileRows != 0)
        {
            job.Packed = Scratch(ref t_whole, ref t_wholeFloats, TileRows * Math.Max(ka, 1));
            PackA(&job, (rowBlocks - 1) * TileRows, 0, ka, job.Packed);
        }
        var group = ColumnBlocks(n).Panels;
        return ParallelFor(context, &RunGemmColumns, (panels + group - 1) / group, &job);
    }

    /// <summary>
    /// Whether a thin A times a transposed B (<c>A·Bᵀ</c>, A of at most 48 rows: an input gradient <c>g·Wᵀ</c> outside a
    /// pair, an eager one among them) runs as the pair's input gradient does (<see cref="InputGradientColumns"/>): 8 rows of
    /// B where they lie against Aᵀ packed once, each tile written to the result transposed. Else every panel of B would be
    /// packed, transposed 8 × 8 (at [32, 512]·[512, 512]ᵀ 5 % of the seed's eager step). Each element is the same chain of
    /// fused multiply-adds from +0 either way, so the bits do not change.
    /// </summary>
    private static bool RowsOfBPay(GemmJob* job) => job->TransB && !job->TransA && job->M <= TileColumns && job->K > 0;

    private static long s_rowsOfBProducts;

    /// <summary>How many products ran as <see cref="RowsOfBPay"/> says (for tests).</summary>
    internal static long RowsOfBProducts => Interlocked.Read(ref s_rowsOfBProducts);

    // Rows i0 … i0 + 15 of B: those columns of the result.
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunGemmRowsOfB(void* state, nuint index) => InputGradientColumns((GemmJob*)state, (long)index * PairBlockRows, PairBlockRows);

    /// <summary>
    /// Whether the blocks are rows of the result (a weight's gradient: K the batch, M and N the layer's widths), so that
    /// each block writes whole rows of a large result; else they are columns (the result has few rows).
    /// </summary>
    private static bool ShortContraction(long m, long k) => k <= 64 && m > 64;

    private const int MaxBlockK = 128;

    // Panels per block and steps along K for a thin A with n columns. Below 1 024 columns a block is one panel, its B read
    // 128 rows at a time, so that the threads share out the panels evenly: with blocks of 2 panels a 256-wide result was 3
    // blocks, 2 on one thread and 1 on the other (x·w at [32, 512]·[512, 256] on two threads, AMD EPYC: 63–64 µs against 49–56
    // with one panel a block; at 512 and 768 columns within 2 %, and the same on one thread). From 1 024 columns blocks of
    // 11 panels (2 KB of each row of B, which the hardware prefetcher streams better than 384-byte runs 8 KB apart: x·w + b
    // at width 2,048 took 3.2–3.5 ms against 5.1–5.5), 64 rows at a time, so that a block's sums stay in L2.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (long Panels, long Steps) ColumnBlocks(long n) => n >= 1024 ? (11, 64) : (1, MaxBlockK);

    // One block of panels of 48 columns: step by step along K, each panel of B read in place or packed and the tile of every
    // 8 rows accumulated in a buffer; at the end α and β·C, into the result.
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunGemmColumns(void* state, nuint index)
    {
        var job = (GemmJob*)state;
        var group = ColumnBlocks(job->N).Panels;
        GemmColumns(job, (long)index * group * TileColumns, group);
    }

    /// <summary>Columns j0 … of the result, <paramref name="panels"/> × 48 of them (fewer at the end), for a thin A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmColumns(GemmJob* job, long j0, long panels)
    {
        long k = job->K, rowBlocks = (job->M + TileRows - 1) / TileRows;
        var width = Math.Min(panels * TileColumns, (job->N - j0 + TileColumns - 1) / TileColumns * TileColumns);
        var blockK = ColumnBlocks(job->N).Steps;
        var sums = Scratch(ref t_panel, ref t_panelFloats, (rowBlocks * TileRows + blockK) * width);
        var packed = sums + rowBlocks * TileRows * width;
        for (long k0 = 0; k0 == 0 || k0 < k; k0 += blockK)
        {
            var steps = Math.Min(blockK, k - k0);
            for (long p = 0; p < width; p += TileColumns)
            {
                // The block of B that comes next (the next panel, or this block's first one a block of K further on), which
                // is fetched while this one is packed or its first tile runs: read in place it is too far from the last
                // rows for the hardware's prefetcher, 8 KB apart at width 2,048.
                long nj = j0 + p + TileColumns, nk = k0;
                if (p + TileColumns >= width) (nj, nk) = (j0, k0 + blockK);
                var hasNext = nk < k && nj < job->N;
                // B's rows are read where they are when they hold the panel's 48 columns; else packed (transposed, or cut short).
                var b = job->B + k0 * job->N + j0 + p;
                var ldb = job->N;
                float* next = null;
                if (job->TransB || j0 + p + TileColumns > job->N)
                {
                    b = packed + p * steps;
                    ldb = TileColumns;
                    PackB(job, j0 + p, k0, steps, b, hasNext && job->TransB ? job->B + nj * k + nk : null, Math.Min(TileColumns, job->N - nj));
                }
                else if (hasNext && nj + TileColumns <= job->N) next = job->B + nk * job->N + nj;
                for (long i = 0; i < rowBlocks; i++)
                {
                    float* y = sums + i * TileRows * width + p, ahead = i == 0 ? next : null;
                    if ((i + 1) * TileRows <= job->M) TileOfA(job, i * TileRows, k0, job->N - (j0 + p), b, ldb, steps, y, width, k0 > 0, ahead);
                    else TileOf(job->N - (j0 + p), job->Packed + k0 * TileRows, b, ldb, steps, y, width, accumulate: k0 > 0, ahead);
                }
            }
        }
        Finish(job, sums, width, 0, job->M, j0, Math.Min(width, job->N - j0));
    }

    // The fewest columns of B for which a panel is packed although B's rows hold it (see GemmColumns).

    // The smallest result (in floats, 8 MB) that a short contraction writes with non-temporal stores: a 2048 × 2048 weight's
    // update, which the step reads again only after several times the L3's worth of other data.
    private const long StreamedResult = 1 << 21;

    // One block of 8 rows: its panel of A packed, then a tile for every 48 columns, α and β·C applied to its accumulators.
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunGemmRows(void* state, nuint index) => GemmRows((GemmJob*)state, (long)index * TileRows);

    /// <summary>Rows i0 … i0 + 7 of the result (fewer at the end), for a short contraction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmRows(GemmJob* job, long i0)
    {
        long k = job->K, width = (job->N + TileColumns - 1) / TileColumns * TileColumns;
        var sums = Scratch(ref t_panel, ref t_panelFloats, TileRows * (width + Math.Max(k, 1)));
        var panel = sums + TileRows * width;
        PackA(job, i0, 0, k, panel);
        var stream = job->M * job->N >= StreamedResult;
        // Whole tiles go from their accumulators to the result; a cut one (the last rows or columns) through the buffer.
        var whole = i0 + TileRows <= job->M ? job->N / TileColumns * TileColumns : 0;
        for (long j = 0; j < whole; j += TileColumns)
        {
            var b = PanelOfB(job, j, out var ldb);
            Tile<WideTile, PackedA>(panel, b, ldb, k, null, 0, accumulate: false, finish: job, i0: i0, j0: j, stream: stream);
        }
        for (var j = whole; j < width; j += TileColumns)
        {
            var b = PanelOfB(job, j, out var ldb);
            TileOf(job->N - j, panel, b, ldb, k, sums + j, width, accumulate: false);
        }
        if (whole < job->N) Finish(job, sums + whole, width, i0, Math.Min(TileRows, job->M - i0), whole, job->N - whole, stream);
        else if (stream && Sse.IsSupported) Sse.StoreFence(); // as Finish: the stores are seen before the block counts as done
    }

    /// <summary>
    /// B's panels for <see cref="GemmRows"/> (a short contraction, every block reading all of them): a transposed B packed
    /// whole into <paramref name="buffer"/>; else only a last panel of fewer than 48 columns (padded with zeros), the whole
    /// ones being read where they lie (<see cref="PanelOfB"/>). The packing runs on the calling thread before the blocks start.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanelsOfB(GemmJob* job, ref float* buffer, ref long floats)
    {
        long k = Math.Max(job->K, 1), panels = (job->N + TileColumns - 1) / TileColumns;
        if (job->TransB)
        {
            job->Packed = Scratch(ref buffer, ref floats, panels * TileColumns * k);
            for (long j = 0; j < panels; j++) PackB(job, j * TileColumns, 0, job->K, job->Packed + j * TileColumns * k);
        }
        else if (job->N % TileColumns != 0)
        {
            job->Packed = Scratch(ref buffer, ref floats, TileColumns * k);
            PackB(job, (panels - 1) * TileColumns, 0, job->K, job->Packed);
        }
    }

    /// <summary>The panel of B at column <paramref name="j"/> as <see cref="PackPanelsOfB"/> left it, and its row stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float* PanelOfB(GemmJob* job, long j, out long ldb)
    {
        if (!job->TransB && j + TileColumns <= job->N)
        {
            ldb = job->N;
            return job->B + j;
        }
        ldb = TileColumns;
        return job->TransB ? job->Packed + j * job->K : job->Packed;
    }

    /// <summary>Rows i0 … i0 + 7 of op(A), steps k0 … k0 + steps − 1 of the contraction, as [steps, 8] (rows past M as zeros).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(GemmJob* job, long i0, long k0, long steps, float* dst)
    {
        long k = job->K, m = job->M, rows = Math.Min(TileRows, m - i0);
        var a = job->A;
        long q = 0;
        if (job->TransA) // stored [K, M]: a row of the panel is 8 consecutive elements
        {
            if (rows == TileRows)
                for (; q < steps; q++) Vector256.Load(a + (k0 + q) * m + i0).Store(dst + q * TileRows);
        }
        else if (rows == TileRows) // stored [M, K]: 8 × 8 blocks transposed
            for (; q + 8 <= steps; q += 8) Transpose8(a + i0 * k + k0 + q, k, dst + q * TileRows, TileRows);
        for (; q < steps; q++)
            for (long r = 0; r < TileRows; r++)
                dst[q * TileRows + r] = r >= rows ? 0f : job->TransA ? a[(k0 + q) * m + i0 + r] : a[(i0 + r) * k + k0 + q];
    }

    /// <summary>
    /// Columns j0 … j0 + 47 of op(B), steps k0 … k0 + steps − 1, as [steps, 48] (columns past N as zeros). For a transposed B,
    /// <paramref name="next"/> is where the block packed next starts (its first <paramref name="nextColumns"/> rows of B),
    /// whose cache lines are asked for as this block's are read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(GemmJob* job, long j0, long k0, long steps, float* dst, float* next = null, long nextColumns = 0)
    {
        long k = job->K, n = job->N, columns = Math.Min(TileColumns, n - j0);
        var b = job->B;
        if (!job->TransB) // stored [K, N]: a row of the panel is 48 consecutive elements
        {
            for (long q = 0; q < steps; q++)
            {
                float* s = b + (k0 + q) * n + j0, d = dst + q * TileColumns;
                if (columns == TileColumns)
                {
                    Vector512.Load(s).Store(d);
                    Vector512.Load(s + 16).Store(d + 16);
                    Vector512.Load(s + 32).Store(d + 32);
                }
                else
                {
                    long c = 0;
                    for (; c + 16 <= columns; c += 16) Vector512.Load(s + c).Store(d + c);
                    for (; c < columns; c++) d[c] = s[c];
                    for (; c < TileColumns; c++) d[c] = 0f;
                }
            }
            return;
        }
        for (long g = 0; g < TileColumns; g += 8) // stored [N, K]: 8 columns at a time, 8 × 8 blocks transposed
        {
            long q = 0;
            if (g + 8 <= columns)
                for (; q + 8 <= steps; q += 8)
                {
                    if (next != null && (q & 15) == 0 && g + 8 <= nextColumns)
                        for (long r = 0; r < 8; r++) Sse.Prefetch0(next + (g + r) * k + q);
                    Transpose8(b + (j0 + g) * k + k0 + q, k, dst + q * TileColumns + g, TileColumns);
                }
            else if (g >= columns) // 8 columns past N: zeros
                for (; q < steps; q++) Vector256<float>.Zero.Store(dst + q * TileColumns + g);
            for (; q < steps; q++)
                for (long c = g; c < g + 8; c++)
                    dst[q * TileColumns + c] = c < columns ? b[(j0 + c) * k + k0 + q] : 0f;
        }
    }

    /// <summary><c>dst[q · ld + r] = src[r · ls + q]</c> for r, q in 0 … 7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8(float* src, long ls, float* dst, long ld)
    {
        Vector256<float> r0 = Vector256.Load(src), r1 = Vector256.Load(src + ls), r2 = Vector256.Load(src + 2 * ls), r3 = Vector256.Load(src + 3 * ls);
        Vector256<float> r4 = Vector256.Load(src + 4 * ls), r5 = Vector256.Load(src + 5 * ls), r6 = Vector256.Load(src + 6 * ls), r7 = Vector256.Load(src + 7 * ls);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + ld);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 2 * ld);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 3 * ld);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 4 * ld);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 5 * ld);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 6 * ld);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 7 * ld);
    }
}
