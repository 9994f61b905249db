namespace NnxSharp;

// Nnx.Jit: the automatic path over modules.
public static partial class Nnx
{
    /// <summary>
    /// Compiles a step over modules, as Flax's <c>nnx.jit</c>: <c>Nnx.Jit((Model model, Optimizer opt, Tensor x, Tensor y) =&gt; …)</c>.
    /// Arguments that are modules or variables are the state: their variables become the graph's inputs,
    /// and every variable the step assigns (parameters, optimizer state, batch statistics, rng counters,
    /// metric sums, user kinds) holds its new value after the call, in the same <see cref="Variable"/>
    /// objects. Other arguments are tensors, trees of tensors and static values (ints, floats, bools,
    /// enums, strings: compiled in). The first call with a new structure (GraphDef, trees, static values)
    /// or new shapes traces the step on the real objects, with symbolic tensors in their variables, and
    /// compiles it; later calls check the structure without allocating, run, and swap the state buffers.
    /// Inside another trace the step is inlined.
    /// </summary>
    public static Func<T1, TResult> Jit<T1, TResult>(Func<T1, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, TResult>>(jit, (a1) => (TResult)jit.Call([jit.Boxes.Of(0, a1)])!);
    }

    /// <summary>Compiles a step of one argument that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1> Jit<T1>(Action<T1> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1>>(jit, (a1) => jit.Call([jit.Boxes.Of(0, a1)]));
    }

    /// <summary>Compiles a step of two arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, TResult> Jit<T1, T2, TResult>(Func<T1, T2, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, TResult>>(jit, (a1, a2) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2)])!);
    }

    /// <summary>Compiles a step of two arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2> Jit<T1, T2>(Action<T1, T2> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2>>(jit, (a1, a2) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2)]));
    }

    /// <summary>Compiles a step of three arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, T3, TResult> Jit<T1, T2, T3, TResult>(Func<T1, T2, T3, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, T3, TResult>>(jit, (a1, a2, a3) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3)])!);
    }

    /// <summary>Compiles a step of three arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2, T3> Jit<T1, T2, T3>(Action<T1, T2, T3> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2, T3>>(jit, (a1, a2, a3) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3)]));
    }

    /// <summary>Compiles a step of four arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, T3, T4, TResult> Jit<T1, T2, T3, T4, TResult>(Func<T1, T2, T3, T4, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, T3, T4, TResult>>(jit, (a1, a2, a3, a4) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4)])!);
    }

    /// <summary>Compiles a step of four arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2, T3, T4> Jit<T1, T2, T3, T4>(Action<T1, T2, T3, T4> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2, T3, T4>>(jit, (a1, a2, a3, a4) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4)]));
    }

    /// <summary>Compiles a step of five arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, T3, T4, T5, TResult> Jit<T1, T2, T3, T4, T5, TResult>(Func<T1, T2, T3, T4, T5, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, T3, T4, T5, TResult>>(jit, (a1, a2, a3, a4, a5) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5)])!);
    }

    /// <summary>Compiles a step of five arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2, T3, T4, T5> Jit<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2, T3, T4, T5>>(jit, (a1, a2, a3, a4, a5) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5)]));
    }

    /// <summary>Compiles a step of six arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, T3, T4, T5, T6, TResult> Jit<T1, T2, T3, T4, T5, T6, TResult>(Func<T1, T2, T3, T4, T5, T6, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, T3, T4, T5, T6, TResult>>(jit, (a1, a2, a3, a4, a5, a6) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5), jit.Boxes.Of(5, a6)])!);
    }

    /// <summary>Compiles a step of six arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2, T3, T4, T5, T6> Jit<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2, T3, T4, T5, T6>>(jit, (a1, a2, a3, a4, a5, a6) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5), jit.Boxes.Of(5, a6)]));
    }

    /// <summary>Compiles a step of seven arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, T3, T4, T5, T6, T7, TResult> Jit<T1, T2, T3, T4, T5, T6, T7, TResult>(Func<T1, T2, T3, T4, T5, T6, T7, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, T3, T4, T5, T6, T7, TResult>>(jit, (a1, a2, a3, a4, a5, a6, a7) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5), jit.Boxes.Of(5, a6), jit.Boxes.Of(6, a7)])!);
    }

    /// <summary>Compiles a step of seven arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2, T3, T4, T5, T6, T7> Jit<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2, T3, T4, T5, T6, T7>>(jit, (a1, a2, a3, a4, a5, a6, a7) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5), jit.Boxes.Of(5, a6), jit.Boxes.Of(6, a7)]));
    }

    /// <summary>Compiles a step of eight arguments (modules, tensors, trees of tensors, static values) that returns a result; see <see cref="Jit{T1, TResult}(Func{T1, TResult})"/>.</summary>
    public static Func<T1, T2, T3, T4, T5, T6, T7, T8, TResult> Jit<T1, T2, T3, T4, T5, T6, T7, T8, TResult>(Func<T1, T2, T3, T4, T5, T6, T7, T8, TResult> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Func<T1, T2, T3, T4, T5, T6, T7, T8, TResult>>(jit, (a1, a2, a3, a4, a5, a6, a7, a8) => (TResult)jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5), jit.Boxes.Of(5, a6), jit.Boxes.Of(6, a7), jit.Boxes.Of(7, a8)])!);
    }

    /// <summary>Compiles a step of eight arguments that returns nothing (its effect is the state it changes).</summary>
    public static Action<T1, T2, T3, T4, T5, T6, T7, T8> Jit<T1, T2, T3, T4, T5, T6, T7, T8>(Action<T1, T2, T3, T4, T5, T6, T7, T8> f)
    {
        var jit = new ModuleJit(Check(f));
        return JitRegistry.Expose<Action<T1, T2, T3, T4, T5, T6, T7, T8>>(jit, (a1, a2, a3, a4, a5, a6, a7, a8) => jit.Call([jit.Boxes.Of(0, a1), jit.Boxes.Of(1, a2), jit.Boxes.Of(2, a3), jit.Boxes.Of(3, a4), jit.Boxes.Of(4, a5), jit.Boxes.Of(5, a6), jit.Boxes.Of(6, a7), jit.Boxes.Of(7, a8)]));
    }

    private static T Check<T>(T f) where T : Delegate
    {
        ArgumentNullException.ThrowIfNull(f);
        return f;
    }
}
