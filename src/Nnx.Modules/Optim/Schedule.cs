namespace NnxSharp;

/// <summary>
/// A learning-rate (or other hyper-parameter) schedule: a function of the optimizer's step count, evaluated
/// in the graph from the count tensor, so a jitted step follows it without retracing. A number converts to
/// a constant schedule (<c>Optax.Adam(1e-3)</c>).
/// Schedules compare by value (a static of a jitted step): the library's by their kind and parameters, so
/// <c>Optax.Adam(1e-3)</c> made twice gives equal optimizers and one trace; a user's schedule by its name and
/// function (the same method on the same target).
/// </summary>
public sealed class Schedule : IEquatable<Schedule>
{
    private readonly Func<Tensor, Tensor> _f;
    private readonly object[]? _key;

    /// <summary>A schedule from a function of the float64 step count (0 for the first update).</summary>
    public Schedule(string name, Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(f);
        Name = name;
        _f = f;
    }

    /// <summary>A library schedule identified by its kind and parameters (<paramref name="key"/>), which define its function.</summary>
    internal Schedule(string name, Func<Tensor, Tensor> f, object[] key)
        : this(name, f) => _key = key;

    /// <summary>A library schedule identified by its kind and parameters (<paramref name="key"/>), which define its function.</summary>
    internal Schedule(string name, object[] key, Func<Tensor, Tensor> f)
        : this(name, f) => _key = key;

    /// <summary>Value equality: the same kind and parameters (bitwise for numbers), or the same name and function.</summary>
    public bool Equals(Schedule? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || Name != other.Name) return false;
        if (_key is null || other._key is null) return _key is null && other._key is null && _f.Equals(other._f);
        if (_key.Length != other._key.Length) return false;
        for (var i = 0; i < _key.Length; i++)
            if (!StaticEquality.Same(_key[i], other._key[i])) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Schedule);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Name);
        if (_key is null) h.Add(_f);
        else foreach (var k in _key) h.Add(StaticEquality.Hash(k));
        return h.ToHashCode();
    }

    /// <summary>Whether this is one of the library's schedules (whose function is made of tensor operations).</summary>
    internal bool IsLibrary => _key is not null;

    /// <summary>What the schedule is, for printing.</summary>
    public string Name { get; }

    /// <summary>The value at step <paramref name="count"/> (a float64 scalar).</summary>
    public Tensor At(Tensor count) => _f(count);

    /// <summary>The value at a step given as a number (evaluated eagerly).</summary>
    public double At(int count) => At(Tensor.Scalar(count, DType.Float64)).Cast(DType.Float64).Item<double>();

    /// <summary>A constant schedule.</summary>
    public static implicit operator Schedule(double value) => Schedules.Constant(value);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
