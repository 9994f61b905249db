using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// An optimizer over a model's variables (Flax NNX's <c>nnx.Optimizer</c>): it holds the model itself (the
/// object graph stores it once), a <see cref="GradientTransformation"/>, the step count and the
/// transformation's state as <see cref="NnxSharp.OptState"/> variables. <see cref="Update"/> applies gradients
/// in place, eagerly or inside a traced step.
/// <code>
/// var optimizer = new Optimizer(model, Optax.Adam(1e-3));
/// var (loss, grads) = Nnx.ValueAndGrad&lt;Model&gt;(LossFn)(model);
/// optimizer.Update(grads);
/// </code>
/// </summary>
public class Optimizer : Module
{
    /// <summary>Creates an optimizer for the variables of <paramref name="model"/> that <paramref name="wrt"/> selects (default: every Param).</summary>
    public Optimizer(Module model, GradientTransformation tx, Filter? wrt = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tx);
        Model = model;
        Tx = tx;
        Wrt = wrt ?? Filter.Of<Param>();
        var parameters = Nnx.State(model, Wrt);
        Paths = [.. parameters.Paths];
        foreach (var stage in tx.Stages)
        {
            var slots = new Dictionary<string, Dictionary<string, OptState>>();
            foreach (var name in stage.StateNames)
                slots[name] = parameters.ToDictionary().ToDictionary(e => e.Key, e => new OptState(Tensor.Zeros(e.Value.DType, [.. e.Value.Shape])), StringComparer.Ordinal);
            OptState.Add(slots);
        }
    }

    /// <summary>The model whose variables are optimised (the same object, not a copy).</summary>
    public Module Model { get; }

    /// <summary>The gradient transformation.</summary>
    public GradientTransformation Tx { get; }

    /// <summary>Which of the model's variables are optimised.</summary>
    public Filter Wrt { get; }

    /// <summary>The optimised variables' paths in the model, in state order (static).</summary>
    public string[] Paths { get; }

    /// <summary>How many updates were applied (uint32, as Flax).</summary>
    public OptState Step { get; } = new(Tensor.Scalar(0, DType.UInt32));

    /// <summary>
    /// Per stage of the transformation: each state name's tensors, keyed by the path of the parameter each belongs to,
    /// so the state paths read <c>opt_state/0/mu/linear/kernel</c> and a checkpoint does not depend on field order.
    /// </summary>
    public List<Dictionary<string, Dictionary<string, OptState>>> OptState { get; } = [];

    /// <summary>
    /// Applies gradients: <paramref name="grads"/> must have exactly the optimised variables' paths and avals
    /// (what <c>Nnx.Grad</c> returns). Each variable gets <c>value + update</c>; the state and the step advance.
    /// </summary>
    public void Update(State grads)
    {
        ArgumentNullException.ThrowIfNull(grads);
        if (grads.GradientOf is { } of && !ReferenceEquals(of, Model))
            throw new ArgumentException(
                $"Optimizer.Update: the gradients are of {Describe(of)}, but this optimizer was made for {Describe(Model)}, a different object; " +
                "updating would apply one model's gradients to the other. Pass the optimizer made for that model (new Optimizer(model, tx)).",
                nameof(grads));
        var parameters = Nnx.State(Model, Wrt);
        Check(grads, parameters);
        var updates = new Tensor[Paths.Length];
        for (var i = 0; i < updates.Length; i++) updates[i] = grads[Paths[i]];
        var count = Step.Value.Cast(DType.Float64);
        var stages = Tx.Stages;
        var state = new Tensor[stages.Count][][];
        for (var s = 0; s < stages.Count; s++)
        {
            var names = stages[s].StateNames;
            state[s] = new Tensor[names.Count][];
            for (var n = 0; n < names.Count; n++) state[s][n] = [.. Paths.Select(p => OptState[s][names[n]][p].Value)];
        }
        var values = parameters.Values.ToArray();
        (values, state) = Jitted(updates, state, values, count) is { } jitted
            ? jitted(updates, state, values, count)
            : Arithmetic(updates, state, values, count);
        for (var s = 0; s < stages.Count; s++)
        {
            var names = stages[s].StateNames;
            for (var n = 0; n < names.Count; n++)
                for (var p = 0; p < Paths.Length; p++) OptState[s][names[n]][Paths[p]].Value = state[s][n][p];
        }
        var newValues = new StateEntry[Paths.Length];
        for (var p = 0; p < Paths.Length; p++) newValues[p] = new StateEntry(Paths[p], parameters.KindOf(Paths[p]), values[p]);
        Nnx.Update(Model, State.Of(newValues));
        Step.Value = Step.Value + 1;
    }

    /// <summary>
    /// An update's arithmetic: every stage on the updates and its state (each state tensor kept in its dtype), then each
    /// parameter plus its update, in the parameter's dtype. <paramref name="updates"/> and <paramref name="state"/> are
    /// replaced in place.
    /// </summary>
    private (Tensor[] Values, Tensor[][][] State) Arithmetic(Tensor[] updates, Tensor[][][] state, Tensor[] parameters, Tensor count)
    {
        var stages = Tx.Stages;
        for (var s = 0; s < stages.Count; s++)
        {
            var dtypes = state[s].Select(names => names.Select(t => t.DType).ToArray()).ToArray();
            stages[s].Update(updates, state[s], parameters, Paths, count);
            for (var n = 0; n < state[s].Length; n++)
                for (var p = 0; p < Paths.Length; p++) state[s][n][p] = state[s][n][p].Cast(dtypes[n][p]);
        }
        var values = new Tensor[parameters.Length];
        for (var p = 0; p < values.Length; p++) values[p] = (parameters[p] + updates[p]).Cast(parameters[p].DType);
        return (values, state);
    }

    // The arithmetic jitted, for eager updates: one cached call whose stages fuse per parameter (SGD's p + (−lr·g) one
    // pass over each weight instead of two, with no update tensor in between), instead of every stage's operations one by
    // one. The seed's eager step at width 512 spent 1.1 ms of 6 in its SGD update (notes/autodiff.md). Kept beside the
    // optimizer, not in a field: every field of a module is part of its graph.
    private static readonly ConditionalWeakTable<Optimizer, Func<Tensor[], Tensor[][][], Tensor[], Tensor, (Tensor[], Tensor[][][])>> JittedArithmetic = new();

    /// <summary>
    /// The jitted arithmetic when this update runs eagerly (every tensor concrete, no trace) with the library's
    /// transformations (<see cref="GradientTransformation.Traceable"/>: a user's stage may read its tensors on the host);
    /// else null, and the stages run as they are called.
    /// </summary>
    private Func<Tensor[], Tensor[][][], Tensor[], Tensor, (Tensor[], Tensor[][][])>? Jitted(Tensor[] updates, Tensor[][][] state, Tensor[] parameters, Tensor count)
    {
        if (Ir.TraceBuilder.Current is not null || count.IsSymbolic || !Tx.Stages.All(s => s.Traceable)) return null;
        if (updates.Any(t => t.IsSymbolic) || parameters.Any(t => t.IsSymbolic) || state.Any(s => s.Any(n => n.Any(t => t.IsSymbolic)))) return null;
        return JittedArithmetic.GetValue(this, static o => Jit.Pure<Tensor[], Tensor[][][], Tensor[], Tensor, (Tensor[], Tensor[][][])>(o.Arithmetic));
    }

    /// <summary>A module's type and identity, to tell two models of one type apart in an error.</summary>
    private static string Describe(object module) =>
        $"the {module.GetType().Name} #{System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(module):x8}";

    private void Check(State grads, State parameters)
    {
        if (parameters.Count != Paths.Length || !parameters.Paths.SequenceEqual(Paths))
        {
            var gone = Paths.Where(p => !parameters.Contains(p)).Take(5).Select(p => $"'{p}'").ToList();
            var added = parameters.Paths.Where(p => Array.IndexOf(Paths, p) < 0).Take(5).Select(p => $"'{p}'").ToList();
            throw new InvalidOperationException(
                $"Optimizer.Update: the model's optimised variables changed since the optimizer was made (now {parameters.Count}, then {Paths.Length})" +
                (gone.Count > 0 ? $"; gone: {string.Join(", ", gone)}" : "") + (added.Count > 0 ? $"; new: {string.Join(", ", added)}" : "") +
                "; make a new Optimizer for the model as it is now.");
        }
        var missing = Paths.Where(p => !grads.Contains(p)).ToList();
        var extra = grads.Paths.Where(p => Array.IndexOf(Paths, p) < 0).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ArgumentException(
                "Optimizer.Update: the gradients do not match the optimised variables" +
                (missing.Count > 0 ? $"; missing: {string.Join(", ", missing.Take(5).Select(p => $"'{p}'"))}" : "") +
                (extra.Count > 0 ? $"; not optimised: {string.Join(", ", extra.Take(5).Select(p => $"'{p}'"))}" : "") + ".");
        for (var i = 0; i < Paths.Length; i++)
        {
            var state = OptState.Count > 0 && OptState[0].Count > 0 && OptState[0].Values.First().TryGetValue(Paths[i], out var slot) ? slot.Aval : null;
            if (state is not null && state.Shape != parameters[Paths[i]].Shape)
                throw new InvalidOperationException(
                    $"Optimizer.Update: variable '{Paths[i]}' is {parameters[Paths[i]].Aval} but the optimizer's state for it is {state} " +
                    "(the variable was replaced by one of another shape after the optimizer was made); make a new Optimizer.");
        }
        foreach (var p in Paths)
            if (grads[p].Aval != parameters[p].Aval)
                throw new ArgumentException($"Optimizer.Update: the gradient of '{p}' is {grads[p].Aval} but the variable is {parameters[p].Aval}.");
    }
}
