namespace NnxSharp.Backends;

/// <summary>The state behind <see cref="Backend.Default"/>: a backend that was set, or a registered factory for one.</summary>
internal sealed class DefaultBackend
{
    private readonly object _gate = new();
    private IBackend? _value;
    private Func<IBackend>? _factory;

    public IBackend Value
    {
        get
        {
            if (_value is { } b) return b;
            lock (_gate)
                return _value ??= (_factory ?? throw NoBackend())();
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _value = value;
        }
    }

    public void Register(Func<IBackend> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (_gate) _factory = factory;
    }

    private static InvalidOperationException NoBackend() => new(
        "No backend is registered for new tensors. Reference NnxSharp (or NnxSharp.Onnx), whose build registers ONNX Runtime's "
        + "CPU backend, or call NnxSharp.Onnx.OrtBackend.Register() first; or set Backend.Default = ReferenceBackend.Instance "
        + "for the managed reference interpreter.");
}
