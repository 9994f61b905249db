namespace NnxSharp;

/// <summary>
/// Layer normalisation over the last axis (Flax's <c>nnx.LayerNorm</c>): y = (x − μ)/√(σ² + ε)·scale + bias,
/// with μ and the biased σ² of each example's features. No running state; training and evaluation agree.
/// </summary>
public sealed class LayerNorm : Module, ILayer
{
    /// <summary>Creates the layer; scale and bias each draw a key from <c>rngs.Params()</c>, as Flax does.</summary>
    /// <param name="numFeatures">The size of the last axis.</param>
    /// <param name="rngs">The random streams (keys for the scale and bias initializers).</param>
    /// <param name="epsilon">Added to the variance before the square root (Flax's default 1e-6; PyTorch's is 1e-5).</param>
    /// <param name="useBias">Whether to add a learned bias (zeros).</param>
    /// <param name="useScale">Whether to multiply by a learned scale (ones).</param>
    /// <param name="scaleInit">The scale initializer; ones when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The dtype of scale and bias.</param>
    public LayerNorm(int numFeatures, Rngs rngs, double epsilon = 1e-6, bool useBias = true, bool useScale = true,
        Initializer? scaleInit = null, Initializer? biasInit = null, DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("LayerNorm", nameof(numFeatures), numFeatures);
        if (!(epsilon >= 0)) throw new ArgumentException($"LayerNorm: epsilon must be ≥ 0 but is {epsilon}.", nameof(epsilon));
        if (useScale) Scale = new Param((scaleInit ?? Init.Ones)(rngs.Params(), [numFeatures], paramDType));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [numFeatures], paramDType));
        (NumFeatures, Epsilon) = (numFeatures, epsilon);
    }

    /// <summary>The learned scale (ones at first), or null.</summary>
    public Param? Scale { get; }

    /// <summary>The learned bias (zeros at first), or null.</summary>
    public Param? Bias { get; }

    /// <summary>The size of the last axis.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Normalises each example of <paramref name="x"/> [..., features] over its features.</summary>
    public Tensor Call(Tensor x)
    {
        LayerChecks.Float("LayerNorm", x, 1);
        LayerChecks.Features("LayerNorm", x, -1, NumFeatures);
        var centred = x - x.Mean(-1, keepDims: true);
        var y = centred * (centred.Square().Mean(-1, keepDims: true) + Epsilon).Rsqrt();
        if (Scale is not null) y *= Scale;
        if (Bias is not null) y += Bias;
        return y;
    }
}
