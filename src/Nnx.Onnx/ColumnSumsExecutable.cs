using System.Diagnostics;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// An eager call's sum or mean over leading axes (a BatchNorm's per-feature statistics, a bias's gradient, a cotangent
/// summed down to its operand's shape) computed on the calling thread without a session (<see cref="IEagerKernels"/>):
/// the graph the session would run is one <see cref="NnxCpuOps.ColumnSums"/> node, and this runs that node's own loop
/// (<see cref="CpuKernels.SumColumns"/>), so the result has its bits. What it saves is the session's run, about 2 µs,
/// against well under 1 µs of arithmetic at [32, 32]; the seed's eager step at width 32 makes 41 of these sums.
/// </summary>
internal sealed unsafe class ColumnSumsExecutable : CallingThreadExecutable
{
    private readonly int _input;       // the graph input summed
    private readonly long _rows, _columns;
    private readonly double _scale;
    private readonly bool _isDouble;

    private ColumnSumsExecutable(OrtBackend backend, Graph graph, int input, long columns, double scale, TimeSpan lowering) : base(backend, graph, lowering)
    {
        _input = input;
        _columns = columns;
        _rows = graph.Inputs[input].Aval.Shape.Size / columns;
        _scale = scale;
        _isDouble = graph.Inputs[input].Aval.DType == DType.Float64;
    }

    /// <summary>The kernel's executable for <paramref name="graph"/>, or null when the kernel does not run it on <paramref name="backend"/>.</summary>
    public static ColumnSumsExecutable? TryCreate(OrtBackend backend, Graph graph)
    {
        if (backend.CudaDevice is not null || !OrtNative.Available || !CpuKernels.Available || graph.Nodes.Length != 1 || graph.Outputs.Length != 1
            || graph.Nodes[0].Op is not (ReduceSum or ReduceMean) || backend.ThreadsFor(graph) != 1)
            return null;
        var output = graph.Outputs[0].Aval;
        if (output.DType is not (DType.Float32 or DType.Float64) || output.Shape.Size == 0) return null;
        var watch = Stopwatch.StartNew();
        // The node the session would run: Nnx's ColumnSums alone, on a graph input, with its scale as a constant.
        var model = OnnxLowering.ToModel(graph, inProcess: true, threads: 1);
        if (model.Graph.Node is not [{ Domain: NnxCpuOps.Domain, OpType: NnxCpuOps.ColumnSums } node] || node.Input.Count != 3
            || node.Output is not ["y0"] || !node.Input[0].StartsWith('x') || !int.TryParse(node.Input[0].AsSpan(1), out var input)
            || input >= graph.Inputs.Length || model.Graph.Initializer.FirstOrDefault(t => t.Name == node.Input[2]) is not { } scale)
            return null;
        var bytes = scale.RawData.Span;
        if (bytes.Length != output.DType.ItemSize()) return null;
        var value = output.DType == DType.Float64 ? BitConverter.ToDouble(bytes) : BitConverter.ToSingle(bytes);
        var columns = Math.Max(output.Shape.Size, 1);
        if (graph.Inputs[input].Aval.Shape.Size % columns != 0) return null;
        return new ColumnSumsExecutable(backend, graph, input, columns, value, watch.Elapsed);
    }

    protected override void Compute(IReadOnlyList<DeviceBuffer> inputs, OrtBuffer output)
    {
        CpuKernels.SumColumns(DataOf(inputs[_input]), DataOf(output), _rows, _columns, _scale, _isDouble);
        // The values behind the pointers must outlive the kernel: the input (through the list that holds it) and the output.
        GC.KeepAlive(inputs);
        GC.KeepAlive(output);
    }
}
