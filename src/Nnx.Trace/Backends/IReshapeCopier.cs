namespace NnxSharp.Backends;

/// <summary>
/// A backend that copies a buffer's elements into a new buffer of another shape without running a graph: an eager
/// <c>Reshape</c> (a vector's matmul reshapes twice) is then a copy, not a one-node session run.
/// </summary>
internal interface IReshapeCopier
{
    /// <summary>
    /// A new buffer of <paramref name="aval"/> (the source's dtype and element count) holding <paramref name="source"/>'s
    /// elements in order, or null when this backend runs reshapes as graphs for this buffer (CUDA).
    /// </summary>
    DeviceBuffer? CopyReshaped(DeviceBuffer source, Aval aval);
}
