using NnxSharp.Ir;

namespace NnxSharp.Backends;

/// <summary>
/// A backend that runs some one-node graphs of eager calls without its runtime: the cached executable of an eager
/// <c>x + y</c> on small CPU tensors is then a loop over the elements, not a session run (ONNX Runtime's floor per run is
/// about 2.8 µs, the add of 32 floats a few nanoseconds).
/// </summary>
internal interface IEagerKernels
{
    /// <summary>
    /// An executable that computes <paramref name="graph"/> (one primitive on the graph's inputs) with the bits the backend's
    /// compiled graph would give, or null when the backend compiles it as any other graph.
    /// </summary>
    Executable? CompileKernel(Graph graph);
}
