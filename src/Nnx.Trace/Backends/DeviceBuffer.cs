using NnxSharp.Ir;

namespace NnxSharp.Backends;

/// <summary>Tensor data owned by a backend. Disposing frees it; a finalizer frees it if nobody does.</summary>
public abstract class DeviceBuffer : IDisposable
{
    /// <summary>Creates a buffer of the given aval.</summary>
    protected DeviceBuffer(Aval aval) => Aval = aval;

    /// <summary>The shape and dtype.</summary>
    public Aval Aval { get; }

    /// <summary>The backend that owns the buffer.</summary>
    public abstract IBackend Backend { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native memory.</summary>
    protected abstract void Dispose(bool disposing);
}
