using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>The intra-op threads a session gets: by graph size unless set on the device.</summary>
[TestClass]
public sealed class ThreadChoiceTests
{
    private static readonly Graph Small = Graph.Trace((a, b) => a.MatMul(b), Aval.F32(32, 32), Aval.F32(32, 32));

    // 2·512³ ≈ 268 MFLOP per run: far above the threshold.
    private static readonly Graph Large = Graph.Trace((a, b) => a.MatMul(b), Aval.F32(512, 512), Aval.F32(512, 512));

    [TestMethod]
    public void SmallGraphsGetOneThreadAndLargeOnesEveryCore()
    {
        OrtBackend.Cpu.IntraOpThreads.Should().BeNull("the default is the choice by graph size");
        GraphCost.Flops(Small).Should().BeLessThan(OrtBackend.ParallelFlops);
        GraphCost.Flops(Large).Should().BeGreaterThan(OrtBackend.ParallelFlops);
        OrtBackend.Cpu.ThreadsFor(Small).Should().Be(1);
        OrtBackend.Cpu.ThreadsFor(Large).Should().Be(Environment.ProcessorCount);
        ((OrtExecutable)OrtBackend.Cpu.Compile(Small)).Threads.Should().Be(1);
    }

    [TestMethod]
    public void ASetCountIsUsedForEveryGraphCompiledAfterwardsAndRunsTheSame()
    {
        var x = Prng.Uniform(Prng.Key(3), [32, 32]);
        var expected = x.MatMul(x).ToArray<float>();
        try
        {
            Device.Cpu.IntraOpThreads = 2;
            OrtBackend.Cpu.ThreadsFor(Small).Should().Be(2);
            var exe = (OrtExecutable)OrtBackend.Cpu.Compile(Small);
            exe.Threads.Should().Be(2);
            new Tensor(exe.Run([x.DeviceBuffer, x.DeviceBuffer])[0]).ToArray<float>().Should().Equal(expected);
        }
        finally
        {
            Device.Cpu.IntraOpThreads = null;
        }
        var act = () => Device.Cpu.IntraOpThreads = 0;
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*IntraOpThreads must be at least 1*");
    }
}
