using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// The ONNX Runtime backend of one device: buffers are <see cref="OrtValue"/>s in that device's memory, graphs
/// are lowered to ONNX and run in an <see cref="InferenceSession"/> with the device's execution provider
/// (graph optimisation level ALL, one intra-op thread, sequential execution: the fastest settings for small
/// graphs on the CPU provider). On CUDA, buffers live in GPU memory and move to and from the host through
/// small copy sessions; runs may return once their work is queued (asynchronous dispatch), and reading a
/// result waits for it.
/// </summary>
public sealed class OrtBackend : IBackend
{
    private static readonly Lazy<OrtBackend> CpuInstance = new(() => new OrtBackend("onnxruntime-cpu", null, asyncDispatch: false));
    private static readonly Dictionary<(int, bool), OrtBackend> CudaInstances = [];

    private readonly OrtAllocator _allocator;
    private readonly DeviceCopier? _copier;

    private OrtBackend(string name, int? cudaDevice, bool asyncDispatch)
    {
        Name = name;
        CudaDevice = cudaDevice;
        AsyncDispatch = asyncDispatch;
        if (cudaDevice is { } id)
        {
            _copier = new DeviceCopier(this, id);
            _allocator = _copier.DeviceAllocator;
        }
        else _allocator = OrtAllocator.DefaultInstance;
    }

    /// <summary>The CPU execution provider.</summary>
    public static OrtBackend Cpu => CpuInstance.Value;

    /// <summary>
    /// The CUDA execution provider on GPU <paramref name="deviceId"/> (one backend per device and dispatch mode).
    /// Throws <see cref="InvalidOperationException"/> saying what is missing when CUDA cannot be used.
    /// </summary>
    public static OrtBackend Cuda(int deviceId = 0, bool asyncDispatch = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        lock (CudaInstances)
        {
            if (CudaInstances.TryGetValue((deviceId, asyncDispatch), out var b)) return b;
            CudaSupport.EnsureProviderAvailable(deviceId);
            try
            {
                b = new OrtBackend($"onnxruntime-cuda:{deviceId}", deviceId, asyncDispatch);
            }
            catch (OnnxRuntimeException e)
            {
                throw CudaSupport.StartFailed(deviceId, e);
            }
            CudaInstances.Add((deviceId, asyncDispatch), b);
            return b;
        }
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The CUDA device id, or null on the CPU.</summary>
    public int? CudaDevice { get; }

    /// <summary>Whether runs return once queued (CUDA only); reading a result then waits for its run.</summary>
    public bool AsyncDispatch { get; }

    /// <summary>The number of buffers alive (created and not yet freed), for leak checks.</summary>
    public static long LiveBuffers => Interlocked.Read(ref OrtBuffer.Live);

    /// <inheritdoc/>
    public DeviceBuffer Upload(HostArray data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_copier is not null) return _copier.Upload(data);
        var buffer = AllocateOrt(data.Aval);
        data.WriteBytes(buffer.Value.GetTensorMutableRawData());
        return buffer;
    }

    /// <inheritdoc/>
    public HostArray Download(DeviceBuffer buffer)
    {
        var b = Own(buffer);
        b.WaitForProducer();
        if (_copier is not null) return _copier.Download(b);
        return HostArray.FromBytes(b.Aval.DType, b.Aval.Shape, b.Value.GetTensorMutableRawData());
    }

    /// <inheritdoc/>
    public Executable Compile(Graph graph) => new OrtExecutable(this, graph);

    /// <summary>Creates session options with Nnx's defaults and this backend's execution provider.</summary>
    internal SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
        };
        if (CudaDevice is { } id) options.AppendExecutionProvider_CUDA(id);
        return options;
    }

    /// <summary>Run options: on an asynchronous CUDA backend, a run does not wait for the device at its end.</summary>
    internal RunOptions CreateRunOptions()
    {
        var options = new RunOptions();
        if (AsyncDispatch) options.AddRunConfigEntry("disable_synchronize_execution_providers", "1");
        return options;
    }

    /// <inheritdoc/>
    public DeviceBuffer Allocate(Aval aval) => AllocateOrt(aval);

    internal OrtBuffer AllocateOrt(Aval aval) => new(this, aval,
        OrtValue.CreateAllocatedTensorValue(_allocator, (TensorElementType)OnnxTypes.ElementType(aval.DType), aval.Shape.ToLongArray()));

    internal OrtBuffer Own(DeviceBuffer buffer) => buffer is OrtBuffer b && b.Backend == this
        ? b
        : throw new ArgumentException(
            $"A tensor {buffer.Aval} on {buffer.Backend.Name} was used on {Name}. Move it first: tensor.To(device), " +
            "model.To(device) or Nnx.DevicePut(node, device).");
}

/// <summary>A tensor in ONNX Runtime memory.</summary>
internal sealed class OrtBuffer : DeviceBuffer
{
    internal static long Live;
    private readonly OrtBackend _backend;
    private OrtValue? _value;

    public OrtBuffer(OrtBackend backend, Aval aval, OrtValue value) : base(aval)
    {
        _backend = backend;
        _value = value;
        Interlocked.Increment(ref Live);
        // Tell the GC about large native buffers, so that dropped tensors are finalized (and their memory
        // reused) before native memory piles up.
        _pressure = aval.Shape.Size * (long)aval.DType.ItemSize();
        if (_pressure >= PressureThreshold) GC.AddMemoryPressure(_pressure);
        else SmallBuffers.Add(_pressure + NativeOverhead);
    }

    private const long PressureThreshold = 64 * 1024;

    // What a small OrtValue costs natively beyond its data (its header, shape and allocator record), roughly.
    private const long NativeOverhead = 256;
    private readonly long _pressure;

    /// <summary>
    /// Small buffers (eager code makes thousands per step) are reported to the GC in 1 MiB batches: one call per
    /// buffer would cost more than the buffer, and none at all lets dropped tensors' native memory pile up until
    /// a collection that the small managed wrappers alone rarely trigger.
    /// </summary>
    private static class SmallBuffers
    {
        private const long Batch = 1 << 20;
        private static long _unreported;
        private static long _reported;

        public static void Add(long bytes)
        {
            if (Interlocked.Add(ref _unreported, bytes) < Batch) return;
            if (Interlocked.Add(ref _unreported, -Batch) < 0)
            {
                Interlocked.Add(ref _unreported, Batch);
                return;
            }
            Interlocked.Add(ref _reported, Batch);
            GC.AddMemoryPressure(Batch);
        }

        public static void Remove(long bytes)
        {
            if (Interlocked.Add(ref _unreported, -bytes) > -Batch) return;
            if (Interlocked.Add(ref _reported, -Batch) < 0)
            {
                Interlocked.Add(ref _reported, Batch);
                return;
            }
            Interlocked.Add(ref _unreported, Batch);
            GC.RemoveMemoryPressure(Batch);
        }
    }

    ~OrtBuffer() => Dispose(false);

    public OrtValue Value => _value ?? throw new ObjectDisposedException($"buffer {Aval}");

    public override IBackend Backend => _backend;

    /// <summary>The executable of an asynchronous run that writes this buffer and has not been waited for.</summary>
    internal object? Producer { get; private set; }

    private OrtIoBinding? _producerBinding;

    /// <summary>Records that an asynchronous run of <paramref name="executable"/> through <paramref name="binding"/> writes this buffer.</summary>
    internal void SetProducer(object executable, OrtIoBinding binding)
    {
        Producer = executable;
        _producerBinding = binding;
    }

    /// <summary>Waits until the asynchronous run writing this buffer has finished (nothing to do otherwise).</summary>
    internal void WaitForProducer()
    {
        if (_producerBinding is not { } p) return;
        p.SynchronizeBoundOutputs();
        Producer = null;
        _producerBinding = null;
    }

    protected override void Dispose(bool disposing)
    {
        var v = Interlocked.Exchange(ref _value, null);
        if (v is null) return;
        v.Dispose();
        Interlocked.Decrement(ref Live);
        if (_pressure >= PressureThreshold) GC.RemoveMemoryPressure(_pressure);
        else SmallBuffers.Remove(_pressure + NativeOverhead);
    }
}
