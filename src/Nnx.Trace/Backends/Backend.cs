using NnxSharp.Ir;

namespace NnxSharp.Backends;

/// <summary>The default backend used by eager operations and Jit.</summary>
public static class Backend
{
    private static IBackend? _default;
    private static readonly object Gate = new();

    /// <summary>
    /// The backend for new tensors. Unless set, ONNX Runtime's CPU backend when the Nnx.Onnx assembly is
    /// present, else the managed reference interpreter.
    /// </summary>
    public static IBackend Default
    {
        get
        {
            if (_default is { } b) return b;
            lock (Gate)
                return _default ??= Discover();
        }
        set => _default = value;
    }

    private static IBackend Discover()
    {
        var type = Type.GetType("NnxSharp.Onnx.OrtBackend, Nnx.Onnx", throwOnError: false);
        try
        {
            return type?.GetProperty("Cpu")?.GetValue(null) as IBackend ?? ReferenceBackend.Instance;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            // The backend's own error (a missing native library names the package to add), not the reflection wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
