using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NnxSharp.Onnx;

internal static unsafe partial class CpuKernels
{
    // Columns of B per block of a product that reads B's columns as a tile's rows (six tiles of 8).
    private const int ColumnsOfBPerBlock = 48;

    // Rows of B ahead of a tile's step that it asks L2 for: each step reads a line 8 KB past the last at width 2,048, which
    // the hardware does not fetch ahead (x·w there on one AMD EPYC core: 34 GFLOP/s without, 61 at 16 rows, 76 at 32, 91
    // at 64, 89 at 96, 76 at 128).
    private const int ColumnsOfBAhead = 64;

    // Steps of the contraction per pass over a block's columns: 256 rows of B span 2 MB at width 2,048, pages that the
    // TLB still holds while the block's six tiles read them.
    private const int ColumnsOfBSteps = 256;

    /// <summary>
    /// Whether a thin product <c>op(A)·B</c> with B not transposed runs as its transpose <c>Bᵀ·op(A)ᵀ</c>
    /// (<see cref="GemmColumnsOfB"/>): A of at most 48 rows against a B of 2 MB or more, which is beyond L2, so that a
    /// block of B read row by row does not stay in L1 between the tiles of a panel (its rows lie a multiple of 4 KB
    /// apart, and the tiles after the first read it from L2). Read as a tile's rows, each element of B is broadcast once.
    /// </summary>
    private static bool ColumnsOfBPay(GemmJob* job) => !job->TransB && job->M <= TileColumns && job->K * job->N >= 1 << 19;

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunGemmColumnsOfB(void* state, nuint index) => GemmColumnsOfB((GemmJob*)state, (long)index * ColumnsOfBPerBlock);

    /// <summary>
    /// Columns j0 … j0 + 47 of the result (fewer at the end) for <see cref="ColumnsOfBPay"/>: 8 columns of B at a time, where
    /// they lie (a tile's steps a row of B apart), against op(A)ᵀ packed whole (<see cref="GemmJob.Packed"/>, [K, 48]); the
    /// contraction in passes of <see cref="ColumnsOfBSteps"/>, the tiles' sums kept between them. Each tile goes to the
    /// result transposed, <c>α·t + β·C</c> rounded as <see cref="Finish"/> rounds it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GemmColumnsOfB(GemmJob* job, long j0)
    {
        long m = job->M, n = job->N, k = job->K, last = Math.Min(j0 + ColumnsOfBPerBlock, n);
        long tiles = (last - j0 + TileRows - 1) / TileRows;
        var sums = Scratch(ref t_panel, ref t_panelFloats, tiles * TileRows * TileColumns + ColumnsOfBSteps * TileRows);
        var edge = sums + tiles * TileRows * TileColumns;
        for (long k0 = 0; k0 == 0 || k0 < k; k0 += ColumnsOfBSteps)
        {
            var steps = Math.Min(ColumnsOfBSteps, k - k0);
            for (long t = 0; t < tiles; t++)
            {
                long c0 = j0 + t * TileRows, columns = Math.Min(TileRows, n - c0);
                float* a = job->B + k0 * n + c0;
                long aStep = n;
                if (columns < TileRows) // B's last columns, copied with zeros after them: a tile reads 8
                {
                    for (long q = 0; q < steps; q++)
                        for (long r = 0; r < TileRows; r++) edge[q * TileRows + r] = r < columns ? a[q * n + r] : 0f;
                    a = edge;
                    aStep = TileRows;
                }
                TileOfColumns(m, a, aStep, job->Packed + k0 * TileColumns, TileColumns, steps, sums + t * TileRows * TileColumns, TileColumns, accumulate: k0 > 0, aStep == n ? ColumnsOfBAhead : 0);
            }
        }
        for (long t = 0; t < tiles; t++)
        {
            var c0 = j0 + t * TileRows;
            FinishTransposed(job, sums + t * TileRows * TileColumns, 0, m, c0, Math.Min(TileRows, n - c0));
        }
    }
}
