using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NnxSharp.Onnx.Schema;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// Moves tensors between the host and a CUDA device with one-node Identity sessions (one per dtype, made on
/// first use): the input bound in one memory, the output in the other, and ONNX Runtime copies. Also owns the
/// device allocator that new CUDA buffers come from.
/// </summary>
internal sealed class DeviceCopier
{
    private readonly OrtBackend _backend;
    private readonly Dictionary<DType, InferenceSession> _sessions = [];
    private readonly RunOptions _runOptions = new();
    private readonly object _gate = new();

    public DeviceCopier(OrtBackend backend, int deviceId)
    {
        _backend = backend;
        var memory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);
        DeviceAllocator = new OrtAllocator(Session(DType.Float32), memory);
    }

    /// <summary>The allocator of the device's memory.</summary>
    public OrtAllocator DeviceAllocator { get; }

    /// <summary>A new device buffer holding <paramref name="data"/>.</summary>
    public OrtBuffer Upload(HostArray data)
    {
        using var host = HostValue(data.Aval);
        data.WriteBytes(host.GetTensorMutableRawData());
        var device = _backend.AllocateOrt(data.Aval);
        Copy(data.Aval.DType, host, device.Value);
        return device;
    }

    /// <summary>The device buffer's data on the host.</summary>
    public HostArray Download(OrtBuffer buffer)
    {
        using var host = HostValue(buffer.Aval);
        Copy(buffer.Aval.DType, buffer.Value, host);
        return HostArray.FromBytes(buffer.Aval.DType, buffer.Aval.Shape, host.GetTensorMutableRawData());
    }

    /// <summary>Copies <paramref name="from"/> into <paramref name="to"/>, both in the device's memory.</summary>
    public void CopyOnDevice(OrtBuffer from, OrtBuffer to) => Copy(from.Aval.DType, from.Value, to.Value);

    private static OrtValue HostValue(Aval aval) => OrtValue.CreateAllocatedTensorValue(
        OrtAllocator.DefaultInstance, (TensorElementType)OnnxTypes.ElementType(aval.DType), aval.Shape.ToLongArray());

    private void Copy(DType dtype, OrtValue from, OrtValue to)
    {
        if (from.GetTensorTypeAndShape().ElementCount == 0) return;
        lock (_gate)
        {
            using var binding = Session(dtype).CreateIoBinding();
            binding.BindInput("x", from);
            binding.BindOutput("y", to);
            Session(dtype).RunWithBinding(_runOptions, binding);
            binding.SynchronizeBoundOutputs();
        }
    }

    private InferenceSession Session(DType dtype)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(dtype, out var s)) return s;
            using var options = _backend.CreateSessionOptions();
            s = new InferenceSession(IdentityModel(dtype).ToByteArray(), options);
            _sessions.Add(dtype, s);
            return s;
        }
    }

    /// <summary>y = Identity(x) for tensors of any shape of one dtype.</summary>
    private static ModelProto IdentityModel(DType dtype)
    {
        static ValueInfoProto Info(string name, DType t) => new()
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTypes.ElementType(t) } },
        };
        var graph = new GraphProto { Name = "copy" };
        graph.Input.Add(Info("x", dtype));
        graph.Output.Add(Info("y", dtype));
        var node = new NodeProto { OpType = "Identity", Name = "copy" };
        node.Input.Add("x");
        node.Output.Add("y");
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = OnnxLowering.IrVersion, ProducerName = "Nnx", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxLowering.Opset });
        return model;
    }
}
