using NnxSharp.Ir;

namespace NnxSharp;

/// <summary>
/// The one rule both jits follow (<see cref="Jit.Pure{T1, TResult}"/> and <c>Nnx.Jit</c>) for when a jitted
/// call runs its function instead of its compiled graph. As in JAX, where a jitted function is itself a
/// primitive, a jitted call must compose with every other transform, so it is inlined (its body is traced
/// into, or recorded by, the enclosing context) when:
/// <list type="number">
/// <item>a trace is active on this thread (an outer jit is tracing: the body becomes part of the outer graph);</item>
/// <item>any argument leaf is symbolic (it belongs to a trace, so only tracing can use it);</item>
/// <item>a gradient tape is active on this thread and tracks any argument leaf (the call depends on a
/// differentiated input: running the body records it on the tape, so <c>grad(jit(f)) == grad(f)</c>;
/// running the compiled graph would return values the tape cannot see, a silently zero gradient).</item>
/// </list>
/// Otherwise the compiled graph runs. Inlining gives the same values as the compiled call; it is slower
/// only in eager code under a gradient, where the body runs op by op.
/// </summary>
internal static class JitInlining
{
    /// <summary>True when a trace or a gradient tape is active on this thread (the cheap check made first; false is exact).</summary>
    public static bool InTransform => TraceBuilder.Current is not null || GradTape.ActiveOnThisThread;

    /// <summary>
    /// The whole rule for a call with these argument leaves (the tensors of its arguments, and for a module
    /// jit the values of the modules' variables).
    /// </summary>
    public static bool ShouldInline(IEnumerable<Tensor> leaves)
    {
        if (!InTransform) return AnySymbolic(leaves);
        if (TraceBuilder.Current is not null) return true;
        foreach (var t in leaves)
            if (t.IsSymbolic || GradTape.IsTrackedOnThisThread(t)) return true;
        return false;
    }

    private static bool AnySymbolic(IEnumerable<Tensor> leaves)
    {
        foreach (var t in leaves)
            if (t.IsSymbolic) return true;
        return false;
    }
}
