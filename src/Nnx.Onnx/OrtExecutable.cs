using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using NnxSharp.Backends;
using NnxSharp.Ir;

namespace NnxSharp.Onnx;

/// <summary>
/// A graph lowered to ONNX and loaded into an <see cref="InferenceSession"/>. <see cref="RunInto"/> runs
/// through IOBinding: two bindings remember which buffers they hold, so the A/B swap of a training
/// loop's state finds its buffers already bound and a steady-state call allocates nothing.
/// </summary>
internal sealed unsafe class OrtExecutable : Executable
{
    private readonly OrtBackend _backend;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly RunOptions _syncRunOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly Binding[] _bindings;
    private readonly object _gate = new();
    private int _lastUsed;

    public OrtExecutable(OrtBackend backend, Graph graph, IReadOnlyList<string>? inputNames = null, IReadOnlyList<string>? outputNames = null)
        : base(graph)
    {
        _backend = backend;
        _inputNames = inputNames?.ToArray() ?? graph.Inputs.Select((_, i) => $"x{i}").ToArray();
        _outputNames = outputNames?.ToArray() ?? graph.Outputs.Select((_, i) => $"y{i}").ToArray();
        var watch = Stopwatch.StartNew();
        Threads = backend.ThreadsFor(graph);
        var model = OnnxLowering.ToModel(graph, _inputNames, _outputNames, target: backend.LoweringTarget, inProcess: backend.CudaDevice is null, threads: Threads);
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
        LoweringTime = watch.Elapsed;
        LoweredNodeCount = model.Graph.Node.Count;
        // Node names are unique as lowered; a repeated one must not stop a compile over what is only an error's hint.
        _sources = [];
        foreach (var n in model.Graph.Node)
            if (n.DocString.Length > 0) _sources.TryAdd(n.Name, n.DocString);
        watch.Restart();
        using var options = backend.CreateSessionOptions(Threads);
        _session = CreateSession(backend, model, bytes, options);
        if (backend.CudaDevice is not null && backend.CudaOptions.CudaGraphs) _graphModel = bytes;
        _runOptions = backend.CreateRunOptions();
        LoadTime = watch.Elapsed;
        _bindings = [new Binding(this), new Binding(this)];
        _largeOutputs = graph.Outputs.Sum(v => v.Aval.Shape.Size * (long)v.Aval.DType.ItemSize()) >= 256 * 1024;
        _outputDims = graph.Outputs.Select(v => v.Aval.Shape.ToLongArray()).ToArray();
        _outputSlots = graph.Outputs.Select(v => backend.PoolSlot(v.Aval)).ToArray();
        if (backend.CudaDevice is null && !_largeOutputs && OrtNative.Available)
        {
            _sessionHandle = OrtNative.SessionHandle(_session);
            _inputNamesUtf8 = OrtNative.Utf8Table(_inputNames);
            _outputNamesUtf8 = OrtNative.Utf8Table(_outputNames);
        }
    }

    /// <summary>
    /// Whether <see cref="Run(IReadOnlyList{DeviceBuffer})"/> calls ONNX Runtime's C API directly (<see cref="OrtNative"/>): on the CPU, for outputs
    /// under 256 KiB in all, when the package's handles could be reached. Otherwise it calls <see cref="InferenceSession"/>.Run.
    /// </summary>
    internal bool HasDirectRun => _inputNamesUtf8 != null;

    // The direct path's native session and UTF-8 name tables (null when the executable has no direct path).
    private readonly IntPtr _sessionHandle;
    private readonly IntPtr* _inputNamesUtf8, _outputNamesUtf8;

    // Each output's dimensions and pool slot, for allocating output buffers without a new array or a lookup per call.
    private readonly long[][] _outputDims;
    private readonly OrtValuePool.Slot?[] _outputSlots;

    private readonly bool _largeOutputs;
    private readonly byte[]? _graphModel;
    private CudaGraphStep? _graphStep;

    /// <summary>The captured-graph runner of this step (CUDA with <see cref="CudaOptions.CudaGraphs"/>), once it ran.</summary>
    internal CudaGraphStep? GraphStep => _graphStep;

    /// <summary>
    /// The session; on CUDA a failure (a node without a CUDA kernel, as CPU fallback is disabled) also names the
    /// operators that Nnx's kernel table (<see cref="CudaKernels"/>) finds missing.
    /// </summary>
    private static InferenceSession CreateSession(OrtBackend backend, Schema.ModelProto model, byte[] bytes, SessionOptions options)
    {
        try
        {
            return new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e) when (backend.CudaDevice is { } id)
        {
            var missing = OnnxOpCensus.MissingOnCuda(model);
            throw new InvalidOperationException(
                $"ONNX Runtime could not create a session for this graph on CUDA device {id}: {e.Message.Trim()} " +
                (missing.Count > 0
                    ? $"Operators without a CUDA kernel (Nnx's table): {string.Join(", ", missing)}. "
                    : "Every operator has a CUDA kernel in Nnx's table. ") +
                "Nnx disables ONNX Runtime's CPU fallback on CUDA, so that no node runs on the CPU unnoticed.", e);
        }
    }

    /// <summary>
    /// A training step: with CUDA graphs on, through the captured graphs (<see cref="CudaGraphStep"/>), else
    /// <see cref="RunInto"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void RunStep(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, int stateInputs, int stateOutputs)
    {
        if (_graphModel is null)
        {
            RunInto(inputs, outputs);
            return;
        }
        CheckInputs(inputs);
        CheckOutputs(outputs);
        lock (_gate)
        {
            _graphStep ??= new CudaGraphStep(_backend, _graphModel, _inputNames, _outputNames);
            _graphStep.Run(inputs, outputs, stateInputs, stateOutputs);
        }
    }

    /// <summary>The intra-op threads its session runs with.</summary>
    public int Threads { get; }

    // ONNX node name → the primitive (and avals) it was lowered from.
    private readonly Dictionary<string, string> _sources;

    /// <summary>ONNX Runtime's exception, with the primitive of the failing node and its avals.</summary>
    private BackendException Wrap(OnnxRuntimeException e) => Wrap(e.Message, e);

    /// <summary>ONNX Runtime's error message, with the primitive of the failing node and its avals.</summary>
    private BackendException Wrap(string message, Exception? inner)
    {
        var source = _sources.Where(kv => message.Contains($"'{kv.Key}'", StringComparison.Ordinal)).Select(kv => $"{kv.Value} (ONNX node {kv.Key})").FirstOrDefault();
        return new BackendException(
            $"ONNX Runtime failed running {(source is null ? "the compiled graph" : "primitive " + source)}: {message}", inner);
    }

    public override DeviceBuffer[] Run(IReadOnlyList<DeviceBuffer> inputs) => Run(inputs, direct: true);

    /// <summary><see cref="Run(IReadOnlyList{DeviceBuffer})"/>, through the C API when <paramref name="direct"/> and <see cref="HasDirectRun"/>, else through the managed session (tests compare the two).</summary>
    internal DeviceBuffer[] Run(IReadOnlyList<DeviceBuffer> inputs, bool direct)
    {
        CheckInputs(inputs);
        if (direct && HasDirectRun) return RunDirect(inputs);
        var ins = new OrtValue[inputs.Count];
        for (var i = 0; i < ins.Length; i++)
        {
            var b = _backend.Own(inputs[i]);
            b.WaitForProducer();
            ins[i] = b.Value;
        }
        var outs = new OrtBuffer[Graph.Outputs.Length];
        if (_backend.CudaDevice is null && _largeOutputs)
        {
            // On the CPU, ONNX Runtime allocates large outputs from its arena, which reuses freed blocks: fresh
            // buffers of megabytes per call (a pure step's new state) cost no page faults (3.5× faster at width
            // 1024 in the seed's benchmark). Small outputs keep the preallocated path, which measured the same.
            IReadOnlyList<OrtValue> results;
            try
            {
                lock (_gate) results = _session.Run(_syncRunOptions, _inputNames, ins, _outputNames);
            }
            catch (OnnxRuntimeException e)
            {
                throw Wrap(e);
            }
            for (var i = 0; i < outs.Length; i++) outs[i] = new OrtBuffer(_backend, Graph.Outputs[i].Aval, results[i]);
            return outs;
        }
        for (var i = 0; i < outs.Length; i++) outs[i] = _backend.AllocateOrt(Graph.Outputs[i].Aval, _outputDims[i], _outputSlots[i]);
        var outValues = new OrtValue[outs.Length];
        for (var i = 0; i < outs.Length; i++) outValues[i] = outs[i].Value;
        // Synchronous: the outputs are complete when Run returns (only RunInto dispatches asynchronously).
        try
        {
            lock (_gate) _session.Run(_syncRunOptions, _inputNames, ins, _outputNames, outValues);
        }
        catch (OnnxRuntimeException e)
        {
            throw Wrap(e);
        }
        return outs;
    }

    /// <summary>
    /// <see cref="Run(IReadOnlyList{DeviceBuffer})"/> through ONNX Runtime's C API: the names were marshalled once, the handles go on the stack,
    /// and the outputs are new buffers from the backend's allocator. No lock: a session's Run is thread-safe.
    /// </summary>
    private DeviceBuffer[] RunDirect(IReadOnlyList<DeviceBuffer> inputs)
    {
        var outs = new DeviceBuffer[_outputDims.Length];
        var n = inputs.Count;
        var ins = n <= 32 ? stackalloc IntPtr[n] : new IntPtr[n];
        var results = _outputDims.Length <= 32 ? stackalloc IntPtr[_outputDims.Length] : new IntPtr[_outputDims.Length];
        for (var i = 0; i < n; i++)
        {
            var b = _backend.Own(inputs[i]);
            b.WaitForProducer(); // as the managed path: an input still being written by another session's run
            ins[i] = OrtNative.ValueHandle(b.Value);
        }
        for (var i = 0; i < outs.Length; i++)
        {
            var o = _backend.AllocateOrt(Graph.Outputs[i].Aval, _outputDims[i], _outputSlots[i]);
            outs[i] = o;
            results[i] = OrtNative.ValueHandle(o.Value);
        }
        string? error;
        fixed (IntPtr* pi = ins, po = results)
            error = OrtNative.Run(_sessionHandle, _syncRunOptions.DangerousGetHandle(), _inputNamesUtf8, pi, n, _outputNamesUtf8, outs.Length, po);
        // The values behind the handles must outlive the native call: the inputs (through the list that holds
        // their buffers), the outputs, and the session and run options (through this).
        GC.KeepAlive(inputs);
        GC.KeepAlive(this);
        if (error is null) return outs;
        foreach (var b in outs) b.Dispose();
        throw Wrap(error, null);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void RunInto(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs)
    {
        CheckInputs(inputs);
        CheckOutputs(outputs);
        lock (_gate)
        {
            // Prefer the binding that already holds these buffers; else rebind the one used less recently.
            var pick = _bindings[0].Holds(inputs, outputs) ? 0 : _bindings[1].Holds(inputs, outputs) ? 1 : 1 - _lastUsed;
            var binding = _bindings[pick];
            binding.Bind(inputs, outputs);
            _lastUsed = pick;
            try
            {
                _session.RunWithBinding(_runOptions, binding.IoBinding);
            }
            catch (OnnxRuntimeException e)
            {
                throw Wrap(e);
            }
            if (_backend.AsyncDispatch)
                for (var i = 0; i < outputs.Count; i++) ((OrtBuffer)outputs[i]).SetProducer(this, binding.IoBinding);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var b in _bindings) b.IoBinding.Dispose();
        _graphStep?.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        _syncRunOptions.Dispose();
        NativeMemory.Free(_inputNamesUtf8);
        NativeMemory.Free(_outputNamesUtf8);
    }

    /// <summary>One IOBinding and the buffers it currently holds, slot by slot.</summary>
    private sealed class Binding(OrtExecutable owner)
    {
        private readonly OrtValue?[] _inputs = new OrtValue?[owner._inputNames.Length];
        private readonly OrtValue?[] _outputs = new OrtValue?[owner._outputNames.Length];

        public OrtIoBinding IoBinding { get; } = owner._session.CreateIoBinding();

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool Holds(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs)
        {
            for (var i = 0; i < _inputs.Length; i++)
                if (!ReferenceEquals(_inputs[i], ((OrtBuffer)inputs[i]).Value)) return false;
            for (var i = 0; i < _outputs.Length; i++)
                if (!ReferenceEquals(_outputs[i], ((OrtBuffer)outputs[i]).Value)) return false;
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Bind(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs)
        {
            for (var i = 0; i < _inputs.Length; i++)
            {
                var b = owner._backend.Own(inputs[i]);
                if (b.Producer is { } p && p != owner) b.WaitForProducer(); // written on another session's queue
                var v = b.Value;
                if (ReferenceEquals(_inputs[i], v)) continue;
                IoBinding.BindInput(owner._inputNames[i], v);
                _inputs[i] = v;
            }
            for (var i = 0; i < _outputs.Length; i++)
            {
                var v = owner._backend.Own(outputs[i]).Value;
                if (ReferenceEquals(_outputs[i], v)) continue;
                IoBinding.BindOutput(owner._outputNames[i], v);
                _outputs[i] = v;
            }
        }
    }
}
