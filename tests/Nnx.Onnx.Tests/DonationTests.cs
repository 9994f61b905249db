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
        var live = SettledBuffers.Count();
        for (var i = 0; i < 3; i++) b = donating(b, x);
        OrtBackend.LiveBuffers.Should().Be(live);
        donating.TraceCount().Should().Be(1);
    }

    [TestMethod]
    public void EachOutputOfADonatedLoopGetsTheBufferItHadTwoCallsBefore()
    {
        // Four leaves of one aval (a layer's bias, scale and statistics): the buffers cycle in place, so the
        // executable's two IOBindings (one per parity of the call) find every state buffer already bound.
        var step = Jit.Pure((Tensor[] s, Tensor x) => new[] { s[0] + x, s[1] * 0.5, s[2] - x, s[3] * x }, 0);
        var state = Enumerable.Range(0, 4).Select(i => Tensor.Full(i + 1.0, DType.Float32, 3)).ToArray();
        var x = Tensor.Full(2.0, DType.Float32, 3);
        var history = new List<object[]>();
        for (var i = 0; i < 6; i++)
        {
            state = step(state, x);
            history.Add([.. state.Select(t => t.DeviceBuffer)]);
        }
        for (var call = 3; call < history.Count; call++)
            for (var leaf = 0; leaf < 4; leaf++)
                history[call][leaf].Should().BeSameAs(history[call - 2][leaf], "call {0}'s output {1}", call, leaf);
        state[0].ToArray<float>().Should().Equal(13f, 13f, 13f);
        state[3].ToArray<float>().Should().Equal(256f, 256f, 256f);
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
