using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

[TestClass]
public sealed class TreeTests
{
    private static Tensor V(params double[] xs) => Tensor.FromArray(xs, xs.Length);

    private enum Mode { Train, Eval }

    private sealed record Pair(Tensor A, Tensor? B, string Name) : ITreeNode
    {
        public (IReadOnlyList<object?> Children, object? Aux) TreeFlatten() => ([A, B], Name);

        public ITreeNode TreeUnflatten(object? aux, IReadOnlyList<object?> children) => new Pair((Tensor)children[0]!, (Tensor?)children[1], (string)aux!);
    }

    [TestMethod]
    public void FlattensInOrderAndRoundTrips()
    {
        var (a, b, c, d, e) = (V(1), V(2), V(3), V(4), V(5));
        var tree = (a, new[] { b, c }, new Dictionary<string, Tensor> { ["z"] = d, ["m"] = e }, (Tensor?)null, 3, Mode.Eval, "s");
        var leaves = new List<Tensor>();
        var def = Tree.Flatten(tree, leaves);

        leaves.Should().Equal(a, b, c, e, d);
        def.LeafCount.Should().Be(5);
        def.ToString().Should().Be("(*, [*, *], {'m': *, 'z': *}, null, 3, Eval, \"s\")");

        var back = Tree.Unflatten<(Tensor, Tensor[], Dictionary<string, Tensor>, Tensor?, int, Mode, string)>(def, leaves);
        back.Item1.Should().BeSameAs(a);
        back.Item2.Should().Equal(b, c);
        back.Item3.Should().BeEquivalentTo(new Dictionary<string, Tensor> { ["z"] = d, ["m"] = e });
        back.Item4.Should().BeNull();
        (back.Item5, back.Item6, back.Item7).Should().Be((3, Mode.Eval, "s"));
    }

    [TestMethod]
    public void ListsLongTuplesAndNodesRoundTrip()
    {
        var xs = Enumerable.Range(0, 9).Select(i => V(i)).ToArray();
        var tuple = (xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7], new List<Tensor> { xs[8] });
        var leaves = new List<Tensor>();
        var def = Tree.Flatten(tuple, leaves);
        leaves.Should().Equal(xs);
        var back = Tree.Unflatten<(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, List<Tensor>)>(def, leaves);
        back.Item8.Should().BeSameAs(xs[7]);
        back.Item9.Should().ContainSingle().Which.Should().BeSameAs(xs[8]);

        var node = new Pair(xs[0], null, "n");
        var nodeDef = Tree.Flatten(node, leaves = []);
        Tree.Unflatten<Pair>(nodeDef, leaves).Should().Be(node);
        IReadOnlyList<Tensor> readOnly = new List<Tensor> { xs[1] }.AsReadOnly();
        Tree.Map(readOnly, t => t * 2.0).Should().BeOfType<Tensor[]>().Which[0].Item<double>().Should().Be(2);
    }

    [TestMethod]
    public void DefsCompareByStructureAndStaticValues()
    {
        TreeDef Def(object? t) => Tree.Flatten(t, []);
        var (a, b) = (V(1), V(2, 3));

        Def((a, 3, "relu")).Should().Be(Def((b, 3, "relu")), "tensors are leaves, whatever their values or shapes");
        Def((a, 3, "relu")).GetHashCode().Should().Be(Def((b, 3, "relu")).GetHashCode());
        Def((a, 3, "relu")).Should().NotBe(Def((a, 4, "relu")));
        Def((a, 3)).Should().NotBe(Def((a, 3L)), "an int and a long are different statics");
        Def((a, 0.5)).Should().Be(Def((a, 0.5)));
        Def((a, Mode.Train)).Should().NotBe(Def((a, Mode.Eval)));
        Def(new[] { a, b }).Should().NotBe(Def(new List<Tensor> { a, b }));
        Def(new Dictionary<string, Tensor> { ["x"] = a, ["y"] = b }).Should().Be(Def(new Dictionary<string, Tensor> { ["y"] = b, ["x"] = a }));
        Def(new Dictionary<string, Tensor> { ["x"] = a }).Should().NotBe(Def(new Dictionary<string, Tensor> { ["w"] = a }));
        Def(new Pair(a, b, "p")).Should().Be(Def(new Pair(b, a, "p")));
        Def(new Pair(a, b, "p")).Should().NotBe(Def(new Pair(a, b, "q")));
        Def(new Pair(a, null, "p")).Should().NotBe(Def(new Pair(a, b, "p")));
        (Def((a, 1)) == Def((b, 1))).Should().BeTrue();
    }

    private sealed record Config(int Width, string Name) : IStaticValue;

    [TestMethod]
    public void StaticValuesAreKeptWholeAndCompareByValue()
    {
        var leaves = new List<Tensor>();
        var def = Tree.Flatten((V(1), new Config(3, "c")), leaves);
        leaves.Should().ContainSingle();
        def.Should().Be(Tree.Flatten((V(2), new Config(3, "c")), []));
        def.Should().NotBe(Tree.Flatten((V(1), new Config(4, "c")), []));
        Tree.Unflatten<(Tensor, Config)>(def, leaves).Item2.Should().Be(new Config(3, "c"));
    }

    [TestMethod]
    public void MapAppliesToEveryTensor()
    {
        var tree = (W: V(1, 2), Named: new Dictionary<string, Tensor> { ["b"] = V(3) }, Scale: 2);
        var doubled = Tree.Map(tree, t => t * 2.0);
        doubled.W.ToArray<double>().Should().Equal(2, 4);
        doubled.Named["b"].ToArray<double>().Should().Equal(6);
        doubled.Scale.Should().Be(2);
        Tree.Leaves(doubled).Should().HaveCount(2);
    }

    [TestMethod]
    public void UnsupportedTypesAreNamedWithTheirPath()
    {
        FluentActions.Invoking(() => Tree.Flatten((V(1), new Dictionary<string, object> { ["opt"] = new object() }), []))
            .Should().Throw<ArgumentException>().WithMessage("*Object at [1]['opt'] is not a tree node*");
        FluentActions.Invoking(() => Tree.Flatten(new Dictionary<int, Tensor>(), []))
            .Should().Throw<ArgumentException>().WithMessage("*Dictionary<Int32, Tensor> at the root*");
        FluentActions.Invoking(() => Tree.Unflatten(Tree.Flatten((V(1), V(2)), []), [V(1)]))
            .Should().Throw<ArgumentException>().WithMessage("*2 tensor leaves but 1*");
    }
}
