namespace NnxSharp;

/// <summary>
/// One stage of an optax-style optimizer: it turns gradients into updates, keeping per-parameter state
/// (zeros shaped like each parameter, one tensor per name in <see cref="StateNames"/>). Stages compose with
/// <see cref="Optax.Chain"/>; <see cref="Optimizer"/> holds the state as <see cref="OptState"/> variables and adds
/// the final updates to the parameters. Written with tensor operations, so it runs eagerly or in a trace.
/// Transformations compare by value (they are static attributes of an <see cref="Optimizer"/>, so of a jitted
/// step's key): the same type and equal fields (numbers bitwise, arrays element by element, schedules by value,
/// delegates such as masks as delegates). <c>Optax.Adam(1e-3)</c> made twice gives equal transformations, and a new
/// but equal optimizer does not retrace. A subclass should keep its fields immutable.
/// </summary>
public abstract class GradientTransformation : IEquatable<GradientTransformation>
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, System.Reflection.FieldInfo[]> FieldsOf = new();

    /// <summary>What the transformation is, for printing.</summary>
    public abstract string Name { get; }

    /// <summary>The names of the per-parameter state tensors (<c>mu</c>, <c>nu</c>, <c>trace</c>…), none by default.</summary>
    public virtual IReadOnlyList<string> StateNames => [];

    /// <summary>
    /// Whether <see cref="Update"/> is made of tensor operations only, so that an eager <see cref="Optimizer.Update"/> may
    /// run it jitted: the library's transformations with the library's schedules. False for a subclass, which may read
    /// its tensors on the host when it runs eagerly.
    /// </summary>
    internal virtual bool Traceable => false;

    /// <summary>The stages in order (one for a plain transformation, the members for a chain).</summary>
    internal virtual IReadOnlyList<GradientTransformation> Stages => [this];

    /// <summary>
    /// Transforms <paramref name="updates"/> in place. <paramref name="state"/>[s][p] is state tensor
    /// <see cref="StateNames"/>[s] of parameter p (replace it to update it); <paramref name="paths"/> are the
    /// parameters' paths in the model (for masks); <paramref name="count"/> is the
    /// number of updates before this one, as a float64 scalar.
    /// </summary>
    public abstract void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count);

    /// <summary>Value equality: the same type and equal fields.</summary>
    public bool Equals(GradientTransformation? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other.GetType() != GetType()) return false;
        foreach (var f in Fields(GetType()))
            if (!SameField(f.GetValue(this), f.GetValue(other))) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as GradientTransformation);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(GetType());
        foreach (var f in Fields(GetType()))
        {
            var v = f.GetValue(this);
            if (v is Array a) foreach (var x in a) h.Add(StaticEquality.Hash(x));
            else h.Add(StaticEquality.Hash(v));
        }
        return h.ToHashCode();
    }

    private static bool SameField(object? a, object? b)
    {
        if (a is not Array x || b is not Array y) return StaticEquality.Same(a, b);
        if (x.Length != y.Length) return false;
        for (var i = 0; i < x.Length; i++)
            if (!StaticEquality.Same(x.GetValue(i), y.GetValue(i))) return false;
        return true;
    }

    private static System.Reflection.FieldInfo[] Fields(Type t) => FieldsOf.GetOrAdd(t, type =>
    {
        var all = new List<System.Reflection.FieldInfo>();
        for (var c = type; c is not null && c != typeof(GradientTransformation); c = c.BaseType)
            all.AddRange(c.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public
                | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.DeclaredOnly));
        return [.. all];
    });

    /// <inheritdoc/>
    public override string ToString() => Name;
}
