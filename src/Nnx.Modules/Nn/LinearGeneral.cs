namespace NnxSharp;

/// <summary>
/// A dense layer over several axes (Flax's <c>nnx.LinearGeneral</c> with the contracted axes last):
/// y[..., o₁…o_m] = Σ_{i₁…i_n} x[..., i₁…i_n]·W[i₁…i_n, o₁…o_m] + b[o₁…o_m]. The kernel is
/// [inFeatures..., outFeatures...], initialised as the matrix [∏in, ∏out] and reshaped (as Flax), so its fans
/// are ∏in and ∏out. <see cref="MultiHeadAttention"/> projects into and out of heads with it.
/// </summary>
public sealed class LinearGeneral : Module, ILayer
{
    /// <summary>Creates the layer, drawing the kernel's key and then the bias's key from <c>rngs.Params()</c>.</summary>
    /// <param name="inFeatures">The sizes of the input's last axes, which are contracted.</param>
    /// <param name="outFeatures">The sizes of the output's new last axes.</param>
    /// <param name="rngs">The random streams.</param>
    /// <param name="useBias">Whether to add a bias of shape outFeatures.</param>
    /// <param name="kernelInit">The kernel initializer (applied to the [∏in, ∏out] matrix); LeCun normal when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The parameters' dtype.</param>
    public LinearGeneral(int[] inFeatures, int[] outFeatures, Rngs rngs, bool useBias = true, Initializer? kernelInit = null, Initializer? biasInit = null,
        DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(inFeatures);
        ArgumentNullException.ThrowIfNull(outFeatures);
        ArgumentNullException.ThrowIfNull(rngs);
        if (inFeatures.Length == 0 || outFeatures.Length == 0 || inFeatures.Concat(outFeatures).Any(n => n <= 0))
            throw new ArgumentException($"LinearGeneral: in features [{string.Join(",", inFeatures)}] and out features [{string.Join(",", outFeatures)}] must be non-empty and positive.");
        (InFeatures, OutFeatures) = ([.. inFeatures], [.. outFeatures]);
        var (nIn, nOut) = (inFeatures.Aggregate(1, (a, b) => a * b), outFeatures.Aggregate(1, (a, b) => a * b));
        Kernel = new Param((kernelInit ?? Init.LecunNormal())(rngs.Params(), [nIn, nOut], paramDType).Reshape([.. inFeatures, .. outFeatures]));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [nOut], paramDType).Reshape(outFeatures));
    }

    /// <summary>The sizes of the contracted input axes.</summary>
    public int[] InFeatures { get; }

    /// <summary>The sizes of the output axes.</summary>
    public int[] OutFeatures { get; }

    /// <summary>The kernel, [inFeatures..., outFeatures...].</summary>
    public Param Kernel { get; }

    /// <summary>The bias, shaped outFeatures, or null.</summary>
    public Param? Bias { get; }

    /// <summary>x [..., inFeatures...] contracted with the kernel, plus the bias: [..., outFeatures...].</summary>
    public Tensor Call(Tensor x)
    {
        var n = InFeatures.Length;
        LayerChecks.Float("LinearGeneral", x, n);
        if (!x.Shape.Skip(x.Rank - n).SequenceEqual(InFeatures))
            throw new ArgumentException($"LinearGeneral: expected the input's last axes to be [{string.Join(",", InFeatures)}] but the input is {x.Aval}.", nameof(x));
        var (nIn, nOut) = (InFeatures.Aggregate(1, (a, b) => a * b), OutFeatures.Aggregate(1, (a, b) => a * b));
        var y = x.Reshape(-1, nIn).MatMul(Kernel.Value.Reshape(nIn, nOut));
        if (Bias is not null) y += Bias.Value.Reshape(nOut);
        return y.Reshape([.. x.Shape.Take(x.Rank - n), .. OutFeatures]);
    }
}
