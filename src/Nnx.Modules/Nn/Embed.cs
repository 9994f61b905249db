namespace NnxSharp;

/// <summary>
/// An embedding table (Flax's <c>nnx.Embed</c>): <see cref="Call"/> maps integer indices to rows of
/// <see cref="Embedding"/> [numEmbeddings, features], initialised with variance scaling (1, fan_in, normal,
/// out axis 0), i.e. N(0, 1/features).
/// </summary>
public sealed class Embed : Module, ILayer
{
    /// <summary>Creates the table, drawing its key from <c>rngs.Params()</c>.</summary>
    /// <param name="numEmbeddings">The number of rows (the vocabulary size).</param>
    /// <param name="features">The size of each row.</param>
    /// <param name="rngs">The random streams.</param>
    /// <param name="embeddingInit">The initializer; variance scaling (1, fan_in, normal, outAxis 0) when null, as Flax.</param>
    /// <param name="paramDType">The table's dtype.</param>
    public Embed(int numEmbeddings, int features, Rngs rngs, Initializer? embeddingInit = null, DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("Embed", nameof(numEmbeddings), numEmbeddings);
        LayerChecks.Positive("Embed", nameof(features), features);
        (NumEmbeddings, Features) = (numEmbeddings, features);
        var init = embeddingInit ?? Init.VarianceScaling(1, FanMode.FanIn, InitDistribution.Normal, outAxis: 0);
        Embedding = new Param(init(rngs.Params(), [numEmbeddings, features], paramDType));
    }

    /// <summary>The number of rows.</summary>
    public int NumEmbeddings { get; }

    /// <summary>The size of each row.</summary>
    public int Features { get; }

    /// <summary>The table, [numEmbeddings, features].</summary>
    public Param Embedding { get; }

    /// <summary>The rows at <paramref name="indices"/> (int32 or int64, any shape): the result is [indices..., features].</summary>
    public Tensor Call(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.DType is not (DType.Int32 or DType.Int64))
            throw new ArgumentException($"Embed: expected int32 or int64 indices but got {indices.Aval}.", nameof(indices));
        return Embedding.Value.Gather($"Embed({NumEmbeddings}, {Features})", indices, 0);
    }

    /// <summary>The dot product of <paramref name="query"/> [..., features] with every row: [..., numEmbeddings] (tied output weights).</summary>
    public Tensor Attend(Tensor query)
    {
        LayerChecks.Float("Embed.Attend", query, 1);
        LayerChecks.Features("Embed.Attend", query, -1, Features);
        return query.MatMul(Embedding.Value.SwapLastAxes());
    }
}
