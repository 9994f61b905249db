using NnxSharp.Ir;

namespace NnxSharp.Backends;

/// <summary>A place that holds buffers and runs compiled graphs (ONNX Runtime on a device, or the reference interpreter).</summary>
public interface IBackend
{
    /// <summary>A short name for messages (<c>onnxruntime-cpu</c>).</summary>
    string Name { get; }

    /// <summary>Copies host data into a new buffer.</summary>
    DeviceBuffer Upload(HostArray data);

    /// <summary>A new buffer of the given aval with unspecified contents.</summary>
    DeviceBuffer Allocate(Aval aval);

    /// <summary>Copies a buffer's data to the host.</summary>
    HostArray Download(DeviceBuffer buffer);

    /// <summary>Compiles a graph into an executable.</summary>
    Executable Compile(Graph graph);
}
