using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// The ONNX Runtime backend: buffers are <see cref="OrtValue"/>s, graphs are lowered to ONNX and run in an
/// <see cref="InferenceSession"/> (graph optimisation level ALL, one intra-op thread, sequential execution:
/// the fastest settings for small graphs on the CPU provider).
/// </summary>
public sealed class OrtBackend : IBackend
{
    private static readonly Lazy<OrtBackend> CpuInstance = new(() => new OrtBackend("onnxruntime-cpu"));

    private OrtBackend(string name) => Name = name;

    /// <summary>The CPU execution provider.</summary>
    public static OrtBackend Cpu => CpuInstance.Value;

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The number of buffers alive (created and not yet freed), for leak checks.</summary>
    public static long LiveBuffers => Interlocked.Read(ref OrtBuffer.Live);

    /// <inheritdoc/>
    public DeviceBuffer Upload(HostArray data)
    {
        var buffer = AllocateOrt(data.Aval);
        data.WriteBytes(buffer.Value.GetTensorMutableRawData());
        return buffer;
    }

    /// <inheritdoc/>
    public HostArray Download(DeviceBuffer buffer)
    {
        var b = Own(buffer);
        return HostArray.FromBytes(b.Aval.DType, b.Aval.Shape, b.Value.GetTensorMutableRawData());
    }

    /// <inheritdoc/>
    public Executable Compile(Graph graph) => new OrtExecutable(this, graph);

    /// <summary>Creates session options with Nnx's defaults.</summary>
    internal static SessionOptions CreateSessionOptions() => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
    };

    /// <inheritdoc/>
    public DeviceBuffer Allocate(Aval aval) => AllocateOrt(aval);

    internal OrtBuffer AllocateOrt(Aval aval) => new(this, aval,
        OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)OnnxTypes.ElementType(aval.DType), aval.Shape.ToLongArray()));

    internal OrtBuffer Own(DeviceBuffer buffer) => buffer is OrtBuffer b && b.Backend == this
        ? b
        : throw new ArgumentException($"A buffer of {buffer.Backend.Name} cannot be used on {Name}.");
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
    }

    ~OrtBuffer() => Dispose(false);

    public OrtValue Value => _value ?? throw new ObjectDisposedException($"buffer {Aval}");

    public override IBackend Backend => _backend;

    protected override void Dispose(bool disposing)
    {
        var v = Interlocked.Exchange(ref _value, null);
        if (v is null) return;
        v.Dispose();
        Interlocked.Decrement(ref Live);
    }
}
