namespace NnxSharp;

/// <summary>
/// A metric accumulated over steps: its state is <see cref="MetricState"/> variables, so updating it inside a
/// jitted step persists like any other state. Values are passed by name: <c>("loss", loss)</c>,
/// <c>("logits", logits)</c>, <c>("labels", labels)</c>.
/// </summary>
public abstract class Metric : Module
{
    /// <summary>Adds a batch of values, picking the named values the metric reads.</summary>
    public abstract void Update(params (string Name, Tensor Value)[] values);

    /// <summary>The metric's value so far (a scalar).</summary>
    public abstract Tensor Compute();

    /// <summary>Clears the accumulated state.</summary>
    public abstract void Reset();

    /// <summary>The value named <paramref name="name"/>; a clear error when it was not given.</summary>
    protected static Tensor Get((string Name, Tensor Value)[] values, string name, string metric)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var (n, v) in values)
            if (n == name) return v ?? throw new ArgumentNullException(nameof(values), $"{metric}.Update: the value '{name}' is null.");
        throw new ArgumentException(
            $"{metric}.Update: no value named '{name}' (given: {string.Join(", ", values.Select(v => $"'{v.Name}'"))}).", nameof(values));
    }
}
