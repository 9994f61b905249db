using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using NnxSharp.Onnx.Schema;

namespace NnxSharp.Onnx;

/// <summary>
/// ONNX Runtime's NCHWc CPU kernels (operators of the <c>com.microsoft.nchwc</c> domain: MLAS's direct convolutions
/// on channels blocked by the vector width). Its graph optimizer uses them only for convolutions with constant
/// weights, so a training step, whose weights are inputs, never gets them; lowerings call them directly instead
/// (<see cref="NnxSharp.Primitives.ConvGeneral"/>). The block is the machine's: 16 floats with AVX-512, 8 with AVX2.
/// </summary>
internal static class NchwcKernels
{
    /// <summary>The operators' domain.</summary>
    public const string Domain = NnxSharp.Primitives.ConvGeneral.NchwcDomain;

    private static readonly Lazy<int> s_blockSize = new(Probe);

    /// <summary>
    /// The channel block of this process's NCHWc kernels (MLAS's <c>MlasNchwcGetBlockSize</c>), or 0 where there is
    /// none worth using (blocks under 8 floats, or a runtime built without the contrib operators). Found once, by
    /// running ReorderInput on four channels: it rounds the channel count up to the block.
    /// </summary>
    public static int BlockSize => s_blockSize.Value;

    private static int Probe()
    {
        OrtThreads.EnsureEnvironment();
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            using var session = new InferenceSession(ProbeModel().ToByteArray(), options);
            using var x = OrtValue.CreateTensorValueFromMemory(new float[4], [1, 4, 1, 1]);
            using var runOptions = new RunOptions();
            using var y = session.Run(runOptions, ["x"], [x], ["y"]);
            var channels = y[0].GetTensorTypeAndShape().Shape[1];
            return channels >= 8 ? (int)channels : 0;
        }
        catch (OnnxRuntimeException)
        {
            return 0;
        }
    }

    private static ModelProto ProbeModel()
    {
        var graph = new GraphProto { Name = "nchwc_probe" };
        graph.Input.Add(OnnxLowering.ValueInfo("x", new Aval(Shape.Of(1, 4, 1, 1), DType.Float32)));
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTypes.ElementType(DType.Float32) } } });
        var node = new NodeProto { OpType = "ReorderInput", Domain = Domain, Name = "reorder" };
        node.Input.Add("x");
        node.Output.Add("y");
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = OnnxLowering.IrVersion, ProducerName = "Nnx", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxLowering.Opset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = Domain, Version = 1 });
        return model;
    }
}
