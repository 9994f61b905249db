using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Dropout on MultiHeadAttention's weights, as Flax's dot_product_attention_weights.</summary>
[TestClass]
public sealed class AttentionDropoutTests
{
    [TestMethod]
    public void WithOneKeyTheWeightsAreTheMaskScaledByTheKeepProbability()
    {
        // One key position: softmax gives weight 1, so each query's output (zero biases) is keep[q]/(1 − rate)
        // times the undropped output, with keep = bernoulli(dropout key, 1 − rate, [1, 1, Lq, 1]).
        var rate = 0.4;
        var mha = new MultiHeadAttention(2, 4, new Rngs(7), dropoutRate: rate);
        var mirror = new Rngs(7);
        for (var i = 0; i < 8; i++) mirror.Params();                    // the four projections' kernels and biases
        var q = Prng.Normal(Prng.Key(1), [3, 6, 4]);
        var kv = Prng.Normal(Prng.Key(2), [3, 1, 4]);
        var dropped = mha.Call(q, kv).ToArray<float>();
        var keep = Prng.Bernoulli(mirror.Dropout(), 1 - rate, 1, 1, 6, 1).ToArray<bool>();
        mha.Eval();
        var plain = mha.Call(q, kv).ToArray<float>();
        for (var k = 0; k < plain.Length; k++)
        {
            var expected = keep[k / 4 % 6] ? plain[k] / (float)(1 - rate) : 0;
            dropped[k].Should().BeApproximately(expected, 1e-5f, "element {0}", k);
        }
        keep.Should().Contain(true).And.Contain(false);
    }

    [TestMethod]
    public void TheBroadcastMaskIsSharedByTheBatchAndEachCallDrawsANewOne()
    {
        var x = Prng.Normal(Prng.Key(3), [1, 5, 8]).BroadcastTo(4, 5, 8);
        var shared = new MultiHeadAttention(2, 8, new Rngs(1), dropoutRate: 0.5);
        var a = shared.Call(x).ToArray<float>();
        // Equal rows up to the last bit (the batched products may round differently per row).
        for (var b = 1; b < 4; b++)
            for (var k = 0; k < 40; k++) a[40 * b + k].Should().BeApproximately(a[k], 1e-6f);
        shared.Call(x).ToArray<float>().Should().NotEqual(a, "the dropout stream advanced");
        var own = new MultiHeadAttention(2, 8, new Rngs(1), dropoutRate: 0.5, broadcastDropout: false).Call(x).ToArray<float>();
        Enumerable.Range(0, 40).Max(k => Math.Abs(own[40 + k] - own[k])).Should().BeGreaterThan(1e-3f, "each row has its own mask");
    }

    [TestMethod]
    public void NoDropoutInEvalDeterministicOrAtRateZero()
    {
        var x = Prng.Normal(Prng.Key(4), [2, 5, 8]);
        var plain = new MultiHeadAttention(2, 8, new Rngs(1)).Call(x).ToArray<float>();
        new MultiHeadAttention(2, 8, new Rngs(1), dropoutRate: 0.3, deterministic: true).Call(x).ToArray<float>().Should().Equal(plain);
        var eval = new MultiHeadAttention(2, 8, new Rngs(1), dropoutRate: 0.3);
        eval.Eval();
        eval.Call(x).ToArray<float>().Should().Equal(plain);
        new MultiHeadAttention(2, 8, new Rngs(1)).Rngs.Should().BeNull("rate 0 keeps no streams, as Flax");
        FluentActions.Invoking(() => new MultiHeadAttention(2, 8, new Rngs(1), dropoutRate: 1)).Should().Throw<ArgumentException>().WithMessage("*dropout rate*[0, 1)*1*");
    }

    [TestMethod]
    public void AJittedStepAdvancesTheDropoutStream()
    {
        var mha = new MultiHeadAttention(2, 8, new Rngs(2), dropoutRate: 0.5);
        var step = Nnx.Jit((MultiHeadAttention m, Tensor x) => m.Call(x).Sum());
        var x = Prng.Normal(Prng.Key(5), [2, 4, 8]);
        var eager = new MultiHeadAttention(2, 8, new Rngs(2), dropoutRate: 0.5);
        var first = step(mha, x).Item<float>();
        first.Should().BeApproximately(eager.Call(x).Sum().Item<float>(), 1e-4f);
        step(mha, x).Item<float>().Should().BeApproximately(eager.Call(x).Sum().Item<float>(), 1e-4f);
    }
}
