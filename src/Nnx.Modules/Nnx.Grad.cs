namespace NnxSharp;

// Gradients with respect to a module's variables, as Flax's nnx.grad / nnx.value_and_grad.
public static partial class Nnx
{
    /// <summary>
    /// f(module) and its gradient with respect to the module's variables that <paramref name="wrt"/> selects
    /// (default: every <see cref="Param"/>), as a <see cref="NnxSharp.State"/> with the same paths as
    /// <c>Nnx.State(module, wrt)</c>: <c>var (loss, grads) = Nnx.ValueAndGrad&lt;Model&gt;(LossFn)(model);</c>.
    /// The function runs on the module itself: state it changes that is not differentiated (batch statistics,
    /// rng counters, a user's <c>Count</c>) keeps its new value afterwards, as in Flax; the differentiated
    /// variables keep their values. Works eagerly and inside a trace.
    /// </summary>
    public static Func<TModule, (Tensor Value, State Grads)> ValueAndGrad<TModule>(Func<TModule, Tensor> f, Filter? wrt = null)
        where TModule : class
    {
        ArgumentNullException.ThrowIfNull(f);
        return module =>
        {
            var (value, _, grads) = Differentiate(module, m => (f(m), 0), wrt ?? Filter.Of<Param>(), nameof(ValueAndGrad));
            return (value, grads);
        };
    }

    /// <summary>
    /// As <see cref="ValueAndGrad{TModule}(Func{TModule, Tensor}, Filter?)"/> for a function that also returns
    /// auxiliary data (Flax's <c>has_aux</c>): <c>var ((loss, logits), grads) = Nnx.ValueAndGrad&lt;Model, Tensor&gt;(f)(model);</c>.
    /// </summary>
    public static Func<TModule, ((Tensor Value, TAux Aux) Value, State Grads)> ValueAndGrad<TModule, TAux>(
        Func<TModule, (Tensor Value, TAux Aux)> f, Filter? wrt = null)
        where TModule : class
    {
        ArgumentNullException.ThrowIfNull(f);
        return module =>
        {
            var (value, aux, grads) = Differentiate(module, f, wrt ?? Filter.Of<Param>(), nameof(ValueAndGrad));
            return ((value, aux), grads);
        };
    }

    /// <summary>The gradient of f(module) with respect to the variables <paramref name="wrt"/> selects (default: every <see cref="Param"/>).</summary>
    public static Func<TModule, State> Grad<TModule>(Func<TModule, Tensor> f, Filter? wrt = null) where TModule : class
    {
        var vg = ValueAndGrad(f, wrt);
        return module => vg(module).Grads;
    }

    /// <summary>The gradient and auxiliary data of a function that returns (value, aux).</summary>
    public static Func<TModule, (State Grads, TAux Aux)> Grad<TModule, TAux>(Func<TModule, (Tensor Value, TAux Aux)> f, Filter? wrt = null)
        where TModule : class
    {
        var vg = ValueAndGrad(f, wrt);
        return module =>
        {
            var ((_, aux), grads) = vg(module);
            return (grads, aux);
        };
    }

    /// <summary>
    /// Runs <paramref name="f"/> with each selected variable holding a watched alias of its tensor, restores the
    /// variables' tensors, and differentiates the value with respect to the aliases.
    /// </summary>
    private static (Tensor Value, TAux Aux, State Grads) Differentiate<TModule, TAux>(
        TModule module, Func<TModule, (Tensor Value, TAux Aux)> f, Filter wrt, string op)
        where TModule : class
    {
        ArgumentNullException.ThrowIfNull(module);
        var snapshot = Snapshot([module], $"Nnx.{op}");
        var paths = snapshot.GraphDef.StateDef.Paths;
        var kinds = snapshot.GraphDef.StateDef.Kinds;
        var selected = new List<int>();
        for (var i = 0; i < snapshot.Variables.Length; i++)
            if (wrt.Matches(new StateEntry(paths[i], kinds[i], snapshot.Variables[i].RawValue))) selected.Add(i);
        var variables = selected.Select(i => snapshot.Variables[i]).ToArray();
        var originals = variables.Select(v => (v.RawValue, v.IsShared)).ToArray();
        TAux aux = default!;
        var (value, grads) = Autodiff.Run($"Nnx.{op}", [.. originals.Select(o => o.RawValue)], null, aliases =>
        {
            for (var i = 0; i < variables.Length; i++) variables[i].SetRaw(aliases[i], shared: true);
            try
            {
                var (v, a) = f(module);
                aux = a;
                return v;
            }
            finally
            {
                for (var i = 0; i < variables.Length; i++) variables[i].SetRaw(originals[i].RawValue, originals[i].IsShared);
            }
        }, i => $"variable '{paths[selected[i]]}'");
        var def = new StateDef([.. selected.Select(i => paths[i])], [.. selected.Select(i => kinds[i])]);
        return (value, aux, new State(def, [.. grads.Select(g => g!)]) { GradientOf = module });
    }
}
