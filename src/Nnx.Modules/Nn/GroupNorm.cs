namespace NnxSharp;

/// <summary>
/// Group normalisation (Flax's <c>nnx.GroupNorm</c>, Wu and He 2018) of channels-last input [batch, …, features]:
/// the features split into groups of equal size, and each example's group is normalised with the mean and
/// biased variance over its spatial positions and the group's features, then scaled and shifted per feature.
/// </summary>
public sealed class GroupNorm : Module, ILayer
{
    /// <summary>Creates the layer; scale and bias each draw a key from <c>rngs.Params()</c>, as Flax does.</summary>
    /// <param name="numFeatures">The size of the last (feature) axis.</param>
    /// <param name="rngs">The random streams (keys for the scale and bias initializers).</param>
    /// <param name="numGroups">The number of groups (Flax's default 32); null when <paramref name="groupSize"/> is given.</param>
    /// <param name="groupSize">Features per group, instead of <paramref name="numGroups"/>.</param>
    /// <param name="epsilon">Added to the variance before the square root (Flax's default 1e-6; PyTorch's is 1e-5).</param>
    /// <param name="useBias">Whether to add a learned bias (zeros).</param>
    /// <param name="useScale">Whether to multiply by a learned scale (ones).</param>
    /// <param name="scaleInit">The scale initializer; ones when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The dtype of scale and bias.</param>
    public GroupNorm(int numFeatures, Rngs rngs, int? numGroups = 32, int? groupSize = null, double epsilon = 1e-6, bool useBias = true, bool useScale = true,
        Initializer? scaleInit = null, Initializer? biasInit = null, DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("GroupNorm", nameof(numFeatures), numFeatures);
        if (groupSize is not null) numGroups = null;
        if (numGroups is null == groupSize is null)
            throw new ArgumentException("GroupNorm: give exactly one of numGroups and groupSize.", nameof(numGroups));
        var groups = numGroups ?? (groupSize > 0 && numFeatures % groupSize!.Value == 0 ? numFeatures / groupSize.Value : -1);
        if (groups <= 0 || numFeatures % groups != 0)
            throw new ArgumentException($"GroupNorm: {numFeatures} features do not split into {(numGroups is null ? $"groups of {groupSize}" : $"{numGroups} groups")}.", nameof(numGroups));
        if (!(epsilon >= 0)) throw new ArgumentException($"GroupNorm: epsilon must be ≥ 0 but is {epsilon}.", nameof(epsilon));
        if (useScale) Scale = new Param((scaleInit ?? Init.Ones)(rngs.Params(), [numFeatures], paramDType));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [numFeatures], paramDType));
        (NumFeatures, NumGroups, Epsilon) = (numFeatures, groups, epsilon);
    }

    /// <summary>The learned scale (ones at first), or null.</summary>
    public Param? Scale { get; }

    /// <summary>The learned bias (zeros at first), or null.</summary>
    public Param? Bias { get; }

    /// <summary>The size of the feature axis.</summary>
    public int NumFeatures { get; }

    /// <summary>The number of groups.</summary>
    public int NumGroups { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Normalises <paramref name="x"/> [batch, spatial…, features] per example and group.</summary>
    public Tensor Call(Tensor x)
    {
        LayerChecks.Float("GroupNorm", x, 2, "[batch, …, features]");
        LayerChecks.Features("GroupNorm", x, -1, NumFeatures);
        var shape = x.Shape.ToArray();
        var grouped = x.Reshape([.. shape[..^1], NumGroups, NumFeatures / NumGroups]);
        int[] axes = [.. Enumerable.Range(1, grouped.Rank - 1).Where(a => a != grouped.Rank - 2)];
        var centred = grouped - grouped.Mean(axes, keepDims: true);
        var y = (centred * (centred.Square().Mean(axes, keepDims: true) + Epsilon).Rsqrt()).Reshape(shape);
        if (Scale is not null) y *= Scale;
        if (Bias is not null) y += Bias;
        return y;
    }
}
