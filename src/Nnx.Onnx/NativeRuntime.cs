namespace NnxSharp.Onnx;

/// <summary>Turns a missing or unloadable ONNX Runtime native library into an error that says which package to add.</summary>
internal static class NativeRuntime
{
    /// <summary>The native package the library is built against (and depends on for the CPU).</summary>
    public const string CpuPackage = "Microsoft.ML.OnnxRuntime", GpuPackage = "Microsoft.ML.OnnxRuntime.Gpu";

    /// <summary>Runs <paramref name="start"/>; a native library that cannot be loaded becomes <see cref="MissingLibrary"/>'s error.</summary>
    public static T Guard<T>(Func<T> start)
    {
        try
        {
            return start();
        }
        catch (Exception e) when (NativeCause(e) is { } cause)
        {
            throw MissingLibrary(cause);
        }
    }

    /// <summary>The error for a native library that did not load.</summary>
    public static InvalidOperationException MissingLibrary(Exception cause) => new(
        $"ONNX Runtime's native library could not be loaded, and Nnx runs on it. Add its native package to the application: " +
        $"`dotnet add package {CpuPackage} --version {Version}` (the NnxSharp package brings it unless it was excluded), " +
        $"or {GpuPackage} for CUDA. On Linux it also needs glibc and libstdc++. The loader said: {cause.GetType().Name}: " +
        cause.Message.Split('\n')[0].Trim(),
        cause);

    /// <summary>The version of ONNX Runtime's managed API this build references.</summary>
    private static string Version => typeof(Microsoft.ML.OnnxRuntime.OrtEnv).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "(the same as Microsoft.ML.OnnxRuntime.Managed)";

    /// <summary>The DllNotFoundException (or a similar native load failure) inside type-initialisation and invocation wrappers, if any.</summary>
    internal static Exception? NativeCause(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException) return e;
        return null;
    }
}
