using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;
using static NnxSharp.Tests.Numeric;

namespace NnxSharp.Tests;

/// <summary>Gradients at the awkward points, higher-order gradients, and gradients inside a trace.</summary>
[TestClass]
public sealed class GradientSemanticsTests
{
    private static Tensor V(params double[] xs) => Tensor.FromArray(xs, xs.Length);

    private static double[] Grad(Func<Tensor, Tensor> f, params double[] x) => Autodiff.Grad(f)(V(x)).ToArray<double>();

    [TestMethod]
    public void ReluHasGradientZeroAtZero() =>
        Grad(a => a.Relu().Sum(), -1, 0, 2).Should().Equal(0, 0, 1);

    [TestMethod]
    public void MaxAndMinTiesSplitTheGradientEqually()
    {
        Grad(a => a.Maximum(V(0, 2, 5)).Sum(), 1, 2, 3).Should().Equal(1, 0.5, 0);
        Grad(a => a.Minimum(V(0, 2, 5)).Sum(), 1, 2, 3).Should().Equal(0, 0.5, 1);
        Grad(a => a.Maximum(a).Sum(), 1, 2).Should().Equal(1, 1);
        Grad(a => a.Max(), 1, 3, 3).Should().Equal(0, 0.5, 0.5);
        Grad(a => a.Min(), 2, 2, 2, 5).Should().Equal(1 / 3.0, 1 / 3.0, 1 / 3.0, 0);
        var m = Tensor.FromArray([1.0, 4, 4, 2, 2, 0], 2, 3);
        Autodiff.Grad(a => (a.Max(axis: 1, keepDims: true) * V(1, 10).Reshape(2, 1)).Sum())(m).ToArray<double>()
            .Should().Equal(0, 0.5, 0.5, 5, 5, 0);
    }

    [TestMethod]
    public void WhereRoutesTheGradientToTheChosenBranch()
    {
        Grad(a => Tensor.Where(a > 0.0, a * a, -a).Sum(), -2, 0, 3).Should().Equal(-1, -1, 6);
        // The safe-where idiom: the unchosen branch sees a harmless value, so no NaN leaks through at 0.
        Grad(a => Tensor.Where(a > 0.0, Tensor.Where(a > 0.0, a, 1.0).Log(), 0.0).Sum(), 0, 2).Should().Equal(0, 0.5);
    }

    [TestMethod]
    public void DivisionNearZero()
    {
        Grad(a => (1.0 / a).Sum(), 1e-3, -1e-4).Should().Equal(-1e6, -1e8);
        CheckGrad(a => (a[0] / a[1]).Sum(), [V(1.5, -0.7), V(1e-3, -2e-3)], eps: 1e-8, tol: 1e-6);
    }

    [TestMethod]
    public void PowAtZeroIsNotNaN()
    {
        Grad(a => a.Pow(2).Sum(), 0, 3).Should().Equal(0, 6);
        var (ga, gb) = Autodiff.Grad((a, b) => a.Pow(b).Sum())(V(0, 2), V(0, 3));
        ga.ToArray<double>().Should().Equal(0, 12);
        gb.ToArray<double>().Should().Equal(0, 8 * Math.Log(2));
    }

    [TestMethod]
    public void GatherWithRepeatedIndicesAddsUp()
    {
        var idx = Tensor.FromArray([0L, 0, 2, 0], 4);
        Grad(a => a.Gather(idx).Sum(), 1, 2, 3, 4).Should().Equal(3, 0, 1, 0);
        var rows = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 3, 2);
        Autodiff.Grad(a => (a.Gather(Tensor.FromArray([2L, 2])) * V(1, 10)).Sum())(rows).ToArray<double>()
            .Should().Equal(0, 0, 0, 0, 2, 20);
    }

    [TestMethod]
    public void ReductionsWithKeepDimsAndMean()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        Autodiff.Grad(a => (a.Mean(axis: 1, keepDims: true) * V(1, 2).Reshape(2, 1)).Sum())(x).ToArray<double>()
            .Should().Equal(1 / 3.0, 1 / 3.0, 1 / 3.0, 2 / 3.0, 2 / 3.0, 2 / 3.0);
        Autodiff.Grad(a => a.Sum(axis: 0, keepDims: true).Square().Sum())(x).ToArray<double>().Should().Equal(10, 14, 18, 10, 14, 18);
    }

    [TestMethod]
    public void ShapeOperationsCarryTheGradientBack()
    {
        var x = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        var w = V(1, 10, 100, 1000, 10000, 100000).Reshape(3, 2);
        Autodiff.Grad(a => (a.Transpose() * w).Sum())(x).ToArray<double>().Should().Equal(1, 100, 10000, 10, 1000, 100000);
        Autodiff.Grad(a => (a.Reshape(3, 2) * w).Sum())(x).ToArray<double>().Should().Equal(1, 10, 100, 1000, 10000, 100000);
        Grad(a => a.BroadcastTo(4, 2).Sum(), 1, 2).Should().Equal(4, 4);
        Autodiff.Grad(a => a.Slice(1, 1, 3).Sum())(x).ToArray<double>().Should().Equal(0, 1, 1, 0, 1, 1);
        Grad(a => (Tensor.Concat(0, a, a * 2.0, a.Slice(0, 0, 1)) * V(1, 2, 3, 4, 5)).Sum(), 7, 8).Should().Equal(1 + 6 + 5, 2 + 8);
        Grad(a => (a * V(1, 2).Reshape(2, 1)).Sum(), 3, 4, 5).Should().Equal(3, 3, 3);
    }

    [TestMethod]
    public void SecondDerivativeOfAScalarFunctionMatchesFiniteDifferences()
    {
        static Tensor F(Tensor x) => (x * x * x * x.Tanh() + x.Exp() / (x * x + 1.0) + (x * 0.5).Sigmoid().Log()).Sum();
        var dF = Autodiff.Grad(F);
        foreach (var x0 in new[] { -1.3, -0.2, 0.4, 1.7 })
            CheckGrad(a => dF(a[0]), [Tensor.Scalar(x0, DType.Float64)], eps: 1e-5, tol: 1e-7);
        // d³/dx³ x³ = 6.
        var d3 = Autodiff.Grad(Autodiff.Grad(Autodiff.Grad(a => a * a * a)));
        d3(Tensor.Scalar(0.7, DType.Float64)).Item<double>().Should().BeApproximately(6, 1e-12);
    }

    [TestMethod]
    public void HessianVectorProductMatchesFiniteDifferences()
    {
        var w = Tensor.FromArray([0.3, -0.8, 1.1, 0.2, 0.5, -0.4], 3, 2);
        var v = V(0.7, -1.2, 0.4);
        Tensor F(Tensor x) => (x.MatMul(w).Tanh().Square().Sum() + x.Max() * x.Sum()).Log1pLike();
        var dF = Autodiff.Grad(F);
        CheckGrad(a => (dF(a[0]) * v).Sum(), [V(0.3, -0.5, 0.9)], eps: 1e-5, tol: 1e-7);
    }

    [TestMethod]
    public void NestedGradientsDoNotConfuseTheirPerturbations()
    {
        // d/dx [ d/dy (x·y) at y = x ] = d/dx x = 1, not 2.
        var g = Autodiff.Grad((Tensor x) => Autodiff.Grad((Tensor y) => x * y)(x))(Tensor.Scalar(3, DType.Float64));
        g.Item<double>().Should().Be(1);
    }

    [TestMethod]
    public void TheGradientOfATracedFunctionPrintsAsIr()
    {
        var graph = Graph.Trace(x => Autodiff.Grad(a => (a * a).Sum())(x), Aval.F32(3));
        graph.ToString().Should().Be(
            """
            { lambda a:f32[3]. let
                b:f32[3] = mul a a
                c:f32[] = reduce_sum[axes=(0) keep_dims=false] b
                d:f32[] = full[shape=[] dtype=f32 value=1]
                e:f32[1] = reshape[new_shape=[1]] d
                f:f32[3] = broadcast_to[target=[3]] e
                g:f32[3] = mul f a
                h:f32[3] = mul f a
                i:f32[3] = add g h
              in (i) }
            """.ReplaceLineEndings("\n"));
    }

    [TestMethod]
    public void CotangentsNobodyNeedsAreNotRecorded()
    {
        // c is a constant: the cotangent g·x it would get is never emitted, and x's is summed down once.
        var graph = Graph.Trace((x, c) => Autodiff.Grad((Tensor a) => (a * c).Sum())(x), Aval.F32(3), Aval.F32(2, 3));
        graph.ToString().Should().Be(
            """
            { lambda a:f32[3] b:f32[2,3]. let
                c:f32[2,3] = mul a b
                d:f32[] = reduce_sum[axes=(0,1) keep_dims=false] c
                e:f32[] = full[shape=[] dtype=f32 value=1]
                f:f32[1,1] = reshape[new_shape=[1,1]] e
                g:f32[2,3] = broadcast_to[target=[2,3]] f
                h:f32[2,3] = mul g b
                i:f32[1,3] = reduce_sum[axes=(0) keep_dims=true] h
                j:f32[3] = reshape[new_shape=[3]] i
              in (j) }
            """.ReplaceLineEndings("\n"));
    }

    [TestMethod]
    public void TracedGradientsEvaluateToTheEagerOnes()
    {
        var x = Tensor.FromArray([0.5, -1.5, 2.0, 0.25, 1.0, -0.75], 2, 3);
        var w = Tensor.FromArray([0.3, -0.8, 1.1, 0.2, 0.5, -0.4], 3, 2);
        var b = V(0.1, -0.1);
        Tensor Loss(Tensor w1, Tensor b1) => ((x.MatMul(w1) + b1).Relu() - 0.5).Square().Mean();

        var (loss, (gw, gb)) = Autodiff.ValueAndGrad(Loss)(w, b);
        var graph = Graph.Trace(a =>
        {
            var (l, (g1, g2)) = Autodiff.ValueAndGrad((Tensor w1, Tensor b1) => ((a[0].MatMul(w1) + b1).Relu() - 0.5).Square().Mean())(a[1], a[2]);
            return [l, g1, g2];
        }, x.Aval, w.Aval, b.Aval);
        var optimized = PassPipeline.Optimize(graph);
        optimized.Nodes.Length.Should().BeLessThan(graph.Nodes.Length);

        foreach (var g in new[] { graph, optimized })
        {
            var outs = ReferenceBackend.Evaluate(g, [x.ToHost(), w.ToHost(), b.ToHost()]);
            outs[0].ToArray<double>().Should().Equal(loss.ToArray<double>());
            outs[1].ToArray<double>().Should().Equal(gw.ToArray<double>());
            outs[2].ToArray<double>().Should().Equal(gb.ToArray<double>());
        }
    }

    [TestMethod]
    public void TracedSecondOrderGradientEvaluatesToTheEagerOne()
    {
        var d2 = Autodiff.Grad(Autodiff.Grad(a => (a * a * a.Sin2()).Sum() * 1.0));
        var graph = Graph.Trace(x => d2(x), Aval.F64());
        var x0 = Tensor.Scalar(0.6, DType.Float64);
        ReferenceBackend.Evaluate(graph, [x0.ToHost()])[0].ToArray<double>().Should().Equal(d2(x0).ToArray<double>());
    }

    [TestMethod]
    public void GradientInsideATraceWithRespectToAConcreteTensor()
    {
        var w = V(1, 2, 3);
        var graph = Graph.Trace(x => Autodiff.Grad(a => (a * x).Sum())(w), Aval.F64(3));
        ReferenceBackend.Evaluate(graph, [V(4, 5, 6).ToHost()])[0].ToArray<double>().Should().Equal(4, 5, 6);
    }
}

internal static class TestFunctions
{
    /// <summary>log(1 + x²): a smooth, positive-argument log for the tests.</summary>
    public static Tensor Log1pLike(this Tensor x) => (x * x + 1.0).Log();

    /// <summary>tanh(x)² + erf(x): another smooth scalar nonlinearity.</summary>
    public static Tensor Sin2(this Tensor x) => x.Tanh().Square() + x.Erf();
}
