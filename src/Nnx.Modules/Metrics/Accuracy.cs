namespace NnxSharp;

/// <summary>
/// The fraction of examples whose largest logit is the label (Flax's <c>nnx.metrics.Accuracy</c>): reads
/// <c>("logits", [..., classes])</c> and integer <c>("labels", [...])</c>.
/// </summary>
public sealed class Accuracy : Metric
{
    /// <summary>How many predictions were right (float32).</summary>
    public MetricState Total { get; } = new(Tensor.Scalar(0f));

    /// <summary>How many predictions were made (float32).</summary>
    public MetricState Count { get; } = new(Tensor.Scalar(0f));

    /// <inheritdoc/>
    public override void Update(params (string Name, Tensor Value)[] values)
    {
        var logits = Get(values, "logits", nameof(Accuracy));
        var labels = Get(values, "labels", nameof(Accuracy));
        if (labels.DType.IsFloat() || labels.DType == DType.Bool)
            throw new ArgumentException($"Accuracy.Update: labels must be integers, but are {labels.Aval}.");
        if (logits.Rank != labels.Rank + 1 || !logits.Shape.Take(labels.Rank).SequenceEqual(labels.Shape))
            throw new ArgumentException($"Accuracy.Update: logits {logits.Aval} must be labels {labels.Aval} with one more (class) axis.");
        var correct = logits.ArgMax(-1).Cast(DType.Int64).Equal(labels.Cast(DType.Int64)).Cast(DType.Float32);
        Total.Value = Total.Value + correct.Sum();
        Count.Value = Count.Value + labels.Shape.Size;
    }

    /// <inheritdoc/>
    public override Tensor Compute() => Total.Value / Count.Value;

    /// <inheritdoc/>
    public override void Reset()
    {
        Total.Value = Tensor.Scalar(0f);
        Count.Value = Tensor.Scalar(0f);
    }
}
