using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NnxSharp.Onnx;

internal static unsafe partial class CpuKernels
{
    /// <summary>A tile's width, fixed when the JIT compiles <see cref="Tile{TWidth, TA}"/> for it: 48 columns, or the first 32 of them.</summary>
    private interface ITileWidth
    {
        /// <summary>Whether the tile computes only its first 32 columns (a panel cut to at most 32 by the result's edge).</summary>
        static abstract bool Narrow { get; }
    }

    private struct WideTile : ITileWidth { public static bool Narrow => false; }

    private struct NarrowTile : ITileWidth { public static bool Narrow => true; }

    /// <summary>How a tile reads A, fixed when the JIT compiles <see cref="Tile{TWidth, TA}"/> for it.</summary>
    private interface ITileA
    {
        /// <summary>Whether A is 8 rows where they lie (row stride lda, one float a step), else a packed panel ([k, 8]).</summary>
        static abstract bool InPlace { get; }
    }

    private struct PackedA : ITileA { public static bool InPlace => false; }

    private struct RowsOfA : ITileA { public static bool InPlace => true; }

    /// <summary>
    /// An 8 × 48 tile <paramref name="y"/> (row stride <paramref name="ldy"/>) plus, or set to when not
    /// <paramref name="accumulate"/>, the product of A's panel <paramref name="a"/> ([k, 8]; with <see cref="RowsOfA"/>, 8
    /// rows of k floats <paramref name="lda"/> apart; a packed A's steps may lie <paramref name="aStep"/> apart instead of 8, as
    /// 8 consecutive columns of a matrix do) and B's <paramref name="b"/> ([k, 48], row stride <paramref name="ldb"/>):
    /// 24 accumulators, each k one broadcast of A per row and three loads of B.
    /// <para>With <paramref name="finish"/> the tile is rows <paramref name="i0"/> … and columns <paramref name="j0"/> … of that
    /// product's result, all 8 × 48 inside it: α and β·C are applied to the accumulators and they go straight to the result, as
    /// <see cref="Finish"/> would store them from a buffer (the same operations, so the same bits; <paramref name="y"/> unused).</para>
    /// <para>With <paramref name="aAhead"/> each step asks L2 for the line of a packed A that many steps ahead.</para>
    /// <para>With <paramref name="prefetch"/> each step also asks for the three cache lines of 48 floats there, a row stride
    /// <paramref name="ldb"/> apart from one step to the next: the block of B that the next tiles read.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TWidth, TA>(float* a, float* b, long ldb, long k, float* y, long ldy, bool accumulate,
        GemmJob* finish = null, long i0 = 0, long j0 = 0, bool stream = false, float* prefetch = null, long lda = 0, long aStep = TileRows, long aAhead = 0)
        where TWidth : struct, ITileWidth where TA : struct, ITileA
    {
        // A's rows in place: each row's pointer, indexed by the step (a stays at the first row).
        float* a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda;
        Vector512<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
        Vector512<float> c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
        if (accumulate)
        {
            c00 = Vector512.Load(y + 0 * ldy + 0); c01 = Vector512.Load(y + 0 * ldy + 16); c02 = TWidth.Narrow ? default : Vector512.Load(y + 0 * ldy + 32);
            c10 = Vector512.Load(y + 1 * ldy + 0); c11 = Vector512.Load(y + 1 * ldy + 16); c12 = TWidth.Narrow ? default : Vector512.Load(y + 1 * ldy + 32);
            c20 = Vector512.Load(y + 2 * ldy + 0); c21 = Vector512.Load(y + 2 * ldy + 16); c22 = TWidth.Narrow ? default : Vector512.Load(y + 2 * ldy + 32);
            c30 = Vector512.Load(y + 3 * ldy + 0); c31 = Vector512.Load(y + 3 * ldy + 16); c32 = TWidth.Narrow ? default : Vector512.Load(y + 3 * ldy + 32);
            c40 = Vector512.Load(y + 4 * ldy + 0); c41 = Vector512.Load(y + 4 * ldy + 16); c42 = TWidth.Narrow ? default : Vector512.Load(y + 4 * ldy + 32);
            c50 = Vector512.Load(y + 5 * ldy + 0); c51 = Vector512.Load(y + 5 * ldy + 16); c52 = TWidth.Narrow ? default : Vector512.Load(y + 5 * ldy + 32);
            c60 = Vector512.Load(y + 6 * ldy + 0); c61 = Vector512.Load(y + 6 * ldy + 16); c62 = TWidth.Narrow ? default : Vector512.Load(y + 6 * ldy + 32);
            c70 = Vector512.Load(y + 7 * ldy + 0); c71 = Vector512.Load(y + 7 * ldy + 16); c72 = TWidth.Narrow ? default : Vector512.Load(y + 7 * ldy + 32);
        }
        else
        {
            c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = default;
            c40 = c41 = c42 = c50 = c51 = c52 = c60 = c61 = c62 = c70 = c71 = c72 = default;
        }
        var ahead = aAhead * aStep;
        for (long q = 0; q < k; q++, b += ldb)
        {
            if (ahead != 0) Sse.Prefetch1(a + ahead);
            if (prefetch != null)
            {
                Sse.Prefetch0(prefetch); Sse.Prefetch0(prefetch + 16); Sse.Prefetch0(prefetch + 32);
                prefetch += ldb;
            }
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), b2 = TWidth.Narrow ? default : Vector512.Load(b + 32), x;
            x = Vector512.Create(TA.InPlace ? a[q] : a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); if (!TWidth.Narrow) c02 = Vector512.FusedMultiplyAdd(x, b2, c02);
            x = Vector512.Create(TA.InPlace ? a1[q] : a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); if (!TWidth.Narrow) c12 = Vector512.FusedMultiplyAdd(x, b2, c12);
            x = Vector512.Create(TA.InPlace ? a2[q] : a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); if (!TWidth.Narrow) c22 = Vector512.FusedMultiplyAdd(x, b2, c22);
            x = Vector512.Create(TA.InPlace ? a3[q] : a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); if (!TWidth.Narrow) c32 = Vector512.FusedMultiplyAdd(x, b2, c32);
            x = Vector512.Create(TA.InPlace ? a4[q] : a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41); if (!TWidth.Narrow) c42 = Vector512.FusedMultiplyAdd(x, b2, c42);
            x = Vector512.Create(TA.InPlace ? a5[q] : a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51); if (!TWidth.Narrow) c52 = Vector512.FusedMultiplyAdd(x, b2, c52);
            x = Vector512.Create(TA.InPlace ? a6[q] : a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61); if (!TWidth.Narrow) c62 = Vector512.FusedMultiplyAdd(x, b2, c62);
            x = Vector512.Create(TA.InPlace ? a7[q] : a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71); if (!TWidth.Narrow) c72 = Vector512.FusedMultiplyAdd(x, b2, c72);
            if (!TA.InPlace) a += aStep;
        }
        if (finish != null)
        {
            // The job's fields in locals: read through its pointer they would be read again after every store to the result.
            var (alpha, beta, cs, ldo, ldc) = (finish->Alpha, finish->Beta, finish->CColumnStride, finish->N, finish->CRowStride);
            float* to = finish->Y + i0 * ldo + j0, from = finish->C + i0 * ldc + j0 * cs;
            Out(c00, to + 0 * ldo, from + 0 * ldc, alpha, beta, cs, stream); Out(c01, to + 0 * ldo + 16, from + 0 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c02, to + 0 * ldo + 32, from + 0 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c10, to + 1 * ldo, from + 1 * ldc, alpha, beta, cs, stream); Out(c11, to + 1 * ldo + 16, from + 1 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c12, to + 1 * ldo + 32, from + 1 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c20, to + 2 * ldo, from + 2 * ldc, alpha, beta, cs, stream); Out(c21, to + 2 * ldo + 16, from + 2 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c22, to + 2 * ldo + 32, from + 2 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c30, to + 3 * ldo, from + 3 * ldc, alpha, beta, cs, stream); Out(c31, to + 3 * ldo + 16, from + 3 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c32, to + 3 * ldo + 32, from + 3 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c40, to + 4 * ldo, from + 4 * ldc, alpha, beta, cs, stream); Out(c41, to + 4 * ldo + 16, from + 4 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c42, to + 4 * ldo + 32, from + 4 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c50, to + 5 * ldo, from + 5 * ldc, alpha, beta, cs, stream); Out(c51, to + 5 * ldo + 16, from + 5 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c52, to + 5 * ldo + 32, from + 5 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c60, to + 6 * ldo, from + 6 * ldc, alpha, beta, cs, stream); Out(c61, to + 6 * ldo + 16, from + 6 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c62, to + 6 * ldo + 32, from + 6 * ldc + 32 * cs, alpha, beta, cs, stream);
            Out(c70, to + 7 * ldo, from + 7 * ldc, alpha, beta, cs, stream); Out(c71, to + 7 * ldo + 16, from + 7 * ldc + 16 * cs, alpha, beta, cs, stream); if (!TWidth.Narrow) Out(c72, to + 7 * ldo + 32, from + 7 * ldc + 32 * cs, alpha, beta, cs, stream);
            return;
        }
        c00.Store(y + 0 * ldy + 0); c01.Store(y + 0 * ldy + 16); if (!TWidth.Narrow) c02.Store(y + 0 * ldy + 32);
        c10.Store(y + 1 * ldy + 0); c11.Store(y + 1 * ldy + 16); if (!TWidth.Narrow) c12.Store(y + 1 * ldy + 32);
        c20.Store(y + 2 * ldy + 0); c21.Store(y + 2 * ldy + 16); if (!TWidth.Narrow) c22.Store(y + 2 * ldy + 32);
        c30.Store(y + 3 * ldy + 0); c31.Store(y + 3 * ldy + 16); if (!TWidth.Narrow) c32.Store(y + 3 * ldy + 32);
        c40.Store(y + 4 * ldy + 0); c41.Store(y + 4 * ldy + 16); if (!TWidth.Narrow) c42.Store(y + 4 * ldy + 32);
        c50.Store(y + 5 * ldy + 0); c51.Store(y + 5 * ldy + 16); if (!TWidth.Narrow) c52.Store(y + 5 * ldy + 32);
        c60.Store(y + 6 * ldy + 0); c61.Store(y + 6 * ldy + 16); if (!TWidth.Narrow) c62.Store(y + 6 * ldy + 32);
        c70.Store(y + 7 * ldy + 0); c71.Store(y + 7 * ldy + 16); if (!TWidth.Narrow) c72.Store(y + 7 * ldy + 32);
    }

    /// <summary>
    /// <see cref="Tile{TWidth, TA}"/> for a panel of which <paramref name="columns"/> lie inside the result: the narrow tile when
    /// they are 32 or fewer (the last panel of a width such as 512 = 10 · 48 + 32), so its 16 columns past the edge cost nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileOf(long columns, float* a, float* b, long ldb, long k, float* y, long ldy, bool accumulate, float* prefetch = null)
    {
        if (columns <= TileColumns - 16) Tile<NarrowTile, PackedA>(a, b, ldb, k, y, ldy, accumulate, prefetch: prefetch);
        else Tile<WideTile, PackedA>(a, b, ldb, k, y, ldy, accumulate, prefetch: prefetch);
    }

    /// <summary><see cref="TileOf"/> for A's steps <paramref name="aStep"/> apart (8 columns of a matrix in place).</summary>
    private static void TileOfColumns(long columns, float* a, long aStep, float* b, long ldb, long k, float* y, long ldy, bool accumulate, long aAhead = 0)
    {
        if (columns <= TileColumns - 16) Tile<NarrowTile, PackedA>(a, b, ldb, k, y, ldy, accumulate, aStep: aStep, aAhead: aAhead);
        else Tile<WideTile, PackedA>(a, b, ldb, k, y, ldy, accumulate, aStep: aStep, aAhead: aAhead);
    }

    /// <summary><see cref="TileOf"/> for 8 rows of A in place, <paramref name="lda"/> apart (<see cref="RowsOfA"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileOfRows(long columns, float* a, long lda, float* b, long ldb, long k, float* y, long ldy, bool accumulate = false, float* prefetch = null)
    {
        if (columns <= TileColumns - 16) Tile<NarrowTile, RowsOfA>(a, b, ldb, k, y, ldy, accumulate, prefetch: prefetch, lda: lda);
        else Tile<WideTile, RowsOfA>(a, b, ldb, k, y, ldy, accumulate, prefetch: prefetch, lda: lda);
    }

    /// <summary>
    /// <see cref="TileOf"/> for rows <paramref name="i"/> … <paramref name="i"/> + 7 of op(A), all inside it, read where they lie
    /// from step <paramref name="k0"/>: 8 rows of A (<see cref="RowsOfA"/>, K apart), or for a transposed A 8 consecutive
    /// elements of its rows (M apart from one step to the next). Nothing is copied, so the blocks start at once (a packed
    /// A would be packed whole on the calling thread while the others wait).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileOfA(GemmJob* job, long i, long k0, long columns, float* b, long ldb, long k, float* y, long ldy, bool accumulate, float* prefetch)
    {
        if (!job->TransA)
        {
            TileOfRows(columns, job->A + i * job->K + k0, job->K, b, ldb, k, y, ldy, accumulate, prefetch);
            return;
        }
        var a = job->A + k0 * job->M + i;
        if (columns <= TileColumns - 16) Tile<NarrowTile, PackedA>(a, b, ldb, k, y, ldy, accumulate, prefetch: prefetch, aStep: job->M);
        else Tile<WideTile, PackedA>(a, b, ldb, k, y, ldy, accumulate, prefetch: prefetch, aStep: job->M);
    }

    /// <summary>
    /// Sixteen products into the result at <paramref name="y"/>: α·v + β·C (C at <paramref name="c"/>, or the one value there when
    /// <paramref name="cs"/> is 0), as <see cref="Finish"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Out(Vector512<float> v, float* y, float* c, float alpha, float beta, long cs, bool stream)
    {
        if (alpha != 1) v *= Vector512.Create(alpha);
        if (beta != 0) v += cs == 0 ? Vector512.Create(*c * beta) : Vector512.Load(c) * Vector512.Create(beta);
        if (stream && ((nint)y & 63) == 0) Avx512F.StoreAlignedNonTemporal(y, v);
        else v.Store(y);
    }

    /// <summary>
    /// <see cref="Finish"/> for a tile computed transposed (the result's transpose, 8 × 48, row stride 48): result element
    /// (i0 + i, j0 + r) is <c>α·tile[r, i] + β·C</c>, rounded as <see cref="Finish"/> rounds it, for i &lt; rows, r &lt; columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishTransposed(GemmJob* job, float* tile, long i0, long rows, long j0, long columns)
    {
        var (alpha, beta, n, cs) = (job->Alpha, job->Beta, job->N, job->CColumnStride);
        long i = 0;
        if (columns == TileRows)
        {
            // 8 rows of the result at a time: an 8 × 8 block of the tile transposed, then α and β·C on whole rows of 8.
            var block = stackalloc float[TileRows * TileRows];
            var (va, vb) = (Vector256.Create(alpha), Vector256.Create(beta));
            for (; i + TileRows <= rows; i += TileRows)
            {
                Transpose8(tile + i, TileColumns, block, TileRows);
                for (long q = 0; q < TileRows; q++)
                {
                    var v = Vector256.Load(block + q * TileRows);
                    if (alpha != 1) v *= va;
                    if (beta != 0)
                    {
                        var c = job->C + (i0 + i + q) * job->CRowStride + j0 * cs;
                        v += cs == 0 ? Vector256.Create(*c * beta) : Vector256.Load(c) * vb;
                    }
                    v.Store(job->Y + (i0 + i + q) * n + j0);
                }
            }
        }
        for (; i < rows; i++)
        {
            var y = job->Y + (i0 + i) * n + j0;
            var c = job->C + (i0 + i) * job->CRowStride + j0 * cs;
            for (long r = 0; r < columns; r++)
            {
                var v = tile[r * TileColumns + i];
                if (alpha != 1) v *= alpha;
                if (beta != 0) v += c[r * cs] * beta;
                y[r] = v;
            }
        }
    }

    /// <summary>
    /// Rows i0 … i0 + rows − 1 and columns j0 … j0 + columns − 1 of the result from the products in <paramref name="t"/> (row
    /// stride <paramref name="ldt"/>): <c>α·t + β·C</c>, each product rounded as the reference's Mul and Add round it. With
    /// <paramref name="stream"/> the aligned vectors go straight to memory (non-temporal stores): a result larger than the
    /// caches is not read back first, and does not push out what the step reads next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Finish(GemmJob* job, float* t, long ldt, long i0, long rows, long j0, long columns, bool stream = false)
    {
        var (alpha, beta, n) = (job->Alpha, job->Beta, job->N);
        var (va, vb) = (Vector512.Create(alpha), Vector512.Create(beta));
        for (long r = 0; r < rows; r++)
        {
            float* s = t + r * ldt, y = job->Y + (i0 + r) * n + j0;
            var c = job->C + (i0 + r) * job->CRowStride + j0 * job->CColumnStride;
            var (cs, vc) = (job->CColumnStride, Vector512.Create(*c * beta));
            long q = 0;
            for (; q + 16 <= columns; q += 16)
            {
                var v = Vector512.Load(s + q);
                if (alpha != 1) v *= va;
                if (beta != 0) v += cs == 0 ? vc : Vector512.Load(c + q) * vb;
                if (stream && ((nint)(y + q) & 63) == 0 && Avx512F.IsSupported) Avx512F.StoreAlignedNonTemporal(y + q, v);
                else v.Store(y + q);
            }
            for (; q < columns; q++)
            {
                var v = s[q];
                if (alpha != 1) v *= alpha;
                if (beta != 0) v += c[q * cs] * beta;
                y[q] = v;
            }
        }
        if (stream && Sse.IsSupported) Sse.StoreFence(); // the stores are seen before the block counts as done
    }
}
