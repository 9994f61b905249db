using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// <see cref="NnxCpuOps.ColumnSums"/>: a sum (or mean) over leading axes as the columns of a [rows, columns] matrix, each
/// thread summing a block of columns row by row. ONNX Runtime's ReduceSum and ReduceMean over axis 0 of a [32, 512]
/// (the per-feature sums of a BatchNorm or a bias gradient at batch 32) took 5 µs on one thread and 24–31 µs on two
/// (notes/compiler.md); a block of 32 K elements here runs on the calling thread, so a small sum pays no fork and join.
/// </summary>
internal static unsafe partial class CpuKernels
{
    /// <summary>What one column sum hands to its blocks.</summary>
    private struct ColumnJob
    {
        public void* X, Y;
        public long Rows, Columns, ColumnsPerBlock;
        public double Scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ComputeColumnSums(IntPtr context, bool isDouble)
    {
        var x = Input(context, 0);
        var shape = Input(context, 1);
        var dims = stackalloc long[MaxRank];
        ShapeOf(x, dims, out _, out var count);
        var vector = stackalloc long[MaxRank];
        var rank = ShapeOf(shape, vector, out _, out var outRank); // the output's shape is a vector of outRank extents
        if (rank != 1) throw new InvalidOperationException($"the output shape must be a vector, not of rank {rank}.");
        var target = (long*)Data(shape);
        long columns = 1;
        for (var d = 0; d < outRank; d++) columns *= target[d];
        if (columns == 0 || count % columns != 0) throw new InvalidOperationException($"{count} elements do not form rows of {columns}.");
        var scale = Input(context, 2);
        var y = Output(context, target, (int)outRank);
        var job = new ColumnJob
        {
            X = Data(x),
            Y = Data(y),
            Rows = count / columns,
            Columns = columns,
            Scale = isDouble ? *(double*)Data(scale) : *(float*)Data(scale),
        };
        // Blocks of whole vectors of columns, about BlockElements elements each.
        job.ColumnsPerBlock = Math.Min(columns, Math.Max(8, BlockElements / Math.Max(job.Rows, 1) / 8 * 8));
        delegate* unmanaged<void*, nuint, void> body = isDouble ? &RunColumnsDouble : &RunColumnsFloat;
        return ParallelFor(context, body, (columns + job.ColumnsPerBlock - 1) / job.ColumnsPerBlock, &job);
    }

    /// <summary>
    /// The column sums of a [<paramref name="rows"/>, <paramref name="columns"/>] matrix times <paramref name="scale"/>, on the
    /// calling thread: the node's blocks one after the other (each column's sum is the same in any block), for an eager call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SumColumns(void* x, void* y, long rows, long columns, double scale, bool isDouble)
    {
        var job = new ColumnJob { X = x, Y = y, Rows = rows, Columns = columns, Scale = scale, ColumnsPerBlock = columns };
        if (isDouble) RunColumns<double>(&job, 0);
        else RunColumns<float>(&job, 0);
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunColumnsFloat(void* state, nuint index) => RunColumns<float>((ColumnJob*)state, (long)index);

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunColumnsDouble(void* state, nuint index) => RunColumns<double>((ColumnJob*)state, (long)index);

    // Each column summed from row 0 down, then scaled once (a mean is the sum times 1/n, as ReduceMean's reference is).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunColumns<T>(ColumnJob* job, long index) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var first = index * job->ColumnsPerBlock;
        var end = Math.Min(first + job->ColumnsPerBlock, job->Columns);
        T* x = (T*)job->X, y = (T*)job->Y;
        var (rows, columns) = (job->Rows, job->Columns);
        var scale = T.CreateTruncating(job->Scale);
        var c = first;
        if (Vector256.IsHardwareAccelerated)
            for (; c + Vector256<T>.Count <= end; c += Vector256<T>.Count)
            {
                var sum = Vector256<T>.Zero;
                for (long r = 0; r < rows; r++) sum += Vector256.Load(x + r * columns + c);
                (sum * scale).Store(y + c);
            }
        for (; c < end; c++)
        {
            var sum = T.Zero;
            for (long r = 0; r < rows; r++) sum += x[r * columns + c];
            y[c] = sum * scale;
        }
    }
}
