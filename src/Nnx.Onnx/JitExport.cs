using Google.Protobuf;
using NnxSharp.Onnx;

namespace NnxSharp;

/// <summary>Writes jitted functions as standard <c>.onnx</c> files that any ONNX Runtime can run.</summary>
public static class JitExport
{
    /// <summary>
    /// Traces (or reuses) the jitted function for these arguments and writes its optimised graph to
    /// <paramref name="path"/>. Inputs are named by argument and path (<c>s/linear/kernel</c>, <c>x</c>),
    /// outputs by result position and path (<c>out0/linear/kernel</c>, <c>out1</c>); static arguments are baked in.
    /// </summary>
    public static void Export(this Delegate jitted, string path, params object?[] args)
    {
        var jit = JitRegistry.Of(jitted);
        var c = jit.Inspect(args);
        var model = OnnxLowering.ToModel(c.Optimized, c.InputNames, c.OutputNames, docString: $"Exported by Nnx from {jit.Name}.");
        using var file = File.Create(path);
        model.WriteTo(file);
    }
}
