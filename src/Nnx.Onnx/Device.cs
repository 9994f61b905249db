using System.Globalization;
using NnxSharp.Backends;
using NnxSharp.Onnx;

namespace NnxSharp;

/// <summary>
/// Where tensors live and steps run: <see cref="Cpu"/> or <see cref="Cuda"/>. New tensors (and eager ops without
/// operands) go to the default device; an eager op runs where its operands are; a jitted step runs where its
/// state is. <c>using var gpu = Device.Cuda(0);</c> makes GPU 0 the default until disposed. Moving tensors,
/// modules or whole object graphs between devices is explicit: <c>tensor.To(device)</c>, <c>model.To(device)</c>,
/// <c>Nnx.DevicePut(node, device)</c>; nothing falls back or moves silently.
/// </summary>
public sealed class Device : IDisposable
{
    private readonly IBackend? _previous;
    private bool _disposed;

    private Device(string kind, int id, OrtBackend backend, IBackend? previous)
    {
        Kind = kind;
        Id = id;
        Backend = backend;
        _previous = previous;
    }

    /// <summary>The CPU (ONNX Runtime's CPU execution provider).</summary>
    public static Device Cpu { get; } = new("cpu", 0, OrtBackend.Cpu, null);

    /// <summary>
    /// GPU <paramref name="id"/> through ONNX Runtime's CUDA execution provider, made the default device until the
    /// returned object is disposed. With <paramref name="asyncDispatch"/> (the default) a jitted step returns once
    /// its work is queued and reading a result waits for it, as JAX's asynchronous dispatch. <paramref name="options"/>
    /// turns on TF32 or CUDA graphs (both off by default, see <see cref="CudaOptions"/>). Every session on the device
    /// runs every node on the GPU: a node without a CUDA kernel is an error that names it, never a silent CPU
    /// fallback. Throws <see cref="InvalidOperationException"/> saying what is missing when CUDA cannot be used.
    /// </summary>
    public static Device Cuda(int id = 0, bool asyncDispatch = true, CudaOptions? options = null)
    {
        var backend = OrtBackend.Cuda(id, asyncDispatch, options);
        var device = new Device("cuda", id, backend, NnxSharp.Backends.Backend.Default);
        NnxSharp.Backends.Backend.Default = backend;
        return device;
    }

    /// <summary>
    /// The device named <paramref name="name"/>: <c>cpu</c>, <c>cuda</c> (GPU 0) or <c>cuda:N</c>, as the samples'
    /// <c>--device</c> option takes it. A CUDA device becomes the default until disposed.
    /// </summary>
    public static Device Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return Cpu;
        if (n == "cuda") return Cuda(0);
        if (n.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(n[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return Cuda(id);
        throw new ArgumentException($"Unknown device '{name}': use cpu, cuda or cuda:N.", nameof(name));
    }

    /// <summary>The device new tensors are created on.</summary>
    public static Device Default => NnxSharp.Backends.Backend.Default is OrtBackend b ? Of(b) : Cpu;

    /// <summary>The device of a backend (a CUDA device object that does not own the default).</summary>
    internal static Device Of(OrtBackend backend) => backend.CudaDevice is { } id ? new Device("cuda", id, backend, null) : Cpu;

    /// <summary><c>cpu</c> or <c>cuda</c>.</summary>
    public string Kind { get; }

    /// <summary>The device index (0 on the CPU).</summary>
    public int Id { get; }

    /// <summary>The backend that holds this device's buffers and runs its graphs.</summary>
    public OrtBackend Backend { get; }

    /// <summary>
    /// The intra-op threads of this device's sessions compiled from now on: a count, or null (the default) for
    /// the choice by graph size of <see cref="OrtBackend.ThreadsFor"/> (one thread for small graphs, every core
    /// for large ones).
    /// </summary>
    public int? IntraOpThreads
    {
        get => Backend.IntraOpThreads;
        set => Backend.IntraOpThreads = value;
    }

    /// <summary>Makes the previous default device the default again (for a device from <see cref="Cuda"/>).</summary>
    public void Dispose()
    {
        if (_disposed || _previous is null) return;
        _disposed = true;
        if (NnxSharp.Backends.Backend.Default == Backend) NnxSharp.Backends.Backend.Default = _previous;
    }

    /// <summary><c>cpu</c> or <c>cuda:N</c>.</summary>
    public override string ToString() => Kind == "cpu" ? "cpu" : $"cuda:{Id}";

    /// <summary>Devices are equal when they are the same backend.</summary>
    public override bool Equals(object? obj) => obj is Device d && d.Backend == Backend;

    /// <inheritdoc/>
    public override int GetHashCode() => Backend.GetHashCode();
}

/// <summary>Moving tensors between devices.</summary>
public static class DeviceExtensions
{
    /// <summary>The tensor on <paramref name="device"/>: itself when it is already there, else a copy through the host.</summary>
    public static Tensor To(this Tensor tensor, Device device)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(device);
        if (tensor.IsSymbolic) throw new InvalidOperationException($"To({device}): a symbolic tensor {tensor.Aval} has no device; move tensors outside traced functions.");
        return tensor.DeviceBuffer.Backend == device.Backend ? tensor : new Tensor(device.Backend.Upload(tensor.ToHost()));
    }

    /// <summary>The device a concrete tensor lives on (null for a tensor of a non-ONNX Runtime backend).</summary>
    public static Device? Device(this Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.DeviceBuffer.Backend switch
        {
            OrtBackend { CudaDevice: null } => NnxSharp.Device.Cpu,
            OrtBackend { CudaDevice: { } } b => NnxSharp.Device.Of(b),
            _ => null,
        };
    }
}
