namespace NnxSharp;

/// <summary>
/// One stage of an optax-style optimizer: it turns gradients into updates, keeping per-parameter state
/// (zeros shaped like each parameter, one tensor per name in <see cref="StateNames"/>). Stages compose with
/// <see cref="Optax.Chain"/>; <see cref="Optimizer"/> holds the state as <see cref="OptState"/> variables and adds
/// the final updates to the parameters. Written with tensor operations, so it runs eagerly or in a trace.
/// </summary>
public abstract class GradientTransformation
{
    /// <summary>What the transformation is, for printing.</summary>
    public abstract string Name { get; }

    /// <summary>The names of the per-parameter state tensors (<c>mu</c>, <c>nu</c>, <c>trace</c>…), none by default.</summary>
    public virtual IReadOnlyList<string> StateNames => [];

    /// <summary>The stages in order (one for a plain transformation, the members for a chain).</summary>
    internal virtual IReadOnlyList<GradientTransformation> Stages => [this];

    /// <summary>
    /// Transforms <paramref name="updates"/> in place. <paramref name="state"/>[s][p] is state tensor
    /// <see cref="StateNames"/>[s] of parameter p (replace it to update it); <paramref name="paths"/> are the
    /// parameters' paths in the model (for masks); <paramref name="count"/> is the
    /// number of updates before this one, as a float64 scalar.
    /// </summary>
    public abstract void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
