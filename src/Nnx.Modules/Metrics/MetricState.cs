namespace NnxSharp;

/// <summary>The variable kind of a metric's running sums and counts (Flax's <c>nnx.metrics.MetricState</c>).</summary>
public sealed class MetricState(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);
