namespace NnxSharp;

// Process-wide settings.
public static partial class Nnx
{
    /// <summary>
    /// Process-wide settings: of both jits (<c>Nnx.Jit</c> and <c>Jit.Pure</c>), as JAX's config flags, and of the
    /// default device's sessions.
    /// </summary>
    public static class Config
    {
        /// <summary>
        /// The intra-op threads of the default device's sessions compiled from now on (see
        /// <see cref="Device.IntraOpThreads"/>): a count, or null (the default) to choose by graph size — one
        /// thread below <see cref="Onnx.OrtBackend.ParallelFlops"/> floating-point operations per run, every core
        /// above. Steps already compiled keep their sessions.
        /// </summary>
        public static int? IntraOpThreads
        {
            get => Device.Default.IntraOpThreads;
            set => Device.Default.IntraOpThreads = value;
        }

        /// <summary>
        /// As <c>jax_debug_nans</c>: when true, a jitted call whose outputs (a variable's new value or a result)
        /// hold a NaN or an infinity throws a <see cref="NotFiniteNumberException"/> naming the first such output
        /// by its path (<c>new/model/linear/kernel</c>, <c>out</c>), and a module step leaves its state unchanged.
        /// Off by default: then NaN and Inf flow through the arithmetic as IEEE 754 says (a NaN input gives NaN
        /// losses and gradients, and the optimizer writes them into the parameters) and nothing is checked.
        /// Each check reads the outputs back to the host, so it costs a copy per call.
        /// </summary>
        public static bool DebugNans
        {
            get => JitOptions.DebugNans;
            set => JitOptions.DebugNans = value;
        }

        /// <summary>
        /// As <c>jax_explain_cache_misses</c>: when true, every trace after the first of a jitted function writes one
        /// line to <see cref="Log"/> saying what differs from the most recent call (a leaf's shape or dtype, a static
        /// value, a variable's shape, a static attribute, a replaced submodule, the device).
        /// </summary>
        public static bool ExplainCacheMisses
        {
            get => JitOptions.ExplainCacheMisses;
            set => JitOptions.ExplainCacheMisses = value;
        }

        /// <summary>
        /// The most compiled entries (argument structures, statics and shapes) one jitted function keeps: 64 by
        /// default. Past it, the least recently used entry is dropped, and calling with it again retraces.
        /// </summary>
        public static int TraceCacheLimit
        {
            get => JitOptions.CacheLimit;
            set => JitOptions.CacheLimit = value;
        }

        /// <summary>Where <see cref="ExplainCacheMisses"/> writes (standard error by default).</summary>
        public static Action<string> Log
        {
            get => JitOptions.Log;
            set => JitOptions.Log = value ?? throw new ArgumentNullException(nameof(value));
        }
    }
}
