using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>Jit.Pure with donated arguments: the same results, the old tensors invalid, no new buffers per call.</summary>
[TestClass]
public sealed class DonationTests
{
    private static (Tensor W, Tensor B) Step((Tensor W, Tensor B) s, Tensor x) => (s.W - 0.1 * x.Transpose().MatMul(x.MatMul(s.W)), s.B * 0.5 + x.Sum(0));

    [TestMethod]
    public void ADonatedStateLoopComputesTheSameAndAllocatesNoBuffersInSteadyState()
    {
        var x = Prng.Uniform(Prng.Key(1), [4, 3]);
        var plain = Jit.Pure<(Tensor W, Tensor B), Tensor, (Tensor W, Tensor B)>(Step);
        var donating = Jit.Pure<(Tensor W, Tensor B), Tensor, (Tensor W, Tensor B)>(Step, 0);
        var start = (Prng.Uniform(Prng.Key(2), [3, 3]), Tensor.Zeros(3));
        var a = plain(start, x);
        start.Item1.ToArray<float>().Should().HaveCount(9, "a jit without donation leaves its arguments valid");
        var b = donating(start, x);
        for (var i = 0; i < 6; i++)
        {
            var before = b;
            (a, b) = (plain(a, x), donating(b, x));
            var read = () => before.W.ToArray<float>();
            read.Should().Throw<InvalidOperationException>().WithMessage("*donated to the jitted function*");
        }
        b.W.ToArray<float>().Should().Equal(a.W.ToArray<float>());
        b.B.ToArray<float>().Should().Equal(a.B.ToArray<float>());
        // Three more steps of the donating loop only: its outputs reuse the buffers it was given.
        var live = OrtBackend.LiveBuffers;
        for (var i = 0; i < 3; i++) b = donating(b, x);
        OrtBackend.LiveBuffers.Should().Be(live);
        donating.TraceCount().Should().Be(1);
    }

    [TestMethod]
    public void ADonatedTensorReturnedAsItIsStaysValid()
    {
        var f = Jit.Pure((Tensor keep, Tensor x) => (keep, x * 2.0), 0, 1);
        var (keep, x) = (Tensor.Ones(2), Tensor.Ones(2));
        var (k2, y) = f(keep, x);
        k2.Should().BeSameAs(keep);
        keep.ToArray<float>().Should().Equal(1f, 1f);
        y.ToArray<float>().Should().Equal(2f, 2f);
        var read = () => x.ToArray<float>();
        read.Should().Throw<InvalidOperationException>().WithMessage("*donated*");
    }

    [TestMethod]
    public void ADonatedPositionOutsideTheArgumentsIsRejected()
    {
        var act = () => Jit.Pure((Tensor x) => x * 2.0, 1);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*donated argument 1 is not a position of its 1 argument(s)*");
    }
}
