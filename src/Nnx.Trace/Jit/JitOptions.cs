namespace NnxSharp;

/// <summary>
/// Process-wide settings of both jits (exposed to users as <c>Nnx.Config</c>): NaN checks, the trace cache's
/// bound and the explanation of retraces.
/// </summary>
internal static class JitOptions
{
    /// <summary>The default number of compiled entries one jitted function keeps.</summary>
    public const int DefaultCacheLimit = 64;

    private static volatile bool _debugNans;
    private static volatile bool _explainCacheMisses;
    private static int _cacheLimit = DefaultCacheLimit;

    /// <summary>When true, a jitted call whose outputs hold a NaN or an infinity throws, naming the first such output.</summary>
    public static bool DebugNans
    {
        get => _debugNans;
        set => _debugNans = value;
    }

    /// <summary>When true, every retrace writes a line to <see cref="Log"/> saying which leaf, static or shape changed.</summary>
    public static bool ExplainCacheMisses
    {
        get => _explainCacheMisses;
        set => _explainCacheMisses = value;
    }

    /// <summary>The most compiled entries one jitted function keeps (least recently used dropped first); at least 1.</summary>
    public static int CacheLimit
    {
        get => Volatile.Read(ref _cacheLimit);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            Volatile.Write(ref _cacheLimit, value);
        }
    }

    /// <summary>Where explanations go (standard error by default).</summary>
    public static Action<string> Log { get; set; } = line => Console.Error.WriteLine(line);
}
