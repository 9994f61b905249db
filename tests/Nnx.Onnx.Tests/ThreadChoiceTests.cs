using System.Diagnostics;
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

    [TestMethod]
    public void SessionsOnEveryCoreShareOnePoolAndOtherCountsHaveTheirOwn()
    {
        if (Environment.ProcessorCount < 2) Assert.Inconclusive("one core: every session runs on the calling thread");
        OrtThreads.SharedThreads.Should().Be(Environment.ProcessorCount);
        var x = Prng.Uniform(Prng.Key(4), [512, 512]);
        var expected = x.MatMul(x).ToArray<float>();
        int AddedThreads(int sessions)
        {
            var before = Process.GetCurrentProcess().Threads.Count;
            var executables = Enumerable.Range(0, sessions)
                .Select(i => (OrtExecutable)OrtBackend.Cpu.Compile(Graph.Trace((a, b) => a.MatMul(b) + i, Aval.F32(512, 512), Aval.F32(512, 512))))
                .ToList();
            foreach (var (exe, i) in executables.Select((e, i) => (e, i)))
                new Tensor(exe.Run([x.DeviceBuffer, x.DeviceBuffer])[0]).ToArray<float>().Should().Equal(expected.Select(v => v + i));
            var added = Process.GetCurrentProcess().Threads.Count - before;
            GC.KeepAlive(executables);
            return added;
        }
        AddedThreads(8).Should().BeLessThan(4, "sessions on every core run on the process's one pool, which exists already");
        try
        {
            Device.Cpu.IntraOpThreads = Environment.ProcessorCount + 1;
            AddedThreads(2).Should().BeGreaterThanOrEqualTo(2 * Environment.ProcessorCount - 1, "another count gets a pool of its own per session");
        }
        finally
        {
            Device.Cpu.IntraOpThreads = null;
        }
    }
}
