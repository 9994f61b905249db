using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class GraphDefTests
{
    private static GraphDef Def(params object[] nodes) => Nnx.GraphDef(nodes);

    [TestMethod]
    public void EqualForModelsBuiltTheSameWay()
    {
        var (a, b) = (new Mlp(3, 4), new Mlp(3, 4));
        b.Layers[2].Linear.Kernel.Value = Tensor.Ones(4, 4);

        Def(a).Should().Be(Def(b), "values are not structure");
        Def(a).GetHashCode().Should().Be(Def(b).GetHashCode());
        (Def(a) == Def(b)).Should().BeTrue();
        Def(a, new Sgd(a, 0.1)).Should().Be(Def(b, new Sgd(b, 0.1)), "a re-created equal optimizer is the same structure");
        Def(new Statics(1)).Should().Be(Def(new Statics(1)), "arrays and lists of values compare by their elements");
    }

    [TestMethod]
    public void DifferentAfterAnyStructuralChange()
    {
        var reference = Def(new Mlp(3, 4));
        Mlp Fresh() => new(3, 4);

        var replaced = Fresh();
        replaced.Layers[0].Calls = new Count(Tensor.Scalar(0));
        Def(replaced).Should().Be(reference, "a variable replaced by an equal one is the same structure");

        var otherShape = Fresh();
        otherShape.Layers[0].Linear.Bias = new Param(Tensor.Zeros(5));
        Def(otherShape).Should().NotBe(reference, "a variable replaced by one of another shape");

        var otherKind = Fresh();
        otherKind.Layers[0].Linear.Bias = new FrozenParam(Tensor.Zeros(4));
        Def(otherKind).Should().NotBe(reference, "a variable replaced by one of another kind");

        var dropped = Fresh();
        dropped.Layers[0].Linear.Bias = null;
        Def(dropped).Should().NotBe(reference, "a variable removed");

        var shared = Fresh();
        shared.Layers[1].Calls = shared.Layers[0].Calls;
        Def(shared).Should().NotBe(reference, "the sharing pattern changed");

        var grown = Fresh();
        grown.Layers.Add(new Block(4, 4));
        Def(grown).Should().NotBe(reference, "a list grown");

        var rate = Fresh();
        rate.Layers[1].Rate = 0.5;
        Def(rate).Should().NotBe(reference, "a static attribute changed");

        var evaluated = Fresh();
        evaluated.Eval();
        Def(evaluated).Should().NotBe(reference, "train/eval switched");
        evaluated.Train();
        Def(evaluated).Should().Be(reference);

        var dtype = Fresh();
        dtype.Layers[0].Calls.Value = Tensor.Scalar(0, DType.Float64);
        Def(dtype).Should().NotBe(reference, "a dtype changed");

        Def(new Mlp(3, 4, "gelu")).Should().NotBe(reference, "a string attribute changed");
        Def(new Statics(1)).Should().NotBe(Def(new Statics(2)));
        var features = new Statics(1);
        features.Features[0] = 5;
        Def(features).Should().NotBe(Def(new Statics(1)), "an element of a static array changed");
    }

    [TestMethod]
    public void PrintsNodesSlotsAndVariables()
    {
        var text = Def(new Block(2, 3)).ToString();
        text.Should().StartWith("GraphDef(").And.Contain("#0 Block").And.Contain("linear → #1").And.Contain("rate = 0.1")
            .And.Contain("Param f32[2,3]  linear/kernel").And.Contain("training = true");
    }

    [TestMethod]
    public void IsAStaticLeafOfATree()
    {
        var (graphdef, state) = Nnx.Split(new Mlp(2, 3));
        var leaves = new List<Tensor>();
        var treedef = Tree.Flatten((graphdef, state), leaves);

        leaves.Should().HaveCount(state.Count, "the GraphDef holds no tensors; the State's tensors are the leaves");
        var (g2, s2) = Tree.Unflatten<(GraphDef, State)>(treedef, leaves);
        g2.Should().BeSameAs(graphdef);
        s2.Paths.Should().Equal(state.Paths);
        treedef.Should().Be(Tree.Flatten(Nnx.Split(new Mlp(2, 3)), []), "equal models flatten to equal tree defs");
        treedef.Should().NotBe(Tree.Flatten(Nnx.Split(new Mlp(1, 3)), []));
    }
}
