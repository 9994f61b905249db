using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// What an eager reverse pass leaves behind on ONNX Runtime: its intermediates are freed when it ends (the gradients are
/// not), and a dense layer's two products read the transposed operand in place instead of copying it.
/// </summary>
[TestClass]
public sealed class EagerGradientTests
{
    private static Tensor Ramp(int rows, int columns, float scale) =>
        Tensor.FromArray(Enumerable.Range(0, rows * columns).Select(i => scale * ((i * 7 % 23) - 11)).ToArray(), rows, columns);

    [TestMethod]
    public void TheReversePassFreesItsIntermediatesAndKeepsTheGradients()
    {
        var x = Ramp(8, 16, 0.1f);
        Autodiff.ValueAndGrad((Tensor a) => (a * a).Relu().Sum())(x); // every executable compiled
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // No collection in between: what is alive after the call is what it made and did not free.
        GC.TryStartNoGCRegion(16 << 20).Should().BeTrue();
        long before, after;
        Tensor value, grad;
        try
        {
            before = OrtBuffer.Live;
            (value, grad) = Autodiff.ValueAndGrad((Tensor a) => (a * a).Relu().Sum())(x);
            after = OrtBuffer.Live;
        }
        finally
        {
            GC.EndNoGCRegion();
        }
        // The forward made a * a, its relu and the sum; the pass made the seed's ones and the gradient. Before, it also
        // left the sum's broadcast cotangent, relu's mask product and the two halves of a · a's rule alive.
        (after - before).Should().BeLessThanOrEqualTo(5, "the reverse pass's own intermediates are freed as it ends");
        var xs = x.ToArray<float>();
        grad.ToArray<float>().Should().Equal(xs.Select(v => v * v > 0 ? 2 * v : 0f), "the gradient stays valid");
        value.Item<float>().Should().BeApproximately(xs.Sum(v => v * v), 1e-3f);
    }

    [TestMethod]
    public void AJittedRulesIntermediateResultIsFreedToo()
    {
        // relu(relu(a)): the outer relu's rule (one jitted call for float32) makes an intermediate cotangent, which a
        // jitted call returns rather than Tensor.Apply.
        var x = Ramp(8, 17, 0.1f);
        Autodiff.Grad((Tensor a) => a.Relu().Relu().Sum())(x); // compiled
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.TryStartNoGCRegion(16 << 20).Should().BeTrue();
        long made;
        Tensor grad;
        try
        {
            var before = OrtBuffer.Live;
            grad = Autodiff.Grad((Tensor a) => a.Relu().Relu().Sum())(x);
            made = OrtBuffer.Live - before;
        }
        finally
        {
            GC.EndNoGCRegion();
        }
        made.Should().BeLessThanOrEqualTo(4, "the forward's two relus and sum, and the gradient: the outer rule's result is freed");
        grad.ToArray<float>().Should().Equal(x.ToArray<float>().Select(v => v > 0 ? 1f : 0f));
    }

    [TestMethod]
    public void AnEnclosingTapeKeepsTheInnerPassIntermediatesForItsOwnPass()
    {
        // d/dw of Σ ∂/∂x Σ (x·w)²: the inner pass runs under the outer tape, which reads its intermediates later.
        // With u = xᵀ·1 and e = 1: Σ ∂/∂x = 2 (wᵀu)·(wᵀe), whose gradient is 2 (u·(eᵀw) + e·(uᵀw)).
        var (x, w) = (Ramp(32, 128, 0.01f), Ramp(128, 256, 0.02f));
        var outer = Autodiff.Grad((Tensor wt) => Autodiff.Grad((Tensor xt) => xt.MatMul(wt).Square().Sum())(x).Sum())(w);
        var (xs, ws) = (x.ToArray<float>(), w.ToArray<float>());
        var u = Enumerable.Range(0, 128).Select(k => Enumerable.Range(0, 32).Sum(i => (double)xs[i * 128 + k])).ToArray();
        var ew = Enumerable.Range(0, 256).Select(j => Enumerable.Range(0, 128).Sum(k => (double)ws[k * 256 + j])).ToArray();
        var uw = Enumerable.Range(0, 256).Select(j => Enumerable.Range(0, 128).Sum(k => u[k] * ws[k * 256 + j])).ToArray();
        var got = outer.ToArray<float>();
        for (var k = 0; k < 128; k++)
            for (var j = 0; j < 256; j++)
            {
                var expected = 2 * (u[k] * ew[j] + uw[j]);
                got[k * 256 + j].Should().BeApproximately((float)expected, 1e-3f * (1 + (float)Math.Abs(expected)), "[{0}, {1}]", k, j);
            }
    }

    [TestMethod]
    public void ADenseLayersProductsReadTheTransposedOperandsInPlace()
    {
        // W is [256, 96] (24,576 elements), x is [64, 256] (16,384): both transposed operands are past the threshold. (The
        // shapes are this test's own: the cache is the process's.)
        var (x, w) = (Ramp(64, 256, 0.01f), Ramp(256, 96, 0.02f));
        var eager = Autodiff.ValueAndGrad((Tensor a, Tensor b) => a.MatMul(b).Relu().Sum())(x, w);
        Eager.IsCached<Transpose>(w.Aval).Should().BeFalse("g·Wᵀ reads W where it lies");
        Eager.IsCached<Transpose>(x.Aval).Should().BeFalse("xᵀ·g reads x where it lies");
        var jitted = Jit.Pure((Tensor a, Tensor b) => Autodiff.ValueAndGrad((Tensor p, Tensor q) => p.MatMul(q).Relu().Sum())(a, b))(x, w);
        eager.Grad.Item1.ToArray<float>().Should().Equal(jitted.Grad.Item1.ToArray<float>(), "the same kernel as the jitted step's, the same bits");
        eager.Grad.Item2.ToArray<float>().Should().Equal(jitted.Grad.Item2.ToArray<float>());
        // A small layer keeps the plain rule: its transposes cost less than a jitted call.
        var (xs, ws) = (Ramp(4, 9, 0.1f), Ramp(9, 8, 0.1f));
        Autodiff.Grad((Tensor b) => xs.MatMul(b).Sum())(ws);
        Eager.IsCached<Transpose>(xs.Aval).Should().BeTrue();
    }

    [TestMethod]
    public void AnEagerStopGradientIsACopyMadeWithoutASession()
    {
        var x = Ramp(7, 5, 0.3f);
        var y = x.StopGradient();
        y.ToArray<float>().Should().Equal(x.ToArray<float>());
        Eager.IsCached<StopGradient>(x.Aval).Should().BeFalse("a copy, not an Identity run by a session");
        y.Dispose();
        x.ToArray<float>().Should().HaveCount(35, "the operand keeps its own buffer");
        Autodiff.Grad((Tensor a) => (a * a.StopGradient()).Sum())(x).ToArray<float>().Should().Equal(x.ToArray<float>(), "d/da of a·sg(a) is sg(a)");
    }

    [TestMethod]
    public void AnEagerReluRuleMakesNoMaskAndGivesThePlainRulesBits()
    {
        // NaN, ±0 and ±∞ among the values: the mask is read off the output, y > 0.
        var x = Tensor.FromArray(Enumerable.Range(0, 6 * 11).Select(i => i % 11 == 3 ? float.NaN : i % 11 == 5 ? -0f : i % 11 == 7 ? float.PositiveInfinity
            : i % 11 == 8 ? float.NegativeInfinity : 0.25f * ((i * 7 % 13) - 6)).ToArray(), 6, 11);
        var g = Ramp(6, 11, 0.5f);
        var grad = Autodiff.Grad((Tensor a) => (a.Relu() * g).Sum())(x).ToArray<float>();
        Eager.IsCached<Greater>(x.Aval).Should().BeFalse("the comparison is inside the jitted rule's one pass");
        var y = x.Relu();
        var plain = Tensor.Where(y > 0.0, g, 0.0).ToArray<float>();
        for (var i = 0; i < plain.Length; i++)
            BitConverter.SingleToInt32Bits(grad[i]).Should().Be(BitConverter.SingleToInt32Bits(plain[i]), "element {0}", i);
    }
}
