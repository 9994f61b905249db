namespace NnxSharp.Primitives;

/// <summary>
/// The execution provider a graph is lowered for. The ONNX operators differ in which kernels each provider
/// registers: ONNX Runtime's CUDA provider has no <c>BitShift</c> and no <c>Bitwise*</c> kernels, so a primitive
/// lowered for <see cref="Cuda"/> uses integer arithmetic that gives the same bits (see <c>notes/cuda.md</c>).
/// </summary>
public enum OnnxTarget
{
    /// <summary>ONNX Runtime's CPU provider, and exported files (every standard operator of the opset).</summary>
    Cpu,

    /// <summary>ONNX Runtime's CUDA provider: only operators and dtypes it has kernels for.</summary>
    Cuda,
}
