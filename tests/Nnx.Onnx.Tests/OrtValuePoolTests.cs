using System.Runtime.CompilerServices;
using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// Freed small CPU tensors are reused for the next buffer of their aval (<see cref="OrtValuePool"/>), within its
/// bounds, and reuse never shows through: values, jitted steps and their bound buffers stay right.
/// </summary>
[TestClass]
public sealed class OrtValuePoolTests
{
    private static OrtValue ValueOf(Tensor t) => ((OrtBuffer)t.DeviceBuffer).Value;

    [TestMethod]
    public void ADisposedTensorsValueIsReusedForTheNextOfItsAval()
    {
        var a = Tensor.FromArray([1f, 2f, 3f]);
        var value = ValueOf(a);
        a.Dispose();
        var b = Tensor.FromArray([4f, 5f, 6f]);
        ValueOf(b).Should().BeSameAs(value);
        b.ToArray<float>().Should().Equal(4f, 5f, 6f);
        var c = Tensor.FromArray([7f, 8f, 9f]);
        ValueOf(c).Should().NotBeSameAs(value, "a value serves one live buffer at a time");
        var d = Tensor.FromArray([1, 2, 3]);
        ValueOf(d).Should().NotBeSameAs(value, "another aval (int32) gets its own");
    }

    [TestMethod]
    public void ATensorNobodyDisposedIsRecycledWhenFinalized()
    {
        var pool = new OrtValuePool();
        var aval = Aval.F32(5);
        using (var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [5]))
        {
            pool.Give(aval, v).Should().BeTrue();
            pool.Take(aval).Should().BeSameAs(v);
            pool.Take(aval).Should().BeNull();
        }

        static OrtValue Drop() => ValueOf(Tensor.FromArray(new float[77]));
        OrtBackend.Cpu.ClearPool();
        var dropped = Drop();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var t = Tensor.FromArray(Enumerable.Range(0, 77).Select(i => (float)i).ToArray());
        ValueOf(t).Should().BeSameAs(dropped, "the finalizer gave the dropped tensor's value back");
        t.ToArray<float>().Should().Equal(Enumerable.Range(0, 77).Select(i => (float)i));
    }

    [TestMethod]
    public void LargeTensorsAreNotKeptAndTheBudgetBoundsWhatIs()
    {
        OrtValuePool.Fits(Aval.F32(4096)).Should().BeTrue();
        OrtValuePool.Fits(Aval.F32(4097)).Should().BeFalse();
        var big = Tensor.FromArray(new float[5000]);
        var value = ValueOf(big);
        big.Dispose();
        ValueOf(Tensor.FromArray(new float[5000])).Should().NotBeSameAs(value);

        var pool = new OrtValuePool();
        var aval = Aval.F32(4096);
        var values = new List<OrtValue>();
        var kept = 0;
        for (var i = 0; i < 600; i++)
        {
            var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [4096]);
            if (pool.Give(aval, v)) kept++;
            else values.Add(v);
        }
        pool.Bytes.Should().BeLessThanOrEqualTo(OrtValuePool.Budget);
        kept.Should().Be((int)(OrtValuePool.Budget / (4096 * 4 + 256)), "8 MiB holds 504 values of 16 KiB and their overhead");
        pool.Clear();
        pool.Bytes.Should().Be(0);
        foreach (var v in values) v.Dispose();
    }

    [TestMethod]
    public void ValuesOfAnAvalNoLongerAskedForMakeRoomForOnesInUse()
    {
        static OrtValue Create(long n) =>
            OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [n]);
        var pool = new OrtValuePool();
        var (stale, used) = (Aval.F32(4096), Aval.F32(1024)); // 16,640 and 4,352 bytes with the overhead: 504 of the first leave 2,048
        pool.Take(stale).Should().BeNull(); // asked for once, before the other
        var given = 0;
        for (var v = Create(4096); ; v = Create(4096), given++)
            if (!pool.Give(stale, v))
            {
                v.Dispose();
                break;
            }
        given.Should().Be(504, "the stale aval's values fill the budget first");

        pool.Take(used).Should().BeNull(); // asked for now
        var mine = Create(1024);
        pool.Give(used, mine).Should().BeTrue("a value of the aval in use pushes out one of the aval asked for before it");
        pool.Bytes.Should().BeLessThanOrEqualTo(OrtValuePool.Budget);
        pool.Take(used).Should().BeSameAs(mine);

        var late = Create(4096);
        pool.Give(used, mine).Should().BeTrue();
        pool.Give(stale, late).Should().BeFalse("the aval asked for less recently does not push out the one in use");
        pool.Take(used).Should().BeSameAs(mine, "it is still kept");
        late.Dispose();
        mine.Dispose();
        pool.Clear();
        pool.Bytes.Should().Be(0);
    }

    [TestMethod]
    public void EagerAddsKeepReusingValuesAfterALoopOfLargerResults()
    {
        OrtBackend.Cpu.ClearPool();
        DropMatMuls(600); // 600 values of 16 KiB come back to the pool at once: 504 of them fill its budget
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var x = Tensor.FromArray(Enumerable.Range(0, 1024).Select(i => (float)i).ToArray()); // does not fit in what the matmuls' values leave
        var first = x + x;
        var value = ValueOf(first);
        first.Dispose();
        ValueOf(x + x).Should().BeSameAs(value, "the add's value was kept although the matmuls' filled the budget before");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropMatMuls(int count)
    {
        var m = Tensor.FromArray(new float[64 * 64], 64, 64);
        var results = new List<Tensor>(count);
        for (var i = 0; i < count; i++) results.Add(m.MatMul(m)); // all alive at once, then dropped together
    }

    [TestMethod]
    public void AJittedStepStaysRightWhileEagerTensorsAroundItAreFreedAndReused()
    {
        var step = Jit.Pure((Tensor w, Tensor x) => w * 0.5 + x, donate: 0);
        var w = Tensor.FromArray([1f, 2f, 3f, 4f]);
        var expected = new[] { 1f, 2f, 3f, 4f };
        for (var i = 0; i < 50; i++)
        {
            var x = Tensor.FromArray([i, -i, 2f * i, 0.25f]);
            using var scratch = (x + x).Relu();   // eager tensors of the same aval, freed every iteration
            w = step(w, x);
            expected = [.. expected.Select((e, k) => e * 0.5f + new[] { i, -i, 2f * i, 0.25f }[k])];
            x.Dispose();
            w.ToArray<float>().Should().Equal(expected, $"step {i}");
        }
    }
}
