using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// <see cref="OrtExecutable"/>'s direct C API run (<see cref="OrtNative"/>) against the managed session's Run: the
/// same bits for every dtype and for 0-d, empty and multi-output graphs, errors that still name the primitive,
/// and concurrent eager calls on one cached executable.
/// </summary>
[TestClass]
public sealed class OrtDirectRunTests
{
    private static readonly Random Rng = new(11);

    private static HostArray Random(DType t, Shape s) => new Cast(t).Eval(
        [HostArray.Create(Enumerable.Range(0, s.Size).Select(_ => t == DType.Bool ? Rng.Next(2) : Math.Round(-50 + 100 * Rng.NextDouble(), t.IsFloat() ? 3 : 0)).ToArray(), s)]);

    /// <summary>A graph of a few outputs (of different dtypes) over two operands of <paramref name="t"/>.</summary>
    private static Graph Outputs(DType t, Shape s)
    {
        var aval = new Aval(s, t);
        return t switch
        {
            DType.Bool => Graph.Trace(a => [a[0] & a[1], !a[0], a[0] | a[1]], aval, aval),
            DType.Float16 => Graph.Trace(a => [a[0].Cast(DType.Float32) + a[1].Cast(DType.Float32), a[1]], aval, aval),
            _ => Graph.Trace(a => [a[0] + a[1], a[0].Maximum(a[1]), a[0].Equal(a[1])], aval, aval),
        };
    }

    [TestMethod]
    public void TheDirectPathIsAvailableWithThePinnedPackage()
    {
        // If an ONNX Runtime upgrade drops the internals it reads, this fails rather than eager calls getting slower unnoticed.
        OrtNative.Available.Should().BeTrue();
        using var exe = (OrtExecutable)OrtBackend.Cpu.Compile(Outputs(DType.Float32, Shape.Of(3)));
        exe.HasDirectRun.Should().BeTrue();
    }

    [TestMethod]
    public void GivesTheSameBitsAsTheSessionRunForEveryDTypeAndShape()
    {
        DType[] dtypes = [DType.Float32, DType.Float64, DType.Float16, DType.Int32, DType.Int64, DType.UInt32, DType.UInt64, DType.Bool];
        Shape[] shapes = [Shape.Of(), Shape.Of(0), Shape.Of(1), Shape.Of(7), Shape.Of(2, 0, 3), Shape.Of(4, 5)];
        foreach (var t in dtypes)
            foreach (var s in shapes)
            {
                using var exe = (OrtExecutable)OrtBackend.Cpu.Compile(Outputs(t, s));
                exe.HasDirectRun.Should().BeTrue();
                var inputs = new[] { Random(t, s), Random(t, s) }.Select(OrtBackend.Cpu.Upload).ToArray();
                var direct = exe.Run(inputs, direct: true);
                var managed = exe.Run(inputs, direct: false);
                direct.Should().HaveCount(managed.Length);
                for (var i = 0; i < direct.Length; i++)
                {
                    direct[i].Aval.Should().Be(managed[i].Aval, $"output {i} of {t}{s}");
                    OrtBackend.Cpu.Download(direct[i]).ToBytes().Should().Equal(OrtBackend.Cpu.Download(managed[i]).ToBytes(), $"output {i} of {t}{s}");
                }
                foreach (var b in inputs.Concat(direct).Concat(managed)) b.Dispose();
            }
    }

    [TestMethod]
    public void AFailingRunNamesThePrimitiveAsTheSessionRunDoes()
    {
        // Gather's index is checked on concrete tensors before anything runs; the primitive itself leaves it to ONNX Runtime.
        var graph = Graph.Trace((x, i) => new Gather(0).Bind(x, i), Aval.F32(3, 2), Aval.Of(DType.Int64, 1));
        using var exe = (OrtExecutable)OrtBackend.Cpu.Compile(graph);
        using var x = OrtBackend.Cpu.Upload(Random(DType.Float32, Shape.Of(3, 2)));
        using var i = OrtBackend.Cpu.Upload(HostArray.Create([7L], Shape.Of(1)));

        var direct = FluentActions.Invoking(() => exe.Run([x, i], direct: true)).Should().Throw<BackendException>().Which;
        var managed = FluentActions.Invoking(() => exe.Run([x, i], direct: false)).Should().Throw<BackendException>().Which;
        direct.Message.Should().Contain("ONNX Runtime failed running primitive gather[axis=0] (f32[3,2], i64[1])").And.Contain("[ErrorCode:");
        direct.Message.Should().Be(managed.Message, "both paths report ONNX Runtime's message the same way");
    }

    [TestMethod]
    public void AFailedRunFreesTheOutputsItAllocated()
    {
        var graph = Graph.Trace((x, i) => new Gather(0).Bind(x, i), Aval.F32(3, 2), Aval.Of(DType.Int64, 1));
        using var exe = (OrtExecutable)OrtBackend.Cpu.Compile(graph);
        using var x = OrtBackend.Cpu.Upload(Random(DType.Float32, Shape.Of(3, 2)));
        using var i = OrtBackend.Cpu.Upload(HostArray.Create([-9L], Shape.Of(1)));
        var live = SettledBuffers.Count();
        for (var k = 0; k < 3; k++)
            FluentActions.Invoking(() => exe.Run([x, i], direct: true)).Should().Throw<BackendException>();
        OrtBackend.LiveBuffers.Should().Be(live);
    }

    [TestMethod]
    public void ConcurrentEagerCallsOnOneExecutableGiveEachThreadItsOwnResult()
    {
        var y = Tensor.FromArray(Enumerable.Range(0, 64).Select(k => (float)k).ToArray());
        (Tensor.FromArray(new float[64]) + y).Dispose(); // compiles the executable the threads share
        var cached = Eager.CacheCount;
        var failures = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var x = Tensor.FromArray(Enumerable.Repeat(1000f * t, 64).ToArray());
            for (var k = 0; k < 300; k++)
            {
                using var sum = x + y;
                using var scaled = sum * 2.0;
                var got = scaled.ToArray<float>();
                for (var j = 0; j < got.Length; j++)
                    if (got[j] != 2 * (1000f * t + j)) Interlocked.Increment(ref failures);
            }
        });
        failures.Should().Be(0);
        Eager.CacheCount.Should().BeLessThanOrEqualTo(cached + 1, "the threads share add's executable and compile mul by a scalar at most once");
    }

    [TestMethod]
    public void AScalarOperandIsUploadedOnceAndHasFullsBits()
    {
        var x = Tensor.FromArray([1.5f, -2f, 3.25f]);
        var viaFull = new Mul().Bind(x, Tensor.Full(0.1, DType.Float32)).ToArray<float>();
        (x * 0.1).ToArray<float>().Should().Equal(viaFull);
        var i = Tensor.FromArray([3, -4, 5]);
        (i * 2).ToArray<int>().Should().Equal(6, -8, 10);
        (2 - i).ToArray<int>().Should().Equal(-1, 6, -3);
        (i * 0.5).ToArray<float>().Should().Equal(1.5f, -2f, 2.5f);

        var live = SettledBuffers.Count();
        for (var k = 0; k < 10; k++) (x * 0.1).Dispose();
        OrtBackend.LiveBuffers.Should().Be(live, "the scalar is not uploaded again");
    }

    [TestMethod]
    public void AScalarOperandLivesOnItsTensorsBackend()
    {
        var other = OrtBackend.CpuWithCudaLowering;
        other.Should().NotBeSameAs(Backend.Default);
        var x = new Tensor(other.Upload(HostArray.Create([1f, 2f], Shape.Of(2))));
        var y = x * 3.0 + 1;
        y.DeviceBuffer.Backend.Should().BeSameAs(other);
        y.ToArray<float>().Should().Equal(4f, 7f);
    }

    [TestMethod]
    public void AnEagerReshapeCopiesWithoutASessionAndKeepsEveryDTypesBits()
    {
        foreach (var t in new[] { DType.Float32, DType.Float64, DType.Float16, DType.Int64, DType.UInt32, DType.Bool })
        {
            var data = Random(t, Shape.Of(2, 6));
            var x = Tensor.FromHost(data);
            var cached = Eager.CacheCount;
            var y = x.Reshape(3, 4);
            var v = x.Reshape(-1);
            Eager.CacheCount.Should().Be(cached, "no session is compiled for a reshape on the CPU");
            y.Aval.Should().Be(new Aval(Shape.Of(3, 4), t));
            y.ToHost().ToBytes().Should().Equal(data.ToBytes());
            (v.Shape == Shape.Of(12)).Should().BeTrue();
            v.ToHost().ToBytes().Should().Equal(data.ToBytes());
            new Reshape(Shape.Of(0)).Bind(Tensor.FromHost(Random(t, Shape.Of(0, 3)))).Size.Should().Be(0);
        }
        var m = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        m.MatMul(Tensor.FromArray([1f, -1f])).ToArray<float>().Should().Equal(-1f, -1f);
        FluentActions.Invoking(() => new Reshape(Shape.Of(5)).Bind(m)).Should().Throw<ArgumentException>().WithMessage("*cannot reshape f32[2,2]*");
    }
}
