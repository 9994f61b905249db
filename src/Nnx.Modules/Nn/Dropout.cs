namespace NnxSharp;

/// <summary>
/// Dropout (Flax's <c>nnx.Dropout</c>): while training, each element is kept with probability 1 − rate and
/// scaled by 1/(1 − rate), else set to 0, so the expectation is unchanged; the mask is
/// <c>Prng.Bernoulli(key, 1 − rate)</c> with a fresh key from the <c>dropout</c> stream at every call.
/// The identity in evaluation, when <see cref="Deterministic"/>, or at rate 0; zeros at rate 1.
/// </summary>
public sealed class Dropout : Module, ILayer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">The probability of dropping an element, in [0, 1].</param>
    /// <param name="rngs">The random streams the masks' keys come from (may be given at call time instead).</param>
    /// <param name="deterministic">True: never drop (the identity), whatever the training mode.</param>
    /// <param name="broadcastDims">Axes along which one mask value is shared (Flax's <c>broadcast_dims</c>).</param>
    /// <param name="rngCollection">The stream the keys are drawn from.</param>
    public Dropout(double rate, Rngs? rngs = null, bool deterministic = false, int[]? broadcastDims = null, string rngCollection = "dropout")
    {
        if (!(rate is >= 0 and <= 1)) throw new ArgumentException($"Dropout: rate must be in [0, 1] but is {rate}.", nameof(rate));
        ArgumentException.ThrowIfNullOrEmpty(rngCollection);
        (Rate, Rngs, Deterministic, RngCollection) = (rate, rngs, deterministic, rngCollection);
        BroadcastDims = broadcastDims is null ? [] : [.. broadcastDims];
    }

    /// <summary>The probability of dropping an element.</summary>
    public double Rate { get; }

    /// <summary>True when the layer never drops.</summary>
    public bool Deterministic { get; }

    /// <summary>Axes along which one mask value is shared.</summary>
    public int[] BroadcastDims { get; }

    /// <summary>The name of the stream the keys come from.</summary>
    public string RngCollection { get; }

    /// <summary>The random streams given at construction, or null.</summary>
    public Rngs? Rngs { get; }

    /// <summary>Applies dropout to <paramref name="x"/> with a key from <paramref name="rngs"/> (else the layer's own streams).</summary>
    public Tensor Call(Tensor x, Rngs? rngs)
    {
        LayerChecks.Float("Dropout", x, 0);
        if (Deterministic || !Training || Rate == 0) return x;
        if (Rate == 1) return Tensor.ZerosLike(x);
        var streams = rngs ?? Rngs ?? throw new InvalidOperationException(
            $"Dropout: in training mode with rate {Rate} the layer needs random streams: pass rngs to its constructor or to Call, or call Eval() / set deterministic.");
        var maskShape = x.Shape.ToArray();
        foreach (var d in BroadcastDims)
        {
            var a = d < 0 ? d + x.Rank : d;
            if (a < 0 || a >= x.Rank) throw new ArgumentException($"Dropout: broadcast axis {d} is out of range for an input {x.Aval}.", nameof(x));
            maskShape[a] = 1;
        }
        var keep = 1 - Rate;
        var mask = Prng.Bernoulli(streams.Next(RngCollection), keep, maskShape);
        return Tensor.Where(mask, x / keep, 0.0);
    }

    /// <summary>Applies dropout with the layer's own streams.</summary>
    public Tensor Call(Tensor x) => Call(x, null);
}
