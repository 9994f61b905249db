using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// An eager call's transpose of a float32 matrix (<c>swap_last_axes</c> of a rank-2 tensor: the MatMul rule's Wᵀ and xᵀ
/// for a layer too small for the jitted products, nine a step of the seed's eager loop at width 32) copied on the calling
/// thread without a session (<see cref="IEagerKernels"/>), 8 × 8 blocks at a time. A copy, so the session's bits. What
/// it saves is the session's run, about 2 µs, against well under 1 µs of copying at 32 × 32.
/// </summary>
internal sealed unsafe class TransposeExecutable : CallingThreadExecutable
{
    /// <summary>The most elements taken (a 256 × 256 matrix); beyond, the copy outweighs the session's cost.</summary>
    public const long MaxElements = 1 << 16;

    private readonly long _rows, _columns; // of the operand

    private TransposeExecutable(OrtBackend backend, Graph graph, TimeSpan lowering) : base(backend, graph, lowering)
    {
        var x = graph.Inputs[0].Aval.Shape;
        (_rows, _columns) = (x[0], x[1]);
    }

    /// <summary>The kernel's executable for <paramref name="graph"/>, or null when the kernel does not run it on <paramref name="backend"/>.</summary>
    public static TransposeExecutable? TryCreate(OrtBackend backend, Graph graph)
    {
        if (backend.CudaDevice is not null || !OrtNative.Available || !Avx.IsSupported || graph.Inputs.Length != 1 || graph.Outputs.Length != 1
            || graph.Nodes is not [{ Op: Transpose { Perm: [1, 0] } } node] || node.Inputs[0] != graph.Inputs[0] || node.Output != graph.Outputs[0])
            return null;
        var x = graph.Inputs[0].Aval;
        if (x.DType != DType.Float32 || x.Shape.Rank != 2 || x.Shape.Size == 0 || x.Shape.Size > MaxElements || backend.ThreadsFor(graph) != 1) return null;
        return new TransposeExecutable(backend, graph, TimeSpan.Zero);
    }

    protected override void Compute(IReadOnlyList<DeviceBuffer> inputs, OrtBuffer output)
    {
        Copy((float*)DataOf(inputs[0]), (float*)DataOf(output), _rows, _columns);
        // The values behind the pointers must outlive the copy: the input (through the list that holds it) and the output.
        GC.KeepAlive(inputs);
        GC.KeepAlive(output);
    }

    /// <summary><c>y[c, r] = x[r, c]</c> for x [rows, columns]: whole 8 × 8 blocks transposed in registers, the edges one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Copy(float* x, float* y, long rows, long columns)
    {
        long r = 0;
        for (; r + 8 <= rows; r += 8)
        {
            long c = 0;
            for (; c + 8 <= columns; c += 8) CpuKernels.Transpose8(x + r * columns + c, columns, y + c * rows + r, rows);
            for (; c < columns; c++)
                for (var q = r; q < r + 8; q++) y[c * rows + q] = x[q * columns + c];
        }
        for (; r < rows; r++)
            for (long c = 0; c < columns; c++) y[c * rows + r] = x[r * columns + c];
    }
}
