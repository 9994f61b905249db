namespace NnxSharp;

// Exporting a model for inference.
public static partial class Nnx
{
    /// <summary>
    /// Writes <paramref name="model"/>'s forward pass as an inference <c>.onnx</c> file that any ONNX Runtime runs:
    /// in evaluation mode (running statistics, no dropout; the model's own modes are restored afterwards), the
    /// weights it uses as initializers named by state path, one input <c>input</c> shaped like
    /// <paramref name="exampleInput"/> and one output <c>output</c>, both with a symbolic first axis
    /// <c>batch</c> (the same file runs at batch 1 and 1,000), and doc strings on the graph, the input and the
    /// output. The forward pass is the model's public <c>Tensor Call(Tensor)</c> unless <paramref name="forward"/>
    /// is given. A graph that depends on the batch size (checked by lowering it at two sizes) is an error unless
    /// <paramref name="dynamicBatch"/> is false, which keeps the example's batch size.
    /// <code>Nnx.ExportInference("model.onnx", model, exampleX);</code>
    /// </summary>
    public static void ExportInference(string path, Module model, Tensor exampleInput, Func<Tensor, Tensor>? forward = null, bool dynamicBatch = true) =>
        InferenceExport.Export(path, model, exampleInput, forward, dynamicBatch);
}
