using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// <see cref="NnxCpuOps.Slice"/> and <see cref="NnxCpuOps.Pad"/>: ONNX Slice (every axis, step 1) and Pad (zeros) as
/// copies of contiguous runs split over the threads. ORT's copy on one thread; a convolution's per-offset windows
/// ([128, 16, 16, 32] → [128, 14, 14, 32], nine of them in a training step) are runs of 14 · 32 floats, and its padded
/// input ([128, 14, 14, 32] → [128, 16, 16, 32]) rows of 16 · 32.
/// </summary>
internal static unsafe partial class CpuKernels
{
    /// <summary>What one slice hands to its blocks: rows of <see cref="Run"/> elements, each read at its own offset.</summary>
    private struct SliceJob
    {
        public byte* Source;
        public byte* Target;
        public long ElementSize;
        public long Run;          // contiguous elements per row (the inner axes from RowRank on)
        public long Rows;
        public long RowsPerBlock;
        public int RowRank;       // the axes that index rows: 0 .. RowRank − 1
        public long* RowDims;     // the output's extent on those axes
        public long* Strides;     // the input's element strides on those axes
        public long BaseOffset;   // the input offset of the output's first element
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ComputeSlice(IntPtr context)
    {
        var data = Input(context, 0);
        var starts = (long*)Data(Input(context, 1));
        var ends = (long*)Data(Input(context, 2));
        var dims = stackalloc long[MaxRank];
        var r = ShapeOf(data, dims, out var element, out _);
        var outDims = stackalloc long[MaxRank];
        var strides = stackalloc long[MaxRank];
        long stride = 1, count = 1, offset = 0;
        for (var d = r - 1; d >= 0; d--)
        {
            if (starts[d] < 0 || ends[d] < starts[d] || ends[d] > dims[d])
                throw new InvalidOperationException($"axis {d}: [{starts[d]}, {ends[d]}) is not inside 0 … {dims[d]} (the lowering gives normalised bounds).");
            outDims[d] = ends[d] - starts[d];
            strides[d] = stride;
            offset += starts[d] * stride;
            stride *= dims[d];
            count *= outDims[d];
        }
        var y = Output(context, outDims, r);
        if (count == 0) return IntPtr.Zero;

        // The run: the innermost axis, and the ones outside it while every axis inside is whole.
        var rowRank = r;
        long run = 1;
        while (rowRank > 0)
        {
            rowRank--;
            run *= outDims[rowRank];
            if (outDims[rowRank] != dims[rowRank]) break;
        }
        var job = new SliceJob
        {
            Source = (byte*)Data(data),
            Target = (byte*)Data(y),
            ElementSize = ElementSize(element),
            Run = run,
            Rows = count / run,
            RowsPerBlock = Math.Max(1, BlockElements / run),
            RowRank = rowRank,
            RowDims = outDims,
            Strides = strides,
            BaseOffset = offset,
        };
        return ParallelFor(context, &RunSliceBlock, (job.Rows + job.RowsPerBlock - 1) / job.RowsPerBlock, &job);
    }

    private static long ElementSize(int element) => element switch
    {
        2 or 3 or 9 => 1,        // uint8, int8, bool
        4 or 5 or 10 or 16 => 2, // uint16, int16, float16, bfloat16
        1 or 6 or 12 => 4,       // float, int32, uint32
        7 or 11 or 13 => 8,      // int64, double, uint64
        _ => throw new InvalidOperationException($"no row copy for ONNX element type {element} (strings and sub-byte types are not copied here)."),
    };

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunSliceBlock(void* state, nuint index)
    {
        var job = (SliceJob*)state;
        var first = (long)index * job->RowsPerBlock;
        var last = Math.Min(first + job->RowsPerBlock, job->Rows);
        var bytes = job->Run * job->ElementSize;
        for (var row = first; row < last; row++)
        {
            // The input offset of this row: its index over the row axes, each shifted by the start (in BaseOffset).
            long rest = row, offset = job->BaseOffset;
            for (var d = job->RowRank - 1; d >= 0; d--)
            {
                var extent = job->RowDims[d];
                var i = rest % extent;
                rest /= extent;
                offset += i * job->Strides[d];
            }
            Buffer.MemoryCopy(job->Source + offset * job->ElementSize, job->Target + row * bytes, bytes, bytes);
        }
    }

    /// <summary>What one pad hands to its blocks: output rows of <see cref="PadJob.Run"/> elements, each zeros or input.</summary>
    private struct PadJob
    {
        public byte* Source;
        public byte* Target;
        public long ElementSize;
        public long Run;          // output elements per row (the inner axes from RowRank on)
        public long Inner;        // elements per index of axis RowRank (the unpadded axes inside it)
        public long Rows;
        public long RowsPerBlock;
        public int RowRank;
        public long* OutDims;     // the output's extents
        public long* InDims;      // the input's extents
        public long* Before;      // the zeros before, per axis
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ComputePad(IntPtr context)
    {
        var data = Input(context, 0);
        var pads = (long*)Data(Input(context, 1));
        var dims = stackalloc long[MaxRank];
        var r = ShapeOf(data, dims, out var element, out _);
        if (r == 0) throw new InvalidOperationException("a scalar has no axis to pad.");
        var outDims = stackalloc long[MaxRank];
        long count = 1;
        for (var d = 0; d < r; d++)
        {
            if (pads[d] < 0 || pads[r + d] < 0) throw new InvalidOperationException($"axis {d}: pads {pads[d]} and {pads[r + d]} must not be negative.");
            outDims[d] = pads[d] + dims[d] + pads[r + d];
            count *= outDims[d];
        }
        var y = Output(context, outDims, r);
        if (count == 0) return IntPtr.Zero;

        // The row: the innermost padded axis and every axis inside it (which are unpadded).
        var rowRank = r - 1;
        long inner = 1;
        while (rowRank > 0 && pads[rowRank] == 0 && pads[r + rowRank] == 0) inner *= dims[rowRank--];
        var run = outDims[rowRank] * inner;
        var job = new PadJob
        {
            Source = (byte*)Data(data),
            Target = (byte*)Data(y),
            ElementSize = ElementSize(element),
            Run = run,
            Inner = inner,
            Rows = count / run,
            RowsPerBlock = Math.Max(1, BlockElements / run),
            RowRank = rowRank,
            OutDims = outDims,
            InDims = dims,
            Before = pads,
        };
        return ParallelFor(context, &RunPadBlock, (job.Rows + job.RowsPerBlock - 1) / job.RowsPerBlock, &job);
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPadBlock(void* state, nuint index)
    {
        var job = (PadJob*)state;
        var first = (long)index * job->RowsPerBlock;
        var last = Math.Min(first + job->RowsPerBlock, job->Rows);
        var size = job->ElementSize;
        var axis = job->RowRank;
        var before = job->Before[axis] * job->Inner * size;
        var copied = job->InDims[axis] * job->Inner * size;
        var rowBytes = job->Run * size;
        for (var row = first; row < last; row++)
        {
            var target = job->Target + row * rowBytes;
            // The input row this output row reads, or none when an outer index falls in the padding.
            long rest = row, offset = 0, stride = job->InDims[axis] * job->Inner;
            var inside = true;
            for (var d = axis - 1; d >= 0; d--)
            {
                var i = rest % job->OutDims[d] - job->Before[d];
                rest /= job->OutDims[d];
                if (i < 0 || i >= job->InDims[d]) { inside = false; break; }
                offset += i * stride;
                stride *= job->InDims[d];
            }
            if (!inside)
            {
                new Span<byte>(target, (int)rowBytes).Clear();
                continue;
            }
            new Span<byte>(target, (int)before).Clear();
            Buffer.MemoryCopy(job->Source + offset * size, target + before, copied, copied);
            new Span<byte>(target + before + copied, (int)(rowBytes - before - copied)).Clear();
        }
    }

    /// <summary>
    /// <c>y[0 … n) = value</c> in the kernels' own vectors. The fused programs fill and clear small runs at every block,
    /// and <c>Span.Fill</c> or <c>Clear</c> there would be .NET library code that tiered compilation recompiles twice
    /// during a run's first few hundred steps, on a thread that takes a core from the step (notes/threads.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillFloats(float* y, float value, long n)
    {
        long i = 0;
        if (Avx512F.IsSupported)
            for (var v = Vector512.Create(value); i + 16 <= n; i += 16) v.Store(y + i);
        for (var v = Vector256.Create(value); i + 8 <= n; i += 8) v.Store(y + i);
        for (; i < n; i++) y[i] = value;
    }

    /// <summary><c>to[0 … n) = from[0 … n)</c> for runs that do not overlap, as <see cref="FillFloats"/> is to a fill.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyFloats(float* from, float* to, long n)
    {
        long i = 0;
        if (Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16) Vector512.Load(from + i).Store(to + i);
        for (; i + 8 <= n; i += 8) Vector256.Load(from + i).Store(to + i);
        for (; i < n; i++) to[i] = from[i];
    }
}
