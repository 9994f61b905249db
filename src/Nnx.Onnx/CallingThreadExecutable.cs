using NnxSharp.Backends;
using NnxSharp.Ir;

namespace NnxSharp.Onnx;

/// <summary>
/// An eager call's one-node graph with one output, computed by one of Nnx's kernels on the calling thread instead of a
/// session (<see cref="IEagerKernels"/>): <see cref="ElementwiseExecutable"/>, <see cref="MatMulExecutable"/>,
/// <see cref="ColumnSumsExecutable"/>, <see cref="TransposeExecutable"/>. The
/// output comes from the backend's pool of small buffers, as a session run's would.
/// </summary>
internal abstract class CallingThreadExecutable : Executable
{
    private readonly long[] _outputDims;
    private readonly OrtValuePool.Slot? _outputSlot;

    protected CallingThreadExecutable(OrtBackend backend, Graph graph, TimeSpan lowering) : base(graph)
    {
        Backend = backend;
        _outputDims = graph.Outputs[0].Aval.Shape.ToLongArray();
        _outputSlot = backend.PoolSlot(graph.Outputs[0].Aval);
        LoweringTime = lowering;
        LoweredNodeCount = 1;
    }

    /// <summary>The backend whose buffers the kernel reads and writes.</summary>
    protected OrtBackend Backend { get; }

    public sealed override DeviceBuffer[] Run(IReadOnlyList<DeviceBuffer> inputs)
    {
        CheckInputs(inputs);
        var output = Backend.AllocateOrt(Graph.Outputs[0].Aval, _outputDims, _outputSlot);
        try
        {
            Compute(inputs, output);
        }
        catch
        {
            output.Dispose();
            throw;
        }
        return [output];
    }

    public sealed override void RunInto(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs)
    {
        CheckInputs(inputs);
        CheckOutputs(outputs);
        Compute(inputs, Backend.Own(outputs[0]));
    }

    /// <summary>
    /// The data of <paramref name="buffer"/> (an input, or the output) once any asynchronous run that writes it is done. The
    /// caller keeps the buffer alive while it uses the pointer (<c>GC.KeepAlive</c> after the kernel).
    /// </summary>
    protected unsafe void* DataOf(DeviceBuffer buffer)
    {
        var b = Backend.Own(buffer);
        b.WaitForProducer();
        return (void*)OrtNative.Data(b.Value);
    }

    /// <summary>Computes the output into <paramref name="output"/> from <paramref name="inputs"/>, whose avals were checked.</summary>
    protected abstract void Compute(IReadOnlyList<DeviceBuffer> inputs, OrtBuffer output);
}
