using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Onnx;

/// <summary>
/// One intra-op thread pool for every multi-threaded CPU session of the process. By default ONNX Runtime gives each
/// session its own pool, whose workers spin for a while after each run; a program has several jitted functions (a
/// training step, an evaluation step, metrics), and the workers of the one that ran last then compete for the cores
/// with the one that runs now. Measured on 2 cores (notes/threads.md): a [128, 28, 28, 32] Mul at 2 threads took
/// 1.1–1.3 ms alone and 3.1–6.0 ms when another session had run just before it. So Nnx creates ONNX Runtime's
/// environment with a global pool of <see cref="Environment.ProcessorCount"/> threads, and sessions with that many
/// threads run on it; sessions with one thread have no pool at all, and other counts keep a pool of their own.
/// </summary>
internal static class OrtThreads
{
    private static readonly Lazy<int> s_sharedThreads = new(CreateEnvironment, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The size of the shared pool: <see cref="Environment.ProcessorCount"/>, or 0 when there is none (one core, or
    /// ONNX Runtime's environment was created before Nnx touched it, by the application or another library).
    /// </summary>
    public static int SharedThreads => s_sharedThreads.Value;

    /// <summary>Creates ONNX Runtime's environment with the shared pool, unless it exists already.</summary>
    public static void EnsureEnvironment() => _ = s_sharedThreads.Value;

    /// <summary>
    /// Sets <paramref name="options"/>' intra-op threads: the shared pool for <see cref="SharedThreads"/> threads,
    /// none for one thread, and a pool of the session's own otherwise.
    /// </summary>
    public static void Apply(SessionOptions options, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (threads > 1 && threads == SharedThreads) options.DisablePerSessionThreads();
        else options.IntraOpNumThreads = threads;
    }

    private static int CreateEnvironment()
    {
        var threads = Environment.ProcessorCount;
        if (threads < 2 || OrtEnv.IsCreated) return 0;
        using var threading = new OrtThreadingOptions { GlobalIntraOpNumThreads = threads, GlobalInterOpNumThreads = 1, GlobalSpinControl = true };
        var options = new EnvironmentCreationOptions { logId = "Nnx", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, threadOptions = threading };
        try
        {
            OrtEnv.CreateInstanceWithOptions(ref options);
            return threads;
        }
        catch (OnnxRuntimeException) when (OrtEnv.IsCreated)
        {
            return 0; // created meanwhile by another thread outside Nnx: keep per-session pools
        }
    }
}
