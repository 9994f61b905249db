using Microsoft.ML.OnnxRuntime;
using NnxSharp.Backends;

namespace NnxSharp.Onnx;

/// <summary>
/// A jitted step run as captured CUDA graphs (<see cref="CudaOptions.CudaGraphs"/>): its own session with
/// ONNX Runtime's <c>enable_cuda_graph</c>, one IOBinding and <c>gpu_graph_id</c> per captured graph
/// (<see cref="CudaGraphSlots"/>). State buffers are bound where they are; the call's other inputs (the batch)
/// are copied into fixed staging buffers on the device before the run and its results out of fixed staging buffers
/// after it, device to device: nothing crosses to the host. Runs are synchronous.
/// </summary>
internal sealed class CudaGraphStep : IDisposable
{
    /// <summary>At most this many captured graphs per step (two for a settled A/B swap, one spare for the first call).</summary>
    private const int MaxGraphs = 3;

    private readonly OrtBackend _backend;
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly CudaGraphSlots _slots = new(MaxGraphs);
    private readonly List<(OrtIoBinding Binding, RunOptions Options)> _graphs = [];
    private readonly RunOptions _uncaptured = new();
    private readonly OrtIoBinding _scratch;
    private OrtBuffer?[] _stagedInputs = [];
    private OrtBuffer?[] _stagedOutputs = [];

    public CudaGraphStep(OrtBackend backend, byte[] model, string[] inputNames, string[] outputNames)
    {
        _backend = backend;
        _inputNames = inputNames;
        _outputNames = outputNames;
        using var options = backend.CreateSessionOptions(cudaGraph: true);
        try
        {
            _session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException(
                $"CUDA graphs: ONNX Runtime could not capture this step on CUDA device {backend.CudaDevice}: {e.Message.Trim()} " +
                "A captured step needs every node on the CUDA provider and no control flow. Run it without CudaOptions.CudaGraphs.", e);
        }
        // ONNX Runtime reads gpu_graph_id = -1 as "run this call without capture or replay".
        _uncaptured.AddRunConfigEntry("gpu_graph_id", "-1");
        _scratch = _session.CreateIoBinding();
    }

    /// <summary>How many graphs were captured (or assigned for capture).</summary>
    public int Graphs => _graphs.Count;

    /// <summary>How many calls ran uncaptured because their state buffers matched no graph.</summary>
    public long UncapturedRuns { get; private set; }

    public void Run(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, int stateInputs, int stateOutputs)
    {
        var ins = new OrtBuffer[inputs.Count];
        for (var i = 0; i < ins.Length; i++)
        {
            ins[i] = _backend.Own(inputs[i]);
            ins[i].WaitForProducer();
        }
        var outs = new OrtBuffer[outputs.Count];
        for (var i = 0; i < outs.Length; i++) outs[i] = _backend.Own(outputs[i]);

        var k = _slots.Pick(ins[..stateInputs].Select(b => (object)b.Value).ToArray(), outs[..stateOutputs].Select(b => (object)b.Value).ToArray(), out var isNew);
        if (k < 0)
        {
            UncapturedRuns++;
            _scratch.ClearBoundInputs();
            _scratch.ClearBoundOutputs();
            for (var i = 0; i < ins.Length; i++) _scratch.BindInput(_inputNames[i], ins[i].Value);
            for (var i = 0; i < outs.Length; i++) _scratch.BindOutput(_outputNames[i], outs[i].Value);
            _session.RunWithBinding(_uncaptured, _scratch);
            return;
        }
        if (isNew) _graphs.Add(Capture(k, ins, outs, stateInputs, stateOutputs));
        for (var i = stateInputs; i < ins.Length; i++) _backend.CopyOnDevice(ins[i], _stagedInputs[i]!);
        var (binding, options) = _graphs[k];
        _session.RunWithBinding(options, binding);
        for (var i = stateOutputs; i < outs.Length; i++) _backend.CopyOnDevice(_stagedOutputs[i]!, outs[i]);
    }

    /// <summary>The binding of graph <paramref name="k"/>: state where it is, everything else through the staging buffers.</summary>
    private (OrtIoBinding, RunOptions) Capture(int k, OrtBuffer[] ins, OrtBuffer[] outs, int stateInputs, int stateOutputs)
    {
        if (_stagedInputs.Length == 0)
        {
            _stagedInputs = new OrtBuffer?[ins.Length];
            for (var i = stateInputs; i < ins.Length; i++) _stagedInputs[i] = _backend.AllocateOrt(ins[i].Aval);
            _stagedOutputs = new OrtBuffer?[outs.Length];
            for (var i = stateOutputs; i < outs.Length; i++) _stagedOutputs[i] = _backend.AllocateOrt(outs[i].Aval);
        }
        var binding = _session.CreateIoBinding();
        for (var i = 0; i < ins.Length; i++) binding.BindInput(_inputNames[i], (i < stateInputs ? ins[i] : _stagedInputs[i]!).Value);
        for (var i = 0; i < outs.Length; i++) binding.BindOutput(_outputNames[i], (i < stateOutputs ? outs[i] : _stagedOutputs[i]!).Value);
        var options = new RunOptions();
        options.AddRunConfigEntry("gpu_graph_id", (k + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return (binding, options);
    }

    public void Dispose()
    {
        foreach (var (binding, options) in _graphs)
        {
            binding.Dispose();
            options.Dispose();
        }
        _scratch.Dispose();
        _uncaptured.Dispose();
        _session.Dispose();
        foreach (var b in _stagedInputs.Concat(_stagedOutputs)) b?.Dispose();
    }
}
