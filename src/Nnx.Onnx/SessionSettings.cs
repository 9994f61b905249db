using System.Globalization;

namespace NnxSharp.Onnx;

/// <summary>
/// The ONNX Runtime settings of Nnx's sessions, as plain key/value pairs so that tests can read them without a
/// GPU: session config entries for every session, and the CUDA provider's options.
/// </summary>
internal static class SessionSettings
{
    /// <summary>The session config entry that makes a node without a kernel on the session's provider an error.</summary>
    public const string DisableCpuFallback = "session.disable_cpu_ep_fallback";

    /// <summary>
    /// Config entries of a session on the CPU (<paramref name="cudaDevice"/> null) or on a CUDA device. On CUDA,
    /// CPU fallback is disabled: ONNX Runtime would otherwise place a node that has no CUDA kernel on the CPU, with
    /// copies around it, silently; with it, creating the session fails and names the node.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ConfigEntries(int? cudaDevice) =>
        cudaDevice is null ? [] : [new(DisableCpuFallback, "1")];

    /// <summary>
    /// The CUDA provider's options for a session: the device, TF32 as <paramref name="options"/> says (off by
    /// default), and CUDA graph capture for the sessions of jitted steps when asked.
    /// </summary>
    public static Dictionary<string, string> CudaProviderOptions(int deviceId, CudaOptions options, bool cudaGraph) => new()
    {
        ["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture),
        ["use_tf32"] = options.AllowTf32 ? "1" : "0",
        ["enable_cuda_graph"] = cudaGraph ? "1" : "0",
    };
}
