namespace NnxSharp;

/// <summary>
/// Loss functions, as optax's: each returns the loss per example (or per element), not reduced, so the
/// caller chooses the reduction (<c>Losses.SquaredError(p, y).Mean()</c>).
/// </summary>
public static class Losses
{
    /// <summary>(p − t)² elementwise (<c>optax.squared_error</c>); shapes broadcast.</summary>
    public static Tensor SquaredError(Tensor predictions, Tensor targets)
    {
        Nn.Checked(predictions, "squared_error");
        ArgumentNullException.ThrowIfNull(targets);
        return (predictions - targets).Square();
    }

    /// <summary>The mean of <see cref="SquaredError"/> over every element: a scalar, mean((p − t)²).</summary>
    public static Tensor MeanSquaredError(Tensor predictions, Tensor targets) => SquaredError(predictions, targets).Mean();

    /// <summary>
    /// Cross-entropy of softmax(logits) against a distribution over the last axis, per example
    /// (<c>optax.softmax_cross_entropy</c>): −Σ_c labels_c · log softmax(logits)_c. Labels are float
    /// probabilities (one-hot or soft) of the logits' shape; integer class indices go to
    /// <see cref="SoftmaxCrossEntropyWithIntegerLabels"/>.
    /// </summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor labels)
    {
        Nn.Checked(logits, "softmax_cross_entropy");
        ArgumentNullException.ThrowIfNull(labels);
        if (!labels.DType.IsFloat())
            throw new ArgumentException($"softmax_cross_entropy: labels must be float probabilities shaped like the logits {logits.Aval}, but got {labels.Aval}; for integer class indices use SoftmaxCrossEntropyWithIntegerLabels.", nameof(labels));
        if (labels.Shape != logits.Shape)
            throw new ArgumentException($"softmax_cross_entropy: labels {labels.Aval} must have the logits' shape {logits.Aval}.", nameof(labels));
        return -(labels * Nn.LogSoftmax(logits)).Sum(axis: -1);
    }

    /// <summary>
    /// Cross-entropy of softmax(logits) against integer class indices, per example
    /// (<c>optax.softmax_cross_entropy_with_integer_labels</c>): log Σ_c e^(z_c) − z_y with z = logits − max.
    /// Logits are [..., classes]; labels are int32 or int64 of shape [...], each in [0, classes).
    /// </summary>
    public static Tensor SoftmaxCrossEntropyWithIntegerLabels(Tensor logits, Tensor labels)
    {
        Nn.Checked(logits, "softmax_cross_entropy_with_integer_labels");
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.DType is not (DType.Int32 or DType.Int64))
            throw new ArgumentException($"softmax_cross_entropy_with_integer_labels: labels must be int32 or int64 class indices but got {labels.Aval}; for float (one-hot) labels use SoftmaxCrossEntropy.", nameof(labels));
        if (logits.Rank < 1 || !labels.Shape.SequenceEqual(logits.Shape.Take(logits.Rank - 1)))
            throw new ArgumentException($"softmax_cross_entropy_with_integer_labels: labels {labels.Aval} must have the shape of the logits {logits.Aval} without their last (class) axis.", nameof(labels));
        var z = logits - logits.Max(-1, keepDims: true).StopGradient();
        return z.Exp().Sum(axis: -1).Log() - z.TakeAlongAxis(labels, axis: -1);
    }

    /// <summary>
    /// Binary cross-entropy of σ(logits) against labels z in [0, 1], elementwise
    /// (<c>optax.sigmoid_binary_cross_entropy</c>), in the stable form max(x, 0) − x·z + log(1 + e^−|x|).
    /// </summary>
    public static Tensor SigmoidBinaryCrossEntropy(Tensor logits, Tensor labels)
    {
        Nn.Checked(logits, "sigmoid_binary_cross_entropy");
        ArgumentNullException.ThrowIfNull(labels);
        var z = labels.Cast(logits.DType);
        return logits.Maximum(0) - logits * z + (1.0 + (-logits.Abs()).Exp()).Log();
    }
}
