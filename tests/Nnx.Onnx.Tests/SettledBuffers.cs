using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>Native buffers alive, counted once the finalizers of earlier tests' dropped tensors have run.</summary>
internal static class SettledBuffers
{
    /// <summary>
    /// <see cref="OrtBackend.LiveBuffers"/> after a full collection and its finalizers: an exact count taken before a
    /// measured loop must not be moved by a finalizer that frees some earlier test's buffer while the loop runs.
    /// </summary>
    public static long Count()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return OrtBackend.LiveBuffers;
    }
}
