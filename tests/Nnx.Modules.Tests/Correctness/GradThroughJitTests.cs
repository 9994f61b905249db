using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Tests;

namespace UserCode.Tests;

/// <summary>A jitted call composes with gradients: grad(jit(f)) == grad(f), eagerly and traced (issue 12, wrong answer 1).</summary>
[TestClass]
public sealed class GradThroughJitTests
{
    private static Tensor F(Tensor t) => (t * t * t.Sin2()).Sum();

    [TestMethod]
    public void GradOfJitPureEqualsGradAndFiniteDifferences()
    {
        var w = Numeric.Random(new Random(1), [3]);
        var jitted = Jit.Pure((Tensor t) => F(t));
        var expected = Autodiff.Grad(F)(w).ToArray<double>();
        var got = Autodiff.Grad((Tensor t) => jitted(t))(w).ToArray<double>();
        got.Should().BeEquivalentTo(expected, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        got.Should().NotBeEquivalentTo(new double[3], "the issue's symptom was a silently zero gradient");
        Numeric.CheckGrad(a => jitted(a[0]), [w]);
        // The jitted function still compiles and runs its graph when no gradient is involved.
        jitted(w);
        jitted.TraceCount().Should().Be(1);
    }

    [TestMethod]
    public void TheIssuesExampleGivesTwoFourSix()
    {
        var f = Jit.Pure((Tensor t) => (t * t).Sum());
        var g = Autodiff.Grad((Tensor t) => f(t))(Tensor.FromArray([1f, 2f, 3f]));
        g.ToArray<float>().Should().Equal(2f, 4f, 6f);
    }

    [TestMethod]
    public void JitOfGradOfJitEqualsGrad()
    {
        var w = Numeric.Random(new Random(2), [4]);
        var inner = Jit.Pure((Tensor t) => F(t));
        var outer = Jit.Pure((Tensor t) => Autodiff.Grad((Tensor u) => inner(u))(t));
        var expected = Autodiff.Grad(F)(w).ToArray<double>();
        var got = outer(w).ToArray<double>();
        for (var i = 0; i < got.Length; i++) got[i].Should().BeApproximately(expected[i], 1e-12);
        // The second-order composition: grad(jit(grad(jit(f)))) against finite differences of jit(grad(jit(f))) summed.
        Numeric.CheckGrad(a => outer(a[0]).Sum(), [w], tol: 1e-5);
    }

    [TestMethod]
    public void GradInsideAJitOverAnEagerGradientTapeOfAnotherJit()
    {
        // A jitted call whose argument is not differentiated runs its graph even under a tape.
        var w = Numeric.Random(new Random(3), [3]);
        var c = Numeric.Random(new Random(4), [3]);
        var constant = Jit.Pure((Tensor t) => t * 2.0);
        var g = Autodiff.Grad((Tensor t) => (t * constant(c)).Sum())(w).ToArray<double>();
        var twice = c.ToArray<double>().Select(x => 2 * x).ToArray();
        for (var i = 0; i < 3; i++) g[i].Should().BeApproximately(twice[i], 1e-12);
        constant.TraceCount().Should().Be(1);
    }

    public sealed class Quad : Module
    {
        public readonly Param W;

        public Quad(Tensor w) => W = new Param(w);

        public Tensor Call(Tensor x) => (x * W.Value * W.Value).Sum() + (W.Value.Sin2() * x).Sum();
    }

    [TestMethod]
    public void ValueAndGradOverAFunctionCallingAnNnxJitStep()
    {
        var w = Numeric.Random(new Random(5), [3]);
        var x = Numeric.Random(new Random(6), [3]);
        var model = new Quad(w);
        var step = Nnx.Jit((Quad m, Tensor xs) => m.Call(xs));
        step(model, x);
        var (value, grads) = Nnx.ValueAndGrad<Quad>(m => step(m, x))(model);
        var (expectedValue, expectedGrads) = Nnx.ValueAndGrad<Quad>(m => m.Call(x))(model);
        value.Item<double>().Should().BeApproximately(expectedValue.Item<double>(), 1e-12);
        var got = grads["w"].ToArray<double>();
        var want = expectedGrads["w"].ToArray<double>();
        got.Should().NotBeEquivalentTo(new double[3]);
        for (var i = 0; i < 3; i++) got[i].Should().BeApproximately(want[i], 1e-12);
        // Finite differences of the jitted step with respect to the parameter.
        var fd = Numeric.FiniteDifferences(a => step(new Quad(a[0]), x), [w], 1e-6)[0];
        for (var i = 0; i < 3; i++) got[i].Should().BeApproximately(fd[i], 1e-6);
        // Traced: a Jit.Pure around the module gradient of a function calling the Nnx.Jit step.
        var traced = Jit.Pure((Tensor wv, Tensor xv) => Nnx.Grad<Quad>(m => step(m, xv))(new Quad(wv))["w"]);
        var t = traced(w, x).ToArray<double>();
        for (var i = 0; i < 3; i++) t[i].Should().BeApproximately(want[i], 1e-12);
    }
}

/// <summary>A smooth non-polynomial helper for the tests (sin² from the primitives: 1 − cos² is not available, so tanh²).</summary>
internal static class SmoothOps
{
    public static Tensor Sin2(this Tensor t) => t.Tanh().Square();
}
