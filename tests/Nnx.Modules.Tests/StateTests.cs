using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class StateTests
{
    [TestMethod]
    public void PrintsAReadableTree()
    {
        var state = Nnx.State(new Block(2, 3));
        state.ToString().ReplaceLineEndings("\n").Should().Be(
            """
            State(6 variables, 19 elements)
              linear/
                kernel: Param f32[2,3]
                bias: Param f32[3]
              bn/
                scale: Param f32[3]
                mean: BatchStat f32[3]
                var: BatchStat f32[3]
              calls: Count f32[]
            """);
    }

    [TestMethod]
    public void FlatAndNestedViews()
    {
        var state = Nnx.State(new Mlp(2, 3));
        state["layers/1/bn/mean"].Shape.Should().Equal(3);
        state.ToDictionary().Should().HaveCount(12).And.ContainKey("layers/0/calls");

        var nested = state.ToNested();
        var layers = (IReadOnlyDictionary<string, object>)nested["layers"];
        var bn = (IReadOnlyDictionary<string, object>)((IReadOnlyDictionary<string, object>)layers["1"])["bn"];
        ((StateEntry)bn["var"]).Kind.Should().Be(typeof(BatchStat));

        var sub = state.At("layers/0");
        sub.Paths.Should().Equal("linear/kernel", "linear/bias", "bn/scale", "bn/mean", "bn/var", "calls");
        sub.At("linear").Paths.Should().Equal("kernel", "bias");
        FluentActions.Invoking(() => state["nope"]).Should().Throw<KeyNotFoundException>().WithMessage("State has no path 'nope'*");
        FluentActions.Invoking(() => state.At("layers/7")).Should().Throw<KeyNotFoundException>();
    }

    [TestMethod]
    public void ArithmeticAndMerging()
    {
        var model = new Dense(2, 2);
        var parameters = Nnx.State(model, Filter.Of<Param>());
        var grads = parameters.Map(t => Tensor.OnesLike(t));

        var stepped = parameters - grads * 0.5;
        stepped["kernel"].ToArray<float>().Should().AllBeEquivalentTo(0f);
        stepped["bias"].ToArray<float>().Should().AllBeEquivalentTo(-0.5f);
        (parameters + grads)["bias"].ToArray<float>().Should().AllBeEquivalentTo(1f);
        parameters.Zip(grads, (p, g) => p - 0.1 * g)["bias"].ToArray<float>().Should().AllBeEquivalentTo(-0.1f);
        parameters.Map((path, t) => path == "bias" ? t + 2.0 : t)["bias"].ToArray<float>().Should().AllBeEquivalentTo(2f);

        var merged = NnxSharp.State.Merge(parameters.Filter(Filter.PathContains("kernel")), stepped);
        merged.Paths.Should().Equal("kernel", "bias");
        merged["kernel"].Should().BeSameAs(stepped["kernel"], "a later state wins");

        var reordered = NnxSharp.State.Of(grads.Reverse());
        FluentActions.Invoking(() => parameters.Zip(reordered.Filter(Filter.PathContains("bias")), (a, b) => a))
            .Should().Throw<ArgumentException>().WithMessage("*no 'kernel'*");
        (parameters - reordered)["kernel"].ToArray<float>().Should().AllBeEquivalentTo(-0.5f, "zipping goes by path, not by position");
        FluentActions.Invoking(() => NnxSharp.State.Of([new StateEntry("a", typeof(Param), Tensor.Ones(1)), new StateEntry("a", typeof(Param), Tensor.Ones(1))]))
            .Should().Throw<ArgumentException>().WithMessage("*'a' appears twice*");
    }

    [TestMethod]
    public void IsATreeNodeWhosePathsAreStatic()
    {
        var state = Nnx.State(new Dense(2, 3));
        var leaves = new List<Tensor>();
        var def = Tree.Flatten(state, leaves);
        leaves.Should().Equal(state.Values);
        var doubled = Tree.Unflatten<State>(def, leaves.Select(t => t * 2.0).ToList());
        doubled.Paths.Should().Equal(state.Paths);
        doubled["kernel"].ToArray<float>().Should().AllBeEquivalentTo(1f);
        def.Should().Be(Tree.Flatten(Nnx.State(new Dense(2, 3)), []));
        def.Should().NotBe(Tree.Flatten(Nnx.State(new Dense(2, 3, useBias: false)), []));
        Tree.Map(state, t => t + 1.0).Should().BeOfType<State>();
    }
}
