using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Onnx;

/// <summary>Why CUDA cannot be used, said plainly: which package or library is missing and how to fix it.</summary>
internal static class CudaSupport
{
    /// <summary>The execution providers of the native ONNX Runtime this process loaded.</summary>
    public static IReadOnlyList<string> AvailableProviders() => NativeRuntime.Guard(() => OrtEnv.Instance().GetAvailableProviders());

    /// <summary>Throws when the loaded ONNX Runtime has no CUDA provider (the CPU-only native package).</summary>
    public static void EnsureProviderAvailable(int deviceId) => EnsureProviderAvailable(deviceId, AvailableProviders());

    /// <summary>The check on a given provider list (for tests).</summary>
    public static void EnsureProviderAvailable(int deviceId, IReadOnlyList<string> providers)
    {
        if (providers.Contains("CUDAExecutionProvider")) return;
        throw new InvalidOperationException(
            $"CUDA device {deviceId} was asked for, but this application runs ONNX Runtime's CPU-only native package " +
            $"(execution providers: {string.Join(", ", providers)}). Reference Microsoft.ML.OnnxRuntime.Gpu instead of " +
            "Microsoft.ML.OnnxRuntime: in Nnx's samples, build with -p:NnxGpu=true. Nnx does not fall back to the CPU.");
    }

    /// <summary>The error for a CUDA provider that is present but could not start (no driver, no GPU, missing CUDA/cuDNN libraries).</summary>
    public static InvalidOperationException StartFailed(int deviceId, Exception inner) => new(
        $"ONNX Runtime's CUDA execution provider could not start on device {deviceId}: {inner.Message.Trim().TrimEnd('.')}. " +
        "Check that an NVIDIA driver and GPU are present (nvidia-smi lists them), that the device id exists, and that the " +
        "CUDA and cuDNN libraries this ONNX Runtime was built for are on LD_LIBRARY_PATH (PATH on Windows). " +
        "Nnx does not fall back to the CPU.", inner);
}
