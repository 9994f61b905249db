using System.Runtime.CompilerServices;
using NnxSharp.Ir;

namespace NnxSharp;

/// <summary>
/// What the inspection helpers (<see cref="Jit.Lower"/>, <see cref="Jit.CompileStats"/>, export) need from a
/// jitted function, whichever jit made it: <c>Jit.Pure</c> here, <c>Nnx.Jit</c> over modules in Nnx.Modules.
/// </summary>
internal interface IJitted
{
    /// <summary>The function's name.</summary>
    string Name { get; }

    /// <summary>How many times the function has been traced.</summary>
    int TraceCount { get; }

    /// <summary>The statistics of the most recent compilation (null before the first).</summary>
    CompileStats? LastStats { get; }

    /// <summary>The optimised graph for these arguments (tracing on a miss), its statistics and its input and output names.</summary>
    JitInspection Inspect(object?[] args);
}

/// <summary>
/// A compiled function's graph after the passes, with names for its inputs and outputs, which inputs are state
/// (carried from step to step: variables, or arguments fed by a <c>new/</c> output), and the inputs' current values.
/// </summary>
internal sealed record JitInspection(Graph Optimized, CompileStats Stats, string[] InputNames, string[] OutputNames, bool[] StateInputs, IReadOnlyList<Tensor> InputValues);

/// <summary>The user-facing delegates of jitted functions and the engines behind them.</summary>
internal static class JitRegistry
{
    private static readonly ConditionalWeakTable<Delegate, IJitted> Engines = new();

    /// <summary>Registers <paramref name="wrapper"/> as a delegate of <paramref name="engine"/> and returns it.</summary>
    public static TDelegate Expose<TDelegate>(IJitted engine, TDelegate wrapper) where TDelegate : Delegate
    {
        Engines.AddOrUpdate(wrapper, engine);
        return wrapper;
    }

    /// <summary>The engine behind a delegate returned by <c>Jit.Pure</c> or <c>Nnx.Jit</c>.</summary>
    public static IJitted Of(Delegate jitted)
    {
        ArgumentNullException.ThrowIfNull(jitted);
        return Engines.TryGetValue(jitted, out var f)
            ? f
            : throw new ArgumentException($"This delegate ({jitted.Method.Name}) was not made by Jit.Pure or Nnx.Jit.", nameof(jitted));
    }
}
