namespace NnxSharp;

/// <summary>
/// Batch normalisation (Flax's <c>nnx.BatchNorm</c>): y = (x − μ)/√(σ² + ε)·scale + bias per feature, where μ
/// and σ² are the batch's mean and biased variance over every axis but the feature axis while training, and
/// the running averages <see cref="Mean"/> and <see cref="Var"/> in evaluation. Each training call updates
/// them: mean ← momentum·mean + (1 − momentum)·μ, var likewise with the biased σ² (PyTorch's momentum is
/// 1 − this one, and PyTorch's running variance uses the unbiased σ²).
/// </summary>
public sealed class BatchNorm : Module, ILayer
{
    /// <summary>Creates the layer; scale and bias each draw a key from <c>rngs.Params()</c>, as Flax does.</summary>
    /// <param name="numFeatures">The size of the feature axis.</param>
    /// <param name="rngs">The random streams (keys for the scale and bias initializers).</param>
    /// <param name="momentum">The decay of the running averages.</param>
    /// <param name="epsilon">Added to the variance before the square root.</param>
    /// <param name="useBias">Whether to add a learned bias (zeros).</param>
    /// <param name="useScale">Whether to multiply by a learned scale (ones).</param>
    /// <param name="axis">The feature axis (the last by default).</param>
    /// <param name="useRunningAverage">True: always the running averages; false: always batch statistics; null (the default): batch statistics exactly while <see cref="Module.Training"/>.</param>
    /// <param name="scaleInit">The scale initializer; ones when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The dtype of scale and bias.</param>
    public BatchNorm(int numFeatures, Rngs rngs, double momentum = 0.99, double epsilon = 1e-5, bool useBias = true, bool useScale = true,
        int axis = -1, bool? useRunningAverage = null, Initializer? scaleInit = null, Initializer? biasInit = null, DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("BatchNorm", nameof(numFeatures), numFeatures);
        if (!(momentum is >= 0 and <= 1)) throw new ArgumentException($"BatchNorm: momentum must be in [0, 1] but is {momentum}.", nameof(momentum));
        if (!(epsilon >= 0)) throw new ArgumentException($"BatchNorm: epsilon must be ≥ 0 but is {epsilon}.", nameof(epsilon));
        Mean = new BatchStat(Tensor.Zeros(numFeatures));
        Var = new BatchStat(Tensor.Ones(numFeatures));
        if (useScale) Scale = new Param((scaleInit ?? Init.Ones)(rngs.Params(), [numFeatures], paramDType));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [numFeatures], paramDType));
        (NumFeatures, Momentum, Epsilon, Axis, UseRunningAverage) = (numFeatures, momentum, epsilon, axis, useRunningAverage);
    }

    /// <summary>The running mean of the features, f32[numFeatures], starting at 0.</summary>
    public BatchStat Mean { get; }

    /// <summary>The running (biased) variance of the features, f32[numFeatures], starting at 1.</summary>
    public BatchStat Var { get; }

    /// <summary>The learned scale (ones at first), or null.</summary>
    public Param? Scale { get; }

    /// <summary>The learned bias (zeros at first), or null.</summary>
    public Param? Bias { get; }

    /// <summary>The size of the feature axis.</summary>
    public int NumFeatures { get; }

    /// <summary>The decay of the running averages.</summary>
    public double Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>The feature axis.</summary>
    public int Axis { get; }

    /// <summary>Forces the running averages (true) or batch statistics (false); null follows <see cref="Module.Training"/>.</summary>
    public bool? UseRunningAverage { get; }

    /// <summary>Normalises <paramref name="x"/>; while training (or with useRunningAverage false) also updates the running averages.</summary>
    public Tensor Call(Tensor x)
    {
        LayerChecks.Float("BatchNorm", x, 1);
        LayerChecks.Features("BatchNorm", x, Axis, NumFeatures);
        LayerChecks.Variable("BatchNorm", Mean, "mean", NumFeatures);
        LayerChecks.Variable("BatchNorm", Var, "var", NumFeatures);
        LayerChecks.Variable("BatchNorm", Scale, "scale", NumFeatures);
        LayerChecks.Variable("BatchNorm", Bias, "bias", NumFeatures);
        var axis = Axis < 0 ? Axis + x.Rank : Axis;
        var featureShape = LayerChecks.FeatureShape(x.Rank, axis, NumFeatures);
        Tensor mean, variance;
        if (UseRunningAverage ?? !Training)
        {
            mean = Mean.Value.Reshape(featureShape);
            variance = Var.Value.Reshape(featureShape);
        }
        else
        {
            var reduce = Enumerable.Range(0, x.Rank).Where(d => d != axis).ToArray();
            // The mean of no elements is NaN, and it would flow into the running statistics for good.
            if (reduce.Any(d => x.Shape[d] == 0))
                throw new ArgumentException(
                    $"BatchNorm: the input {x.Aval} has no elements to take batch statistics over (a zero-size batch); " +
                    "skip empty batches, or call the model in eval mode, which uses the running averages.", nameof(x));
            mean = x.Mean(reduce, keepDims: true);
            variance = (x - mean).Square().Mean(reduce, keepDims: true);
            Mean.Value = (Mean.Value * Momentum + mean.Reshape(NumFeatures).Cast(Mean.DType) * (1 - Momentum)).StopGradient();
            Var.Value = (Var.Value * Momentum + variance.Reshape(NumFeatures).Cast(Var.DType) * (1 - Momentum)).StopGradient();
        }
        var y = (x - mean) * (variance + Epsilon).Rsqrt();
        if (Scale is not null) y *= Scale.Value.Reshape(featureShape);
        if (Bias is not null) y += Bias.Value.Reshape(featureShape);
        return y;
    }
}
