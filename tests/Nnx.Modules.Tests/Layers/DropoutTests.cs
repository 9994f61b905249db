using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

[TestClass]
public sealed class DropoutTests
{
    private static readonly Tensor X = Tensor.Full(2, DType.Float32, 100, 200);

    [TestMethod]
    public void TrainingDropsAboutRateAndScalesTheRest()
    {
        var dropout = new Dropout(0.3, new Rngs(0));
        var y = dropout.Call(X).ToArray<float>();
        var kept = y.Count(v => v != 0);
        ((double)kept / y.Length).Should().BeApproximately(0.7, 0.01, "20 000 elements: the standard error of the kept fraction is 0.003");
        y.Where(v => v != 0).Should().AllSatisfy(v => v.Should().BeApproximately(2 / 0.7f, 1e-6f));
    }

    [TestMethod]
    public void TheMaskIsBernoulliOfAKeyFromTheDropoutStreamAndTheStreamAdvances()
    {
        var rngs = new Rngs(("params", 0), ("dropout", 42));
        var dropout = new Dropout(0.5, rngs);
        var first = dropout.Call(X).ToArray<float>();
        rngs["dropout"].Count.Value.Item<uint>().Should().Be(1);
        rngs["params"].Count.Value.Item<uint>().Should().Be(0);
        var expected = Prng.Bernoulli(Prng.FoldIn(Prng.Key(42), 0), 0.5, 100, 200).ToArray<bool>();
        first.Select(v => v != 0).Should().Equal(expected);
        var second = dropout.Call(X).ToArray<float>();
        second.Should().NotEqual(first, "the next call draws the next key");
        new Dropout(0.5, new Rngs(("dropout", 42))).Call(X).ToArray<float>().Should().Equal(first, "the same seed gives the same mask");
    }

    [TestMethod]
    public void IdentityInEvaluationWhenDeterministicOrAtRateZero()
    {
        var rngs = new Rngs(0);
        var dropout = new Dropout(0.5, rngs);
        dropout.Eval();
        dropout.Call(X).Should().BeSameAs(X);
        new Dropout(0.5, rngs, deterministic: true).Call(X).Should().BeSameAs(X);
        new Dropout(0, rngs).Call(X).Should().BeSameAs(X);
        rngs["dropout"].Count.Value.Item<uint>().Should().Be(0, "no key is drawn when nothing is dropped");
        new Dropout(1, rngs).Call(X).ToArray<float>().Should().AllBeEquivalentTo(0f, "rate 1 drops everything");
    }

    [TestMethod]
    public void BroadcastDimsShareTheMaskAlongAnAxis()
    {
        var y = new Dropout(0.5, new Rngs(1), broadcastDims: [0]).Call(X).ToArray<float>();
        for (var i = 1; i < 100; i++)
            y.Skip(i * 200).Take(200).Should().Equal(y.Take(200), "row {0} has the mask of row 0", i);
    }

    [TestMethod]
    public void StreamsMayComeAtCallTimeAndTrainingWithoutThemIsAClearError()
    {
        var dropout = new Dropout(0.5);
        var act = () => dropout.Call(X);
        act.Should().Throw<InvalidOperationException>().WithMessage("Dropout: in training mode with rate 0.5*rngs*");
        dropout.Call(X, new Rngs(("dropout", 42))).ToArray<float>().Should().Equal(new Dropout(0.5, new Rngs(("dropout", 42))).Call(X).ToArray<float>());
        var bad = () => new Dropout(1.5);
        bad.Should().Throw<ArgumentException>().WithMessage("Dropout: rate must be in [0, 1] but is 1.5*");
    }
}
