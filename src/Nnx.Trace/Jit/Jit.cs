namespace NnxSharp;

/// <summary>
/// Just-in-time compilation of pure functions of tensors and containers of tensors (tuples, lists,
/// dictionaries, State). The first call with a new argument structure, new static values (ints, floats,
/// bools, enums, strings) or new shapes and dtypes traces the function into one graph, optimises and
/// compiles it; later calls only run it. Called inside another trace, a jitted function is inlined.
/// <para>
/// <c>donate</c> lists the positions of arguments the caller gives up (as <c>donate_argnums</c> in
/// <c>jax.jit</c>): after a call their tensors are invalid (using one throws), and their buffers hold a later
/// call's outputs, so a loop <c>state = step(state, …)</c> with the state donated allocates no new buffers in
/// steady state. A donated tensor that the function returns unchanged stays valid.
/// </para>
/// </summary>
public static class Jit
{
    /// <summary>Compiles a function of one argument.</summary>
    public static Func<T1, TResult> Pure<T1, TResult>(Func<T1, TResult> f, params int[] donate)
    {
        var jit = new JitFunction(f, donate);
        return jit.Expose<Func<T1, TResult>>(a => (TResult)jit.Call([jit.Boxes.Of(0, a)])!);
    }

    /// <summary>Compiles a function of two arguments.</summary>
    public static Func<T1, T2, TResult> Pure<T1, T2, TResult>(Func<T1, T2, TResult> f, params int[] donate)
    {
        var jit = new JitFunction(f, donate);
        return jit.Expose<Func<T1, T2, TResult>>((a, b) => (TResult)jit.Call([jit.Boxes.Of(0, a), jit.Boxes.Of(1, b)])!);
    }

    /// <summary>Compiles a function of three arguments.</summary>
    public static Func<T1, T2, T3, TResult> Pure<T1, T2, T3, TResult>(Func<T1, T2, T3, TResult> f, params int[] donate)
    {
        var jit = new JitFunction(f, donate);
        return jit.Expose<Func<T1, T2, T3, TResult>>((a, b, c) => (TResult)jit.Call([jit.Boxes.Of(0, a), jit.Boxes.Of(1, b), jit.Boxes.Of(2, c)])!);
    }

    /// <summary>Compiles a function of four arguments.</summary>
    public static Func<T1, T2, T3, T4, TResult> Pure<T1, T2, T3, T4, TResult>(Func<T1, T2, T3, T4, TResult> f, params int[] donate)
    {
        var jit = new JitFunction(f, donate);
        return jit.Expose<Func<T1, T2, T3, T4, TResult>>((a, b, c, d) => (TResult)jit.Call([jit.Boxes.Of(0, a), jit.Boxes.Of(1, b), jit.Boxes.Of(2, c), jit.Boxes.Of(3, d)])!);
    }

    /// <summary>Compiles a function of five arguments.</summary>
    public static Func<T1, T2, T3, T4, T5, TResult> Pure<T1, T2, T3, T4, T5, TResult>(Func<T1, T2, T3, T4, T5, TResult> f, params int[] donate)
    {
        var jit = new JitFunction(f, donate);
        return jit.Expose<Func<T1, T2, T3, T4, T5, TResult>>((a, b, c, d, e) => (TResult)jit.Call([jit.Boxes.Of(0, a), jit.Boxes.Of(1, b), jit.Boxes.Of(2, c), jit.Boxes.Of(3, d), jit.Boxes.Of(4, e)])!);
    }

    /// <summary>
    /// The IR a jitted function runs for these arguments, after the passes, headed by the node counts before
    /// and after them and in the lowered graph.
    /// </summary>
    public static string Lower(this Delegate jitted, params object?[] args)
    {
        var c = JitRegistry.Of(jitted).Inspect(args);
        return $"// nodes: traced {c.Stats.TracedNodes}, after passes {c.Stats.OptimizedNodes}, lowered {c.Stats.LoweredNodes}\n{c.Optimized}";
    }

    /// <summary>Where the most recent compilation of a jitted function spent its time (null before the first call).</summary>
    public static CompileStats? CompileStats(this Delegate jitted) => JitRegistry.Of(jitted).LastStats;

    /// <summary>How many times a jitted function has been traced.</summary>
    public static int TraceCount(this Delegate jitted) => JitRegistry.Of(jitted).TraceCount;
}
