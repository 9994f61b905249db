namespace NnxSharp;

/// <summary>
/// How a CUDA device runs its graphs (<see cref="Device.Cuda"/>). The defaults favour equal results on the CPU and
/// the GPU: TF32 is off, so float32 MatMul and Gemm round as on the CPU (and as in PyTorch, whose default is the
/// same); CUDA graphs are off.
/// </summary>
public sealed record CudaOptions
{
    /// <summary>TF32 off, CUDA graphs off.</summary>
    public static CudaOptions Default { get; } = new();

    /// <summary>
    /// Lets float32 MatMul and Gemm use TF32 tensor cores (ONNX Runtime's <c>use_tf32</c>; GPUs of compute
    /// capability 8.0 and later): faster, with a 10-bit mantissa in the products, so losses drift from the CPU's.
    /// Off by default.
    /// </summary>
    public bool AllowTf32 { get; init; }

    /// <summary>
    /// Runs each jitted module step (<c>Nnx.Jit</c>) as a captured CUDA graph (ONNX Runtime's
    /// <c>enable_cuda_graph</c>): after a capture the whole step is one launch. The two state buffer sets of the
    /// step's A/B swap get one graph each (<c>gpu_graph_id</c> 1 and 2); batch inputs and results go through
    /// fixed staging buffers on the device. A call whose state buffers are not the captured ones (a variable read
    /// and kept by the caller in between, say) runs uncaptured. Eager operations and <c>Jit.Pure</c> never use
    /// graphs. Off by default.
    /// </summary>
    public bool CudaGraphs { get; init; }
}
