using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// The ONNX Runtime backend of one device: buffers are <see cref="OrtValue"/>s in that device's memory, graphs
/// are lowered to ONNX and run in an <see cref="InferenceSession"/> with the device's execution provider
/// (graph optimisation level ALL, sequential execution, and one intra-op thread for small graphs, all cores for
/// large ones: see <see cref="ThreadsFor"/>). On CUDA, buffers live in GPU memory and move to and from the host through
/// small copy sessions; runs may return once their work is queued (asynchronous dispatch), and reading a
/// result waits for it.
/// </summary>
public sealed class OrtBackend : IBackend, IReshapeCopier, IEagerKernels
{
    private static readonly Lazy<OrtBackend> CpuInstance = new(() => NativeRuntime.Guard(() => new OrtBackend("onnxruntime-cpu", null, asyncDispatch: false)));
    private static readonly Lazy<OrtBackend> CpuCudaLoweringInstance = new(() =>
        new OrtBackend("onnxruntime-cpu(cuda lowering)", null, asyncDispatch: false) { LoweringTarget = OnnxTarget.Cuda });
    private static readonly Dictionary<(int, bool, CudaOptions), OrtBackend> CudaInstances = [];

    private readonly OrtAllocator _allocator;
    private readonly DeviceCopier? _copier;

    private OrtBackend(string name, int? cudaDevice, bool asyncDispatch, CudaOptions? cudaOptions = null)
    {
        OrtThreads.EnsureEnvironment();
        Name = name;
        CudaDevice = cudaDevice;
        AsyncDispatch = asyncDispatch;
        CudaOptions = cudaOptions ?? CudaOptions.Default;
        LoweringTarget = cudaDevice is null ? OnnxTarget.Cpu : OnnxTarget.Cuda;
        if (cudaDevice is { } id)
        {
            _copier = new DeviceCopier(this, id);
            _allocator = _copier.DeviceAllocator;
        }
        else
        {
            _allocator = OrtAllocator.DefaultInstance;
            _pool = new OrtValuePool();
        }
    }

    // Freed small CPU tensors, reused by the next buffer of their aval (null on CUDA).
    private readonly OrtValuePool? _pool;

    /// <summary>Frees the tensors kept for reuse (for tests that count native values).</summary>
    internal void ClearPool() => _pool?.Clear();

    /// <summary>The CPU execution provider.</summary>
    public static OrtBackend Cpu => CpuInstance.Value;

    /// <summary>
    /// Makes <see cref="Cpu"/> the default backend (<see cref="Backend.Default"/>) unless one is set. NnxSharp.Onnx's
    /// build calls this from a module initializer compiled into the application (opt out with
    /// <c>&lt;NnxRegisterBackend&gt;false&lt;/NnxRegisterBackend&gt;</c>), so an application's first tensor runs on ONNX Runtime.
    /// </summary>
    public static void Register() => Backend.Register(() => Cpu);

    /// <summary>
    /// The CPU execution provider with graphs lowered as for CUDA (integer arithmetic in place of the bit
    /// operators): runs on any machine what a CUDA session would run, for tests of the CUDA lowerings.
    /// </summary>
    internal static OrtBackend CpuWithCudaLowering => CpuCudaLoweringInstance.Value;

    /// <summary>
    /// The CUDA execution provider on GPU <paramref name="deviceId"/> (one backend per device, dispatch mode and
    /// options). Throws <see cref="InvalidOperationException"/> saying what is missing when CUDA cannot be used.
    /// </summary>
    public static OrtBackend Cuda(int deviceId = 0, bool asyncDispatch = true, CudaOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        options ??= CudaOptions.Default;
        lock (CudaInstances)
        {
            if (CudaInstances.TryGetValue((deviceId, asyncDispatch, options), out var b)) return b;
            CudaSupport.EnsureProviderAvailable(deviceId);
            try
            {
                b = new OrtBackend($"onnxruntime-cuda:{deviceId}", deviceId, asyncDispatch, options);
            }
            catch (OnnxRuntimeException e)
            {
                throw CudaSupport.StartFailed(deviceId, e);
            }
            CudaInstances.Add((deviceId, asyncDispatch, options), b);
            return b;
        }
    }

    /// <summary>How this backend's CUDA sessions run (TF32, CUDA graphs); the defaults on the CPU.</summary>
    public CudaOptions CudaOptions { get; }

    /// <summary>The provider graphs are lowered for: CUDA on a CUDA device, else the CPU.</summary>
    internal OnnxTarget LoweringTarget { get; private init; }

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

    /// <summary>
    /// On the CPU, the executable of Nnx's own kernel for an eager call it computes: the elementwise kernel's
    /// (<see cref="ElementwiseExecutable"/>) or a small matrix product's (<see cref="MatMulExecutable"/>); else null.
    /// </summary>
    Executable? IEagerKernels.CompileKernel(Graph graph) =>
        ElementwiseExecutable.TryCreate(this, graph) ?? (Executable?)MatMulExecutable.TryCreate(this, graph)
        ?? (Executable?)ColumnSumsExecutable.TryCreate(this, graph) ?? TransposeExecutable.TryCreate(this, graph);

    /// <summary>On the CPU, a copy of the bytes into a new buffer of <paramref name="aval"/>; on CUDA null (a reshape runs as a graph).</summary>
    DeviceBuffer? IReshapeCopier.CopyReshaped(DeviceBuffer source, Aval aval)
    {
        if (_copier is not null) return null;
        var from = Own(source);
        var to = AllocateOrt(aval);
        if (!OrtNative.Available) from.Value.GetTensorMutableRawData().CopyTo(to.Value.GetTensorMutableRawData());
        else
            unsafe
            {
                var bytes = aval.Shape.Size * (long)aval.DType.ItemSize();
                if (bytes > 0) Buffer.MemoryCopy((void*)OrtNative.Data(from.Value), (void*)OrtNative.Data(to.Value), bytes, bytes);
            }
        GC.KeepAlive(from);
        return to;
    }

    /// <summary>
    /// The intra-op threads of the sessions compiled from now on: a fixed count, or null (the default) to choose
    /// per graph with <see cref="ThreadsFor"/>. Sessions already compiled keep theirs.
    /// </summary>
    public int? IntraOpThreads
    {
        get => _intraOpThreads;
        set
        {
            if (value is < 1) throw new ArgumentOutOfRangeException(nameof(value), value, $"{Name}: IntraOpThreads must be at least 1 (or null for the automatic choice).");
            _intraOpThreads = value;
        }
    }

    private int? _intraOpThreads;

    /// <summary>
    /// Graphs doing at least this many floating-point operations per run get every core by default (see
    /// <see cref="ThreadsFor"/>). Measured on the benchmark's step (notes/threads.md): a second thread starts
    /// to pay between widths 128 (≈ 10 MFLOP per step) and 256 (≈ 38 MFLOP); below, ONNX Runtime's fork-join
    /// per node costs more than it saves.
    /// </summary>
    public const double ParallelFlops = 20e6;

    /// <summary>
    /// The intra-op threads for a graph: <see cref="IntraOpThreads"/> when set; otherwise one thread for a graph
    /// under <see cref="ParallelFlops"/> floating-point operations per run, and all the cores the process may use
    /// (<see cref="Environment.ProcessorCount"/>) for larger ones. On CUDA, one (the host thread only launches kernels).
    /// </summary>
    public int ThreadsFor(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (_intraOpThreads is { } n) return n;
        if (CudaDevice is not null) return 1;
        return GraphCost.Flops(graph) >= ParallelFlops ? Environment.ProcessorCount : 1;
    }

    /// <summary>
    /// Creates session options with Nnx's defaults, <paramref name="intraOpThreads"/> intra-op threads (all the cores
    /// run on the process's shared pool, see <see cref="OrtThreads"/>) and this backend's execution provider (see
    /// <see cref="SessionSettings"/>): on CUDA, no CPU fallback, TF32 as the options say, and CUDA graph capture when
    /// <paramref name="cudaGraph"/> (the sessions of jitted steps, when the options ask for graphs).
    /// </summary>
    internal SessionOptions CreateSessionOptions(int intraOpThreads = 1, bool cudaGraph = false)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            InterOpNumThreads = 1,
        };
        OrtThreads.Apply(options, intraOpThreads);
        foreach (var (key, value) in SessionSettings.ConfigEntries(CudaDevice)) options.AddSessionConfigEntry(key, value);
        if (CudaDevice is null) CpuKernels.Register(options); // the graphs lowered in process may use them (IOnnxEmitter.OwnCpuKernels)
        if (CudaDevice is { } id)
        {
            using var cuda = new OrtCUDAProviderOptions();
            cuda.UpdateOptions(SessionSettings.CudaProviderOptions(id, CudaOptions, cudaGraph));
            options.AppendExecutionProvider_CUDA(cuda);
        }
        return options;
    }

    /// <summary>Run options: on an asynchronous CUDA backend, a run does not wait for the device at its end.</summary>
    internal RunOptions CreateRunOptions()
    {
        var options = new RunOptions();
        if (AsyncDispatch) options.AddRunConfigEntry("disable_synchronize_execution_providers", "1");
        return options;
    }

    /// <summary>Copies one device buffer into another of the same aval on this CUDA device (device to device).</summary>
    internal void CopyOnDevice(OrtBuffer from, OrtBuffer to)
    {
        if (_copier is null) throw new InvalidOperationException($"{Name}: device-to-device copies are for CUDA backends.");
        _copier.CopyOnDevice(from, to);
    }

    /// <inheritdoc/>
    public DeviceBuffer Allocate(Aval aval) => AllocateOrt(aval);

    /// <summary>
    /// A new buffer of <paramref name="aval"/> (its <paramref name="dims"/> when the caller has them): on the CPU, a
    /// small one reuses a freed tensor's value when one of that aval is kept (<see cref="OrtValuePool"/>; its
    /// <paramref name="slot"/> when the caller has it, from <see cref="PoolSlot"/>).
    /// </summary>
    internal OrtBuffer AllocateOrt(Aval aval, long[]? dims = null, OrtValuePool.Slot? slot = null)
    {
        if (_pool is null || (slot ?? _pool.SlotOf(aval)) is not { } s) return new(this, aval, CreateValue(aval, dims));
        return _pool.Take(s) is { } kept ? new(this, aval, kept, s, fresh: false) : new(this, aval, CreateValue(aval, dims), s);
    }

    /// <summary>The pool's slot for buffers of <paramref name="aval"/>, or null (CUDA, or too large to keep).</summary>
    internal OrtValuePool.Slot? PoolSlot(Aval aval) => _pool?.SlotOf(aval);

    /// <summary>The ONNX Runtime values created for buffers so far (not counting reused ones), for tests and benchmarks.</summary>
    internal static long CreatedValues => Interlocked.Read(ref _createdValues);

    private static long _createdValues;

    private OrtValue CreateValue(Aval aval, long[]? dims)
    {
        Interlocked.Increment(ref _createdValues);
        var value = OrtValue.CreateAllocatedTensorValue(_allocator, (TensorElementType)OnnxTypes.ElementType(aval.DType), dims ?? aval.Shape.ToLongArray());
        // Before the first write touches its pages (CPU memory only; a small tensor costs no call for its address).
        var bytes = aval.Shape.Size * (long)aval.DType.ItemSize();
        if (_copier is null && bytes >= HugePages.MinBytes && OrtNative.Available) HugePages.Advise(OrtNative.Data(value), bytes);
        return value;
    }

    /// <summary>Keeps a freed buffer's value for reuse in its pool slot; false when it is not kept (the caller frees it).</summary>
    internal bool Recycle(OrtValuePool.Slot slot, OrtValue value) => _pool is not null && _pool.Give(slot, value);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// A buffer owning <paramref name="value"/>; one with a pool <paramref name="slot"/> gives the value back to it when
    /// freed. A value not <paramref name="fresh"/> came from the pool (its finalizer is already suppressed).
    /// </summary>
    public OrtBuffer(OrtBackend backend, Aval aval, OrtValue value, OrtValuePool.Slot? slot = null, bool fresh = true) : base(aval)
    {
        _backend = backend;
        _value = value;
        _slot = slot;
        // This buffer's finalizer frees the value: the value's own finalizer would only be a second finalizable object per tensor.
        if (fresh) GC.SuppressFinalize(value);
        Interlocked.Increment(ref Live);
        _bytes = aval.Shape.Size * (long)aval.DType.ItemSize();
        // So that dropped buffers are finalized (and their memory reused) before native memory piles up, CPU buffers are
        // counted in budgets that reclaim them with young collections (NativeBudget, one for small and one for large
        // buffers); large CUDA buffers are reported to the GC as memory pressure, small ones in batches (SmallBuffers).
        if (backend.CudaDevice is null) NativeBudget.For(_bytes).Add(_bytes + NativeOverhead);
        else if (_bytes >= PressureThreshold) GC.AddMemoryPressure(_bytes);
        else SmallBuffers.Add(_bytes + NativeOverhead);
    }

    private const long PressureThreshold = 64 * 1024;

    // The pool slot the value goes back to once freed (null: the value is freed).
    private readonly OrtValuePool.Slot? _slot;

    // What a small OrtValue costs natively beyond its data (its header, shape and allocator record), roughly.
    private const long NativeOverhead = 256;

    // The bytes of data.
    private readonly long _bytes;

    /// <summary>
    /// Small CUDA buffers (eager code makes thousands per step) are reported to the GC in 1 MiB batches: one call per
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

    ~OrtBuffer()
    {
        NativeBudget.OnFinalizerThread();
        Dispose(false);
    }

    public OrtValue Value { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _value ?? throw new ObjectDisposedException($"buffer {Aval}"); }

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
        if (_slot is null || !_backend.Recycle(_slot, v)) v.Dispose();
        Interlocked.Decrement(ref Live);
        if (_backend.CudaDevice is null) NativeBudget.For(_bytes).Remove(_bytes + NativeOverhead);
        else if (_bytes >= PressureThreshold) GC.RemoveMemoryPressure(_bytes);
        else SmallBuffers.Remove(_bytes + NativeOverhead);
    }
}
