namespace NnxSharp.Backends;

/// <summary>
/// The default backend used by eager operations and Jit. Nnx.Trace knows no backend but its reference
/// interpreter: the ONNX Runtime backend registers itself (<c>NnxSharp.Onnx.OrtBackend.Register</c>, which
/// NnxSharp.Onnx's build calls from a module initializer compiled into the application).
/// </summary>
public static class Backend
{
    private static readonly DefaultBackend Slot = new();

    /// <summary>
    /// The backend for new tensors: the one set here, else the registered one (ONNX Runtime's CPU backend in an
    /// application that references NnxSharp.Onnx), else an <see cref="InvalidOperationException"/> that says how
    /// to choose one.
    /// </summary>
    public static IBackend Default
    {
        get => Slot.Value;
        set => Slot.Value = value;
    }

    /// <summary>
    /// Registers the backend that <see cref="Default"/> gives unless one is set. The factory runs at the first read
    /// of <see cref="Default"/>, so a backend that cannot start (a missing native library) says so there, with its
    /// own exception. The last registration wins.
    /// </summary>
    public static void Register(Func<IBackend> factory) => Slot.Register(factory);
}
