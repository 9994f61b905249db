namespace NnxSharp;

/// <summary>
/// Several named metrics updated together (Flax's <c>nnx.MultiMetric</c>):
/// <c>new MultiMetric(("loss", new Average()), ("accuracy", new Accuracy()))</c>, then
/// <c>metrics.Update(("loss", loss), ("logits", logits), ("labels", labels))</c>; each metric reads the values it needs.
/// </summary>
public sealed class MultiMetric : Module
{
    /// <summary>Creates the metrics; an <see cref="Average"/> without a name reads the value named like its key.</summary>
    public MultiMetric(params (string Name, Metric Metric)[] metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        foreach (var (name, metric) in metrics)
        {
            ArgumentNullException.ThrowIfNull(metric, name);
            if (!Metrics.TryAdd(name, metric)) throw new ArgumentException($"MultiMetric: the name '{name}' is given twice.");
            if (metric is Average { ArgName: null } average) average.ArgName = name;
        }
    }

    /// <summary>The metrics by name.</summary>
    public Dictionary<string, Metric> Metrics { get; } = [];

    /// <summary>Updates every metric with the values it reads.</summary>
    public void Update(params (string Name, Tensor Value)[] values)
    {
        foreach (var metric in Metrics.Values) metric.Update(values);
    }

    /// <summary>Each metric's value, by name.</summary>
    public Dictionary<string, Tensor> Compute() => Metrics.ToDictionary(m => m.Key, m => m.Value.Compute());

    /// <summary>Resets every metric.</summary>
    public void Reset()
    {
        foreach (var metric in Metrics.Values) metric.Reset();
    }
}
