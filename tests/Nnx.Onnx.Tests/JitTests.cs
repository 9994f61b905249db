using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

[TestClass]
public sealed class JitTests
{
    private static Tensor Rand(int seed, params int[] shape)
    {
        var r = new System.Random(seed);
        return Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray(), shape);
    }

    [TestMethod]
    public void SameShapesNeverRetraceNewOnesDo()
    {
        var f = Jit.Pure((Tensor x, Tensor y) => (x * y).Sum());
        f(Rand(0, 3), Rand(1, 3));
        f(Rand(2, 3), Rand(3, 3));
        f.TraceCount().Should().Be(1);
        f(Rand(2, 4), Rand(3, 4));
        f.TraceCount().Should().Be(2);
        f(Rand(2, 4).Cast(DType.Float64), Rand(3, 4).Cast(DType.Float64));
        f.TraceCount().Should().Be(3);
        f(Rand(2, 3), Rand(3, 3));
        f.TraceCount().Should().Be(3);
    }

    [TestMethod]
    public void StaticArgumentsAreCompiledInAndRetraceByValue()
    {
        var f = Jit.Pure((Tensor x, int power, bool negate) =>
        {
            var y = x;
            for (var i = 1; i < power; i++) y *= x;
            return negate ? -y : y;
        });
        var x = Tensor.FromArray([2f, 3f]);
        f(x, 3, false).ToArray<float>().Should().Equal(8f, 27f);
        f(x, 3, false).ToArray<float>().Should().Equal(8f, 27f);
        f.TraceCount().Should().Be(1);
        f(x, 2, true).ToArray<float>().Should().Equal(-4f, -9f);
        f.TraceCount().Should().Be(2);
    }

    [TestMethod]
    public void ContainersInAndOut()
    {
        var f = Jit.Pure((Dictionary<string, Tensor> p, (Tensor A, Tensor B) pair) =>
            (p["w"] * pair.A, new List<Tensor> { p["b"] + pair.B, pair.A }));
        var p = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray([2f]), ["b"] = Tensor.FromArray([1f]) };
        var (prod, list) = f(p, (Tensor.FromArray([3f]), Tensor.FromArray([4f])));
        prod.ToArray<float>().Should().Equal(6f);
        list.Select(t => t.ToArray<float>()[0]).Should().Equal(5f, 3f);
    }

    [TestMethod]
    public void JittedEqualsEager()
    {
        static Tensor Mlp(Tensor x, Tensor w, Tensor b) => ((x.MatMul(w) + b).Relu() - 0.5).Square().Mean(axis: 1);
        var (x, w, b) = (Rand(1, 8, 3), Rand(2, 3, 5), Rand(3, 5));
        var eager = Mlp(x, w, b).ToArray<float>();
        var jitted = Jit.Pure<Tensor, Tensor, Tensor, Tensor>(Mlp)(x, w, b).ToArray<float>();
        jitted.Should().Equal(eager, (a, e) => Math.Abs(a - e) <= 1e-6f * (1 + Math.Abs(e)));
    }

    [TestMethod]
    public void AWrongShapeRetracesAndABadOneThrowsClearly()
    {
        var f = Jit.Pure((Tensor x, Tensor w) => x.MatMul(w));
        f(Rand(0, 2, 3), Rand(1, 3, 4)).Shape.Should().Equal(2, 4);
        f(Rand(0, 5, 3), Rand(1, 3, 4)).Shape.Should().Equal(5, 4);
        var bad = () => f(Rand(0, 5, 2), Rand(1, 3, 4));
        bad.Should().Throw<ArgumentException>().WithMessage("*mat_mul*f32[5,2]*f32[3,4]*");
    }

    [TestMethod]
    public void LowerShowsTheOptimisedIrWithNodeCounts()
    {
        var f = Jit.Pure((Tensor x, Tensor w, Tensor b) => x.MatMul(w) + b);
        var text = f.Lower(Rand(0, 4, 3), Rand(1, 3, 2), Rand(2, 2));
        text.Should().StartWith("// nodes: traced 2, after passes 1, lowered 1");
        text.Should().Contain("gemm[trans_a=false trans_b=false]");
        f.CompileStats()!.OptimizedNodes.Should().Be(1);
        f.CompileStats()!.Total.Should().BePositive();
    }

    [TestMethod]
    public void ExportedFileRunsInAFreshSessionWithTheSameResult()
    {
        var f = Jit.Pure((Dictionary<string, Tensor> s, Tensor x) =>
        {
            var h = (x.MatMul(s["w"]) + s["b"]).Tanh();
            return (new Dictionary<string, Tensor> { ["w"] = s["w"] * 0.5, ["b"] = s["b"] }, h.Sum());
        });
        var s = new Dictionary<string, Tensor> { ["w"] = Rand(1, 3, 2), ["b"] = Rand(2, 2) };
        var x = Rand(3, 4, 3);
        var (newState, loss) = f(s, x);
        var path = Path.Combine(Path.GetTempPath(), $"nnx-export-{Guid.NewGuid():N}.onnx");
        try
        {
            f.Export(path, s, x);
            using var session = new InferenceSession(path);
            session.InputMetadata.Keys.Should().BeEquivalentTo("s/b", "s/w", "x");
            session.OutputMetadata.Keys.Should().BeEquivalentTo(["new/s/b", "new/s/w", "out1"], "the returned state feeds s on the next step");
            using var w = OrtValue.CreateTensorValueFromMemory(s["w"].ToArray<float>(), [3, 2]);
            using var b = OrtValue.CreateTensorValueFromMemory(s["b"].ToArray<float>(), [2]);
            using var xv = OrtValue.CreateTensorValueFromMemory(x.ToArray<float>(), [4, 3]);
            using var results = session.Run(new RunOptions(), ["s/b", "s/w", "x"], [b, w, xv], ["new/s/w", "out1"]);
            results[0].GetTensorDataAsSpan<float>().ToArray().Should().Equal(newState["w"].ToArray<float>());
            results[1].GetTensorDataAsSpan<float>()[0].Should().Be(loss.Item<float>());
            var (state, metadata) = SafeTensors.Load(Path.ChangeExtension(path, ".safetensors"));
            state.Select(t => t.Key).Should().BeEquivalentTo(["s/b", "s/w"], "the initial state is keyed by input name; x is data");
            state.Single(t => t.Key == "s/w").Value.Should().Be(s["w"].ToHost());
            metadata["nnx.step_graph"].Should().Be(Path.GetFileName(path));
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".safetensors"));
        }
    }

    [TestMethod]
    public void ManyCallsLeakNeitherManagedNorNativeMemory()
    {
        var step = Jit.Pure((Tensor w, Tensor x) => w - 0.01 * (x.MatMul(w) - 1.0).Mean(axis: 0));
        var w = Rand(0, 4, 4);
        var x = Rand(1, 8, 4);
        for (var i = 0; i < 200; i++) w = step(w, x);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        OrtBackend.Cpu.ClearPool();
        GC.Collect();
        var liveBefore = OrtBackend.LiveBuffers;
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 10_000; i++) w = step(w, x);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        OrtBackend.Cpu.ClearPool(); // the bounded cache of freed small tensors holds their wrappers: not a leak
        GC.Collect();
        (OrtBackend.LiveBuffers - liveBefore).Should().BeLessThanOrEqualTo(2);
        (GC.GetTotalMemory(forceFullCollection: true) - managedBefore).Should().BeLessThan(256 * 1024);
    }

    [TestMethod]
    public void UnchangedInputsComeBackAsTheCallersTensorsWithoutACopy()
    {
        var f = Jit.Pure((Dictionary<string, Tensor> s, Tensor x) =>
            (new Dictionary<string, Tensor> { ["kept"] = s["kept"], ["moved"] = s["moved"] + x }, x));
        var s = new Dictionary<string, Tensor> { ["kept"] = Rand(0, 3), ["moved"] = Rand(1, 3) };
        var x = Rand(2, 3);
        var (next, same) = f(s, x);
        next["kept"].Should().BeSameAs(s["kept"]);
        same.Should().BeSameAs(x);
        next["moved"].ToArray<float>().Should().Equal(s["moved"].ToArray<float>().Zip(x.ToArray<float>(), (a, b) => a + b));
        f.CompileStats()!.LoweredNodes.Should().Be(1, "only the sum is computed");

        var identity = Jit.Pure((Tensor a) => a);
        identity(x).Should().BeSameAs(x);
        identity.CompileStats()!.LoweredNodes.Should().Be(0, "nothing to run");
    }

    [TestMethod]
    public void IsSafeToCallFromSeveralThreads()
    {
        var f = Jit.Pure((Tensor x) => (x * 2.0).Sum());
        var results = new float[64];
        Parallel.For(0, results.Length, i => results[i] = f(Tensor.FromArray([i, 1f])).Item<float>());
        results.Should().Equal(Enumerable.Range(0, 64).Select(i => 2f * (i + 1)));
        f.TraceCount().Should().Be(1);
    }
}
