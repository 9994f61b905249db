namespace NnxSharp;

/// <summary>
/// A dense layer, y = x·W + b over the last axis (Flax's <c>nnx.Linear</c>): kernel W is [in, out]
/// (LeCun normal by default), bias b is [out] (zeros). Any leading dimensions pass through.
/// </summary>
public sealed class Linear : Module, ILayer
{
    /// <summary>
    /// Creates the layer, drawing the kernel's key and then the bias's key from <c>rngs.Params()</c>, as Flax does.
    /// </summary>
    /// <param name="inFeatures">The size of the input's last axis.</param>
    /// <param name="outFeatures">The size of the output's last axis.</param>
    /// <param name="rngs">The random streams; the <c>params</c> stream (or <c>default</c>) gives the keys.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="kernelInit">The kernel initializer; LeCun normal when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The parameters' dtype (Flax's <c>param_dtype</c>).</param>
    public Linear(int inFeatures, int outFeatures, Rngs rngs, bool useBias = true, Initializer? kernelInit = null, Initializer? biasInit = null,
        DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("Linear", nameof(inFeatures), inFeatures);
        LayerChecks.Positive("Linear", nameof(outFeatures), outFeatures);
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        Kernel = new Param((kernelInit ?? Init.LecunNormal())(rngs.Params(), [inFeatures, outFeatures], paramDType));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [outFeatures], paramDType));
    }

    /// <summary>The size of the input's last axis.</summary>
    public int InFeatures { get; }

    /// <summary>The size of the output's last axis.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight matrix W, [in, out] (Flax's layout; PyTorch's <c>weight</c> is its transpose).</summary>
    public Param Kernel { get; }

    /// <summary>The bias b, [out], or null without one.</summary>
    public Param? Bias { get; }

    /// <summary>x·W + b for x of shape [..., in]; the result is [..., out] (a 2-D product and bias, which the jit fuses into one Gemm).</summary>
    public Tensor Call(Tensor x)
    {
        LayerChecks.Float("Linear", x, 1);
        LayerChecks.Features("Linear", x, -1, InFeatures);
        LayerChecks.Variable("Linear", Kernel, "kernel", InFeatures, OutFeatures);
        LayerChecks.Variable("Linear", Bias, "bias", OutFeatures);
        var y = x.Reshape(-1, InFeatures).MatMul(Kernel);
        if (Bias is not null) y += Bias;
        return y.Reshape([.. x.Shape.Take(x.Rank - 1), OutFeatures]);
    }
}
