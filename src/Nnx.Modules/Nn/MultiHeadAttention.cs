namespace NnxSharp;

/// <summary>
/// Multi-head dot-product attention (Flax's <c>nnx.MultiHeadAttention</c>): queries, keys and values are
/// projected into H heads of size d = qkvFeatures/H by <see cref="Query"/>, <see cref="Key"/> and
/// <see cref="Value"/> (kernels [in, H, d]), each head computes softmax(q·kᵀ/√d + mask)·v, and
/// <see cref="Out"/> (kernel [H, d, out]) projects the heads back. Dropout on the attention weights as Flax's
/// <c>dropout_rate</c> (default 0). No decoding cache.
/// </summary>
public sealed class MultiHeadAttention : Module, ILayer
{
    /// <summary>Creates the layer; the projections draw their keys in the order query, key, value, out.</summary>
    /// <param name="numHeads">The number of heads H.</param>
    /// <param name="inFeatures">The size of the queries' last axis.</param>
    /// <param name="rngs">The random streams.</param>
    /// <param name="qkvFeatures">The total size of the projected queries, keys and values (inFeatures when null); divisible by H.</param>
    /// <param name="outFeatures">The size of the output's last axis (inFeatures when null).</param>
    /// <param name="inKvFeatures">The size of the keys' and values' last axis (inFeatures when null).</param>
    /// <param name="causal">True: position i attends only to positions ≤ i (a lower-triangular mask, combined with any mask given to Call).</param>
    /// <param name="useBias">Whether the projections have biases.</param>
    /// <param name="kernelInit">The projections' kernel initializer; LeCun normal when null.</param>
    /// <param name="biasInit">The projections' bias initializer; zeros when null.</param>
    /// <param name="paramDType">The parameters' dtype.</param>
    /// <param name="dropoutRate">The rate of dropout on the attention weights in training (Flax's <c>dropout_rate</c>); the layer
    /// then keeps <paramref name="rngs"/> and draws a key from its <c>dropout</c> stream per call.</param>
    /// <param name="broadcastDropout">One dropout mask [Lq, Lk] shared by the batch and the heads (Flax's default), else one per weight.</param>
    /// <param name="deterministic">True: no dropout even in training mode.</param>
    public MultiHeadAttention(int numHeads, int inFeatures, Rngs rngs, int? qkvFeatures = null, int? outFeatures = null, int? inKvFeatures = null,
        bool causal = false, bool useBias = true, Initializer? kernelInit = null, Initializer? biasInit = null, DType paramDType = DType.Float32,
        double dropoutRate = 0, bool broadcastDropout = true, bool deterministic = false)
    {
        if (!(dropoutRate >= 0 && dropoutRate < 1))
            throw new ArgumentException($"MultiHeadAttention: dropout rate must be in [0, 1) but is {dropoutRate}.", nameof(dropoutRate));
        (DropoutRate, BroadcastDropout, Deterministic) = (dropoutRate, broadcastDropout, deterministic);
        if (dropoutRate > 0) Rngs = rngs;
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("MultiHeadAttention", nameof(numHeads), numHeads);
        LayerChecks.Positive("MultiHeadAttention", nameof(inFeatures), inFeatures);
        var qkv = qkvFeatures ?? inFeatures;
        if (qkv <= 0 || qkv % numHeads != 0)
            throw new ArgumentException($"MultiHeadAttention: qkv features ({qkv}) must be a positive multiple of the number of heads ({numHeads}).", nameof(qkvFeatures));
        (NumHeads, InFeatures, QkvFeatures, OutFeatures, InKvFeatures, HeadDim, Causal) =
            (numHeads, inFeatures, qkv, outFeatures ?? inFeatures, inKvFeatures ?? inFeatures, qkv / numHeads, causal);
        Query = new LinearGeneral([InFeatures], [NumHeads, HeadDim], rngs, useBias, kernelInit, biasInit, paramDType);
        Key = new LinearGeneral([InKvFeatures], [NumHeads, HeadDim], rngs, useBias, kernelInit, biasInit, paramDType);
        Value = new LinearGeneral([InKvFeatures], [NumHeads, HeadDim], rngs, useBias, kernelInit, biasInit, paramDType);
        Out = new LinearGeneral([NumHeads, HeadDim], [OutFeatures], rngs, useBias, kernelInit, biasInit, paramDType);
    }

    /// <summary>The number of heads.</summary>
    public int NumHeads { get; }

    /// <summary>The size of the queries' last axis.</summary>
    public int InFeatures { get; }

    /// <summary>The total projected size, NumHeads × HeadDim.</summary>
    public int QkvFeatures { get; }

    /// <summary>The size of the output's last axis.</summary>
    public int OutFeatures { get; }

    /// <summary>The size of the keys' and values' last axis.</summary>
    public int InKvFeatures { get; }

    /// <summary>The size of one head.</summary>
    public int HeadDim { get; }

    /// <summary>Whether a position attends only to itself and earlier positions.</summary>
    public bool Causal { get; }

    /// <summary>The rate of dropout on the attention weights.</summary>
    public double DropoutRate { get; }

    /// <summary>Whether one dropout mask is shared by the batch and the heads.</summary>
    public bool BroadcastDropout { get; }

    /// <summary>Whether dropout is off even in training mode.</summary>
    public bool Deterministic { get; }

    /// <summary>The random streams kept for dropout (when the rate is positive), or null.</summary>
    public Rngs? Rngs { get; }

    /// <summary>The query projection, kernel [in, H, d].</summary>
    public LinearGeneral Query { get; }

    /// <summary>The key projection, kernel [inKv, H, d].</summary>
    public LinearGeneral Key { get; }

    /// <summary>The value projection, kernel [inKv, H, d].</summary>
    public LinearGeneral Value { get; }

    /// <summary>The output projection, kernel [H, d, out].</summary>
    public LinearGeneral Out { get; }

    /// <summary>
    /// Attention of <paramref name="inputsQ"/> [batch..., Lq, in] over <paramref name="inputsK"/> and
    /// <paramref name="inputsV"/> [batch..., Lk, inKv] (self-attention when they are null: k = q, v = k).
    /// <paramref name="mask"/> is bool, broadcastable to [batch..., H, Lq, Lk], true where attention is allowed.
    /// The result is [batch..., Lq, out]. In training with a positive dropout rate the softmax weights are
    /// multiplied by keep/(1 − rate) with keep = bernoulli(key, 1 − rate) of shape [1…, Lq, Lk] (broadcast) or the
    /// weights' shape, the key drawn from the <c>dropout</c> stream of <paramref name="rngs"/> (else the layer's).
    /// </summary>
    public Tensor Call(Tensor inputsQ, Tensor? inputsK = null, Tensor? inputsV = null, Tensor? mask = null, Rngs? rngs = null)
    {
        const string layer = "MultiHeadAttention";
        LayerChecks.Float(layer, inputsQ, 2, "[batch..., length, features]");
        var k = inputsK ?? inputsQ;
        var v = inputsV ?? k;
        LayerChecks.Float(layer, k, 2, "[batch..., length, features]");
        LayerChecks.Float(layer, v, 2, "[batch..., length, features]");
        LayerChecks.Features(layer, inputsQ, -1, InFeatures);
        LayerChecks.Features(layer, k, -1, InKvFeatures);
        LayerChecks.Features(layer, v, -1, InKvFeatures);
        if (!k.Shape.Take(k.Rank - 1).SequenceEqual(v.Shape.Take(v.Rank - 1)))
            throw new ArgumentException($"{layer}: keys {k.Aval} and values {v.Aval} must agree on every axis but the last.", nameof(inputsV));
        if (mask is not null && mask.DType != DType.Bool)
            throw new ArgumentException($"{layer}: the mask must be bool (true = attend) but is {mask.Aval}.", nameof(mask));

        // [..., L, H, d] → [..., H, L, d]; the query is scaled by 1/√d first, as Flax's dot_product_attention.
        var q = Heads(Query.Call(inputsQ)) * (1 / Math.Sqrt(HeadDim));
        var logits = q.MatMul(Heads(Key.Call(k)).SwapLastAxes());
        var allowed = mask;
        if (Causal)
        {
            var causal = CausalMask(inputsQ.Shape[^2], k.Shape[^2]);
            allowed = allowed is null ? causal : allowed & causal;
        }
        if (allowed is not null)
            logits = Tensor.Where(allowed, logits, logits.DType == DType.Float64 ? double.MinValue : float.MinValue);
        var weights = Nn.Softmax(logits);
        if (DropoutRate > 0 && Training && !Deterministic)
        {
            var streams = rngs ?? Rngs ?? throw new InvalidOperationException($"{layer}: dropout needs random streams: pass rngs to Call.");
            var keepProb = 1 - DropoutRate;
            int[] shape = BroadcastDropout
                ? [.. Enumerable.Repeat(1, weights.Rank - 2), .. weights.Shape.Skip(weights.Rank - 2)]
                : weights.Shape.ToArray();
            var keep = Prng.Bernoulli(streams.Dropout(), keepProb, shape);
            weights *= keep.Cast(weights.DType) / keepProb;
        }
        var heads = weights.MatMul(Heads(Value.Call(v)));
        return Out.Call(Heads(heads));
    }

    /// <summary>Self-attention, <c>Call(x)</c>.</summary>
    public Tensor Call(Tensor x) => Call(x, null, null, null);

    /// <summary>A bool [Lq, Lk] mask, true where key position j ≤ query position i (as <c>nnx.make_causal_mask</c> for Lq = Lk).</summary>
    public static Tensor CausalMask(int queryLength, int keyLength) =>
        Tensor.Iota(DType.Int64, Shape.Of(queryLength, keyLength), 1) <= Tensor.Iota(DType.Int64, Shape.Of(queryLength, keyLength), 0);

    /// <summary>Swaps the length and head axes, [..., L, H, d] ↔ [..., H, L, d].</summary>
    private static Tensor Heads(Tensor t)
    {
        var perm = Enumerable.Range(0, t.Rank).ToArray();
        (perm[^3], perm[^2]) = (perm[^2], perm[^3]);
        return t.Transpose(perm);
    }
}
