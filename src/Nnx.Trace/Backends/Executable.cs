using System.Runtime.CompilerServices;
using NnxSharp.Ir;

namespace NnxSharp.Backends;

/// <summary>A compiled graph.</summary>
public abstract class Executable : IDisposable
{
    /// <summary>Creates an executable for a graph.</summary>
    protected Executable(Graph graph) => Graph = graph;

    /// <summary>The graph this runs.</summary>
    public Graph Graph { get; }

    /// <summary>Runs the graph on buffers of the graph's input avals and returns new output buffers.</summary>
    public abstract DeviceBuffer[] Run(IReadOnlyList<DeviceBuffer> inputs);

    /// <summary>
    /// Runs the graph writing into existing buffers of the graph's output avals (no output may also be an
    /// input). A call whose buffers were all bound by a recent call copies and allocates nothing.
    /// </summary>
    public abstract void RunInto(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs);

    /// <summary>
    /// <see cref="RunInto"/> for a training step whose first <paramref name="stateInputs"/> inputs and first
    /// <paramref name="stateOutputs"/> outputs are its state, which alternates between two sets of buffers from call
    /// to call (the A/B swap); the other inputs and outputs are the call's arguments and results. A backend can
    /// then keep the state's buffers fixed (CUDA graphs); by default this is <see cref="RunInto"/>.
    /// </summary>
    public virtual void RunStep(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, int stateInputs, int stateOutputs) =>
        RunInto(inputs, outputs);

    /// <summary>Time spent lowering the graph for this backend.</summary>
    public TimeSpan LoweringTime { get; protected init; }

    /// <summary>Time spent creating the runtime's session (its own optimisation included).</summary>
    public TimeSpan LoadTime { get; protected init; }

    /// <summary>The number of nodes in the lowered graph (ONNX nodes for ONNX Runtime).</summary>
    public int LoweredNodeCount { get; protected init; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees native resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Throws unless the output buffers match the graph's output avals in count and avals (names the output index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void CheckOutputs(IReadOnlyList<DeviceBuffer> outputs)
    {
        if (Mismatch(outputs, Graph.Outputs) is not { } i) return;
        throw new ArgumentException(i < 0
            ? $"Executable produces {Graph.Outputs.Length} output(s) but got {outputs.Count} buffers."
            : $"Executable output {i} is {Graph.Outputs[i].Aval} but the buffer is {outputs[i].Aval}.");
    }

    /// <summary>Throws unless the inputs match the graph's input avals (names the argument index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void CheckInputs(IReadOnlyList<DeviceBuffer> inputs)
    {
        if (Mismatch(inputs, Graph.Inputs) is not { } i) return;
        throw new ArgumentException(i < 0
            ? $"Executable expects {Graph.Inputs.Length} input(s) but got {inputs.Count}."
            : $"Executable input {i} is {inputs[i].Aval} but the graph was compiled for {Graph.Inputs[i].Aval}.");
    }

    /// <summary>Null when the buffers have the values' avals; −1 when their counts differ; else the first index that differs.</summary>
    private static int? Mismatch(IReadOnlyList<DeviceBuffer> buffers, System.Collections.Immutable.ImmutableArray<Value> values)
    {
        if (buffers.Count != values.Length) return -1;
        for (var i = 0; i < buffers.Count; i++)
            if (buffers[i].Aval != values[i].Aval) return i;
        return null;
    }
}
