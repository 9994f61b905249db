using Microsoft.ML.OnnxRuntime;
using NnxSharp.Onnx;
using NnxSharp.Onnx.Schema;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// One node of Nnx's own CPU kernels (<see cref="NnxCpuOps"/>) in a model written by hand, run in an ONNX Runtime session
/// with the kernels registered: what a lowering never writes (bad shapes, odd sizes) reaches the kernel directly.
/// </summary>
internal static class OwnKernelModel
{
    /// <summary>Runs <paramref name="op"/> on <paramref name="inputs"/>; returns its float32 outputs, in order.</summary>
    public static float[][] Run(string op, (string Name, Aval Aval, OrtValue Value)[] inputs, (string Name, Aval Aval)[] outputs, int threads = 1)
    {
        var graph = new GraphProto { Name = op };
        var node = new NodeProto { OpType = op, Domain = NnxCpuOps.Domain, Name = op };
        foreach (var (name, aval, _) in inputs)
        {
            graph.Input.Add(OnnxLowering.ValueInfo(name, aval));
            node.Input.Add(name);
        }
        foreach (var (name, aval) in outputs)
        {
            graph.Output.Add(OnnxLowering.ValueInfo(name, aval));
            node.Output.Add(name);
        }
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = OnnxLowering.IrVersion, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxLowering.Opset });
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = NnxCpuOps.Domain, Version = 1 });

        using var options = new SessionOptions { IntraOpNumThreads = threads };
        CpuKernels.Register(options);
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [.. inputs.Select(i => i.Name)], [.. inputs.Select(i => i.Value)], [.. outputs.Select(o => o.Name)]);
        return [.. results.Select(r => r.GetTensorDataAsSpan<float>().ToArray())];
    }

    /// <summary>A float32 tensor of <paramref name="x"/>'s values and shape.</summary>
    public static OrtValue Float32(HostArray x) =>
        OrtValue.CreateTensorValueFromMemory(x.ToDoubles().Select(v => (float)v).ToArray(), [.. x.Shape.ToArray().Select(d => (long)d)]);
}
