using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using Params = (NnxSharp.Tensor W, System.Collections.Generic.List<NnxSharp.Tensor> Layers,
    System.Collections.Generic.Dictionary<string, NnxSharp.Tensor> Named, string Act, double Scale);

namespace NnxSharp.Tests;

/// <summary>The public Grad/ValueAndGrad API: arities, argnums, trees, auxiliary outputs, and its errors.</summary>
[TestClass]
public sealed class AutodiffApiTests
{
    private static Tensor V(params double[] xs) => Tensor.FromArray(xs, xs.Length);

    [TestMethod]
    public void ValueAndGradOfTwoTensors()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4], 2, 2);
        var y = Tensor.FromArray([1.0, -1, 0.5, 0], 2, 2);
        Tensor Loss(Tensor w, Tensor b) => ((x.MatMul(w) + b).Relu() - y).Square().Mean();
        var w0 = Tensor.FromArray([0.5, -1, 1, 0.25], 2, 2);
        var b0 = V(0.1, -0.2);

        var (loss, (gw, gb)) = Autodiff.ValueAndGrad(Loss)(w0, b0);

        loss.Item<double>().Should().BeApproximately(Loss(w0, b0).Item<double>(), 1e-15);
        gw.Aval.Should().Be(w0.Aval);
        gb.Aval.Should().Be(b0.Aval);
        Numeric.CheckGrad(a => Loss(a[0], a[1]), [w0, b0]);
        var (gw2, gb2) = Autodiff.Grad(Loss)(w0, b0);
        gw2.ToArray<double>().Should().Equal(gw.ToArray<double>());
        gb2.ToArray<double>().Should().Equal(gb.ToArray<double>());
    }

    [TestMethod]
    public void ArgnumDifferentiatesOneArgumentAndComputesNothingForTheOthers()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 3, 2);
        var w = Tensor.FromArray([0.5, -1, 1, 0.25], 2, 2);
        Tensor F(Tensor a, Tensor b) => a.MatMul(b).Tanh().Sum();

        var gw = Autodiff.Grad(F, argnum: 1)(x, w);
        gw.ToArray<double>().Should().Equal(Autodiff.Grad(F)(x, w).Item2.ToArray<double>());
        var (v, gx) = Autodiff.ValueAndGrad(F, argnum: 0)(x, w);
        v.Item<double>().Should().Be(F(x, w).Item<double>());
        gx.Aval.Should().Be(x.Aval);

        // Traced: the cotangent of x (g·wᵀ) is not even recorded; only xᵀ·g is.
        var graph = Graph.Trace((a, b) => Autodiff.Grad(F, argnum: 1)(a, b), x.Aval, w.Aval);
        graph.Nodes.Count(n => n.Op is Primitives.MatMul).Should().Be(2, "the forward product and xᵀ·g, but no g·wᵀ:\n{0}", graph);
    }

    [TestMethod]
    public void ThreeArgumentsAndArgnum()
    {
        Tensor F(Tensor a, Tensor b, Tensor c) => (a * b + c.Exp()).Sum();
        var (a, b, c) = (V(1, 2), V(3, 4), V(0, 1));
        var (v, (ga, gb, gc)) = Autodiff.ValueAndGrad(F)(a, b, c);
        v.Item<double>().Should().BeApproximately(11 + 1 + Math.E, 1e-12);
        ga.ToArray<double>().Should().Equal(3, 4);
        gb.ToArray<double>().Should().Equal(1, 2);
        gc.ToArray<double>().Should().Equal(1, Math.E);
        Autodiff.Grad(F, argnum: 2)(a, b, c).ToArray<double>().Should().Equal(1, Math.E);
        var (_, gb2) = Autodiff.ValueAndGrad(F, argnum: 1)(a, b, c);
        gb2.ToArray<double>().Should().Equal(1, 2);
        Autodiff.Grad(F)(a, b, c).Item1.ToArray<double>().Should().Equal(3, 4);
        FluentActions.Invoking(() => Autodiff.Grad(F, argnum: 3)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*argnum*[0, 3)*");
    }

    [TestMethod]
    public void SameTensorPassedTwiceGetsOneGradientPerArgument()
    {
        var x = V(2, 3);
        var (gx, gy) = Autodiff.Grad((a, b) => (a * b).Sum())(x, x);
        gx.ToArray<double>().Should().Equal(2, 3);
        gy.ToArray<double>().Should().Equal(2, 3);
    }

    [TestMethod]
    public void InputTheOutputDoesNotDependOnGetsZeros()
    {
        var (ga, gb) = Autodiff.Grad((a, b) => a.Sum())(V(1, 2), Tensor.FromArray([1.0, 2, 3, 4], 2, 2));
        ga.ToArray<double>().Should().Equal(1, 1);
        gb.Aval.Should().Be(Aval.F64(2, 2));
        gb.ToArray<double>().Should().Equal(0, 0, 0, 0);
        Autodiff.Grad(a => Tensor.Scalar(3, DType.Float64))(V(1, 2)).ToArray<double>().Should().Equal(0, 0);
        Autodiff.Grad(a => a)(Tensor.Scalar(3, DType.Float64)).Item<double>().Should().Be(1);
    }

    [TestMethod]
    public void GradientOfATupleListAndDictionaryTreeHasItsStructure()
    {
        var tree = (W: Tensor.FromArray([1.0, 2, 3, 4], 2, 2), Layers: new List<Tensor> { V(1, -1), V(0.5) },
            Named: new Dictionary<string, Tensor> { ["b"] = V(2), ["a"] = V(3) }, Act: "tanh", Scale: 2.0);

        var (value, g) = Autodiff.ValueAndGrad((Params p) =>
            p.W.Sum() * p.Scale + (p.Layers[0] * p.Layers[0]).Sum() + p.Layers[1].Sum() * p.Named["a"].Sum() - p.Named["b"].Sum())(tree);

        value.Item<double>().Should().Be(20 + 2 + 1.5 - 2);
        g.W.ToArray<double>().Should().Equal(2, 2, 2, 2);
        g.Layers.Should().BeOfType<List<Tensor>>();
        g.Layers[0].ToArray<double>().Should().Equal(2, -2);
        g.Layers[1].ToArray<double>().Should().Equal(3);
        g.Named.Keys.Should().BeEquivalentTo("a", "b");
        g.Named["a"].ToArray<double>().Should().Equal(0.5);
        g.Named["b"].ToArray<double>().Should().Equal(-1);
        g.Act.Should().Be("tanh");
        g.Scale.Should().Be(2.0);
    }

    [TestMethod]
    public void GradientOfATreeNodeType()
    {
        var p = new Linear(Tensor.FromArray([1.0, 2, 3, 4], 2, 2), V(1, 1), "relu");
        var g = Autodiff.Grad((Linear l) => (V(1, 2).MatMul(l.W) + l.B).Sum())(p);
        g.Activation.Should().Be("relu");
        g.W.ToArray<double>().Should().Equal(1, 1, 2, 2);
        g.B.ToArray<double>().Should().Equal(1, 1);
    }

    [TestMethod]
    public void AuxiliaryOutputIsReturnedAndNotDifferentiated()
    {
        var x = V(1, 2, 3);
        var (value, aux, grad) = Autodiff.ValueAndGrad((Tensor a) => ((a * a).Sum(), (Max: a.Max(), Count: 3)))(x);
        value.Item<double>().Should().Be(14);
        aux.Max.Item<double>().Should().Be(3);
        aux.Count.Should().Be(3);
        grad.ToArray<double>().Should().Equal(2, 4, 6);

        var (g2, aux2) = Autodiff.Grad(((Tensor A, Tensor B) t) => ((t.A * t.B).Sum(), "note"))((x, V(1, 1, 1)));
        aux2.Should().Be("note");
        g2.A.ToArray<double>().Should().Equal(1, 1, 1);
        g2.B.ToArray<double>().Should().Equal(1, 2, 3);
    }

    [TestMethod]
    public void NonScalarOutputIsAClearError() =>
        FluentActions.Invoking(() => Autodiff.Grad(a => a * 2.0)(V(1, 2)))
            .Should().Throw<ArgumentException>().WithMessage("*must return a float scalar*f64[2]*");

    [TestMethod]
    public void IntegerInputsAreAClearError()
    {
        FluentActions.Invoking(() => Autodiff.Grad((a, b) => a.Sum())(V(1), Tensor.FromArray([1L, 2])))
            .Should().Throw<ArgumentException>().WithMessage("*argument 1 is i64[2]*only float tensors*");
        FluentActions.Invoking(() => Autodiff.Grad((Dictionary<string, Tensor> d) => d["x"].Sum())(new() { ["x"] = V(1), ["n"] = Tensor.FromArray([1L, 2], 2) }))
            .Should().Throw<ArgumentException>().WithMessage("*leaf ['n'] is i64[2]*");
    }

    [TestMethod]
    public void AnExceptionInsideTheFunctionEndsTheTape()
    {
        FluentActions.Invoking(() => Autodiff.Grad(a => throw new InvalidOperationException("boom"))(V(1)))
            .Should().Throw<InvalidOperationException>().WithMessage("boom");
        GradTape.MayBeActive.Should().BeFalse();
    }

    /// <summary>A user tree node: two tensors and a static activation name.</summary>
    private sealed record Linear(Tensor W, Tensor B, string Activation) : ITreeNode
    {
        public (IReadOnlyList<object?> Children, object? Aux) TreeFlatten() => ([W, B], Activation);

        public ITreeNode TreeUnflatten(object? aux, IReadOnlyList<object?> children) =>
            new Linear((Tensor)children[0]!, (Tensor)children[1]!, (string)aux!);
    }
}
