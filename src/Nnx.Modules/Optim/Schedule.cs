namespace NnxSharp;

/// <summary>
/// A learning-rate (or other hyper-parameter) schedule: a function of the optimizer's step count, evaluated
/// in the graph from the count tensor, so a jitted step follows it without retracing. A number converts to
/// a constant schedule (<c>Optax.Adam(1e-3)</c>).
/// </summary>
public sealed class Schedule
{
    private readonly Func<Tensor, Tensor> _f;

    /// <summary>A schedule from a function of the float64 step count (0 for the first update).</summary>
    public Schedule(string name, Func<Tensor, Tensor> f)
    {
        Name = name;
        _f = f;
    }

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
