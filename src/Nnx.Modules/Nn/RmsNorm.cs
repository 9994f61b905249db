namespace NnxSharp;

/// <summary>
/// Root-mean-square normalisation over the last axis (Flax's <c>nnx.RMSNorm</c>, Zhang and Sennrich 2019):
/// y = x / √(mean(x²) + ε) · scale. No centring and no bias; no running state.
/// </summary>
public sealed class RmsNorm : Module, ILayer
{
    /// <summary>Creates the layer; the scale draws a key from <c>rngs.Params()</c>, as Flax does.</summary>
    /// <param name="numFeatures">The size of the last axis.</param>
    /// <param name="rngs">The random streams (a key for the scale initializer).</param>
    /// <param name="epsilon">Added to the mean square before the square root (Flax's default 1e-6).</param>
    /// <param name="useScale">Whether to multiply by a learned scale (ones).</param>
    /// <param name="scaleInit">The scale initializer; ones when null.</param>
    /// <param name="paramDType">The dtype of the scale.</param>
    public RmsNorm(int numFeatures, Rngs rngs, double epsilon = 1e-6, bool useScale = true, Initializer? scaleInit = null, DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("RmsNorm", nameof(numFeatures), numFeatures);
        if (!(epsilon >= 0)) throw new ArgumentException($"RmsNorm: epsilon must be ≥ 0 but is {epsilon}.", nameof(epsilon));
        if (useScale) Scale = new Param((scaleInit ?? Init.Ones)(rngs.Params(), [numFeatures], paramDType));
        (NumFeatures, Epsilon) = (numFeatures, epsilon);
    }

    /// <summary>The learned scale (ones at first), or null.</summary>
    public Param? Scale { get; }

    /// <summary>The size of the last axis.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the mean square before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Normalises each example of <paramref name="x"/> [..., features] by the root mean square of its features.</summary>
    public Tensor Call(Tensor x)
    {
        LayerChecks.Float("RmsNorm", x, 1);
        LayerChecks.Features("RmsNorm", x, -1, NumFeatures);
        var y = x * (x.Square().Mean(-1, keepDims: true) + Epsilon).Rsqrt();
        return Scale is null ? y : y * Scale;
    }
}
