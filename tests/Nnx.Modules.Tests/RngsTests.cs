using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

[TestClass]
public sealed class RngsTests
{
    private static uint[] Key(Tensor t) => t.ToArray<uint>();

    [TestMethod]
    public void DrawIIsTheKeyFoldedWithI()
    {
        var rngs = new Rngs(42);
        var first = rngs.Params();
        var second = rngs.Params();

        Key(first).Should().Equal(Key(Prng.FoldIn(Prng.Key(42), 0)));
        Key(second).Should().Equal(Key(Prng.FoldIn(Prng.Key(42), 1)));
        rngs["params"].Count.Value.Item<uint>().Should().Be(2);
        rngs["params"].Key.Value.ToArray<uint>().Should().Equal(Key(Prng.Key(42)), "the key stays; the counter moves");
    }

    [TestMethod]
    public void NamedStreamsAreApartAndOthersFallBackToDefault()
    {
        var rngs = new Rngs(("params", 0), ("dropout", 1));
        Key(rngs.Dropout()).Should().Equal(Key(Prng.FoldIn(Prng.Key(1), 0)));
        Key(rngs.Params()).Should().Equal(Key(Prng.FoldIn(Prng.Key(0), 0)));
        FluentActions.Invoking(() => rngs.Next("noise")).Should().Throw<KeyNotFoundException>().WithMessage("*no stream 'noise'*");

        var single = new Rngs(0);
        single["noise"].Should().BeSameAs(single["params"], "every name is served by the default stream");
        single.Names.Should().Equal("default");
    }

    [TestMethod]
    public void StreamsAreStateWithReadablePaths()
    {
        var rngs = new Rngs(("params", 0), ("dropout", 1));
        var (graphdef, state) = Nnx.Split(rngs);
        state.Paths.Should().Equal("dropout/key", "dropout/count", "params/key", "params/count");
        state.KindOf("params/key").Should().Be(typeof(RngKey));
        state.KindOf("params/count").Should().Be(typeof(RngCount));

        rngs.Params();
        Nnx.GraphDef(rngs).Should().Be(graphdef, "drawing changes values, not structure");
        var copy = Nnx.Merge<Rngs>(graphdef, Nnx.State(rngs));
        Key(copy.Params()).Should().Equal(Key(rngs.Params()), "a merged copy continues the stream");
        Nnx.State(rngs, Filter.Of<RngState>()).Count.Should().Be(4);
    }

    [TestMethod]
    public void ForkGivesIndependentStreams()
    {
        var rngs = new Rngs(3);
        var forked = rngs.Fork();
        Key(forked.Params()).Should().Equal(Key(Prng.FoldIn(Prng.FoldIn(Prng.Key(3), 0), 0)));
        rngs["default"].Count.Value.Item<uint>().Should().Be(1);
        forked.Should().NotBeSameAs(rngs);
    }
}
