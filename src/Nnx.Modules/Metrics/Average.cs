namespace NnxSharp;

/// <summary>
/// The mean of every value seen since the last reset (Flax's <c>nnx.metrics.Average</c>): each update adds the
/// sum and the count of a tensor's elements. It reads the value named <see cref="ArgName"/>; inside a
/// <see cref="MultiMetric"/>, an Average made without a name reads the value named like its key.
/// </summary>
public sealed class Average : Metric
{
    /// <summary>An average of the value named <paramref name="argName"/> (null: its key in a MultiMetric, else <c>values</c>).</summary>
    public Average(string? argName = null) => ArgName = argName;

    /// <summary>The name of the value it averages (null until a MultiMetric names it).</summary>
    public string? ArgName { get; internal set; }

    /// <summary>The sum of the values (float32).</summary>
    public MetricState Total { get; } = new(Tensor.Scalar(0f));

    /// <summary>How many values were summed (float32, so large counts stay exact to 2^24).</summary>
    public MetricState Count { get; } = new(Tensor.Scalar(0f));

    /// <inheritdoc/>
    public override void Update(params (string Name, Tensor Value)[] values)
    {
        var v = Get(values, ArgName ?? "values", nameof(Average));
        Total.Value = Total.Value + v.Cast(DType.Float32).Sum();
        Count.Value = Count.Value + v.Shape.Size;
    }

    /// <summary>Adds the elements of one tensor.</summary>
    public void Update(Tensor values) => Update((ArgName ?? "values", values));

    /// <inheritdoc/>
    public override Tensor Compute() => Total.Value / Count.Value;

    /// <inheritdoc/>
    public override void Reset()
    {
        Total.Value = Tensor.Scalar(0f);
        Count.Value = Tensor.Scalar(0f);
    }
}
