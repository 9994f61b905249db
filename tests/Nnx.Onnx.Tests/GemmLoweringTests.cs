using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// A large weight update <c>w + α·xᵀg</c> (a Gemm whose C is a full matrix) lowers as one Gemm for one thread and for
/// exported files, and as a Gemm without C plus an Add for a session on several threads: ONNX Runtime's Gemm copies C
/// over its output on one thread, an Add runs on all of them. A float32 one goes to Nnx's own kernel in process on
/// AVX-512 CPUs (<see cref="NnxCpuOps.PackedGemm"/>), which splits the whole update over the threads; float64 ones stay
/// with ONNX Runtime everywhere, so the split is tested on them.
/// </summary>
[TestClass]
public sealed class GemmLoweringTests
{
    /// <summary>w [n, n] + α·xᵀ·g with x, g [32, n]: a weight's SGD update as the passes leave it.</summary>
    private static Graph Update(int n, DType t = DType.Float64)
    {
        var (x, g, w) = (new Value(new Aval(Shape.Of(32, n), t)), new Value(new Aval(Shape.Of(32, n), t)), new Value(new Aval(Shape.Of(n, n), t)));
        var node = Node.Create(new Gemm(true, false, -0.01, 1), [x, g, w]);
        return new Graph([x, g, w], [node], [node.Output]);
    }

    /// <summary>Uniform values on [−1, 1) for <paramref name="aval"/>, reproducible from <paramref name="seed"/>.</summary>
    private static HostArray Uniform(Aval aval, int seed)
    {
        var r = new Random(seed + 7);
        return HostArray.FromDoubles(aval.DType, aval.Shape, [.. Enumerable.Range(0, aval.Shape.Size).Select(_ => r.NextDouble() * 2 - 1)]);
    }

    private static string[] Ops(Graph graph, bool inProcess, int threads) =>
        [.. OnnxLowering.ToModel(graph, inProcess: inProcess, threads: threads).Graph.Node.Select(n => $"{n.OpType}/{n.Input.Count}")];

    [TestMethod]
    public void ALargeUpdateAddsItsWeightAfterTheProductOnlyInAMultiThreadedSession()
    {
        var large = Update(1024);
        Ops(large, inProcess: true, threads: 2).Should().Equal("Gemm/2", "Add/2");
        Ops(large, inProcess: true, threads: 1).Should().Equal("Gemm/3");
        Ops(large, inProcess: false, threads: 2).Should().Equal(["Gemm/3"], "an exported file does not depend on the threads that wrote it");
        Ops(Update(512), inProcess: true, threads: 2).Should().Equal(["Gemm/3"], "a small C costs little to copy");
    }

    [TestMethod]
    public void AFloat32UpdateIsOneNodeOfNnxsKernelOnAvx512()
    {
        var packed = CpuKernels.Available && CpuKernels.PackedGemmSupported;
        foreach (var threads in new[] { 1, 2 })
            Ops(Update(1024, DType.Float32), inProcess: true, threads).Should().Equal(
                packed ? ["PackedGemm/4"] : threads == 1 ? ["Gemm/3"] : ["Gemm/2", "Add/2"], "threads {0}", threads);
        Ops(Update(1024, DType.Float32), inProcess: false, threads: 2).Should().Equal(["Gemm/3"], "an exported file is standard ONNX");
    }

    [TestMethod]
    public void BothFormsComputeTheUpdate()
    {
        foreach (var t in new[] { DType.Float64, DType.Float32 })
            BothFormsComputeTheUpdate(t);
    }

    private static void BothFormsComputeTheUpdate(DType t)
    {
        var graph = Update(1024, t);
        var packed = t == DType.Float32 && CpuKernels.Available && CpuKernels.PackedGemmSupported;
        var inputs = graph.Inputs.Select((v, i) => Uniform(v.Aval, i)).ToArray();
        var expected = ReferenceBackend.Evaluate(graph, inputs)[0].ToDoubles();
        foreach (var threads in new[] { 1, 2 })
        {
            try
            {
                Device.Cpu.IntraOpThreads = threads;
                using var exe = (OrtExecutable)OrtBackend.Cpu.Compile(graph);
                exe.LoweredNodeCount.Should().Be(threads == 1 || packed ? 1 : 2);
                var buffers = inputs.Select(OrtBackend.Cpu.Upload).ToArray();
                var output = exe.Run(buffers)[0];
                var actual = OrtBackend.Cpu.Download(output).ToDoubles();
                foreach (var b in buffers.Append(output)) b.Dispose();
                for (var k = 0; k < actual.Length; k++)
                    Math.Abs(actual[k] - expected[k]).Should().BeLessThanOrEqualTo(1e-5 * (1 + Math.Abs(expected[k])), "{0} on threads {1}, element {2}", t, threads, k);
            }
            finally
            {
                Device.Cpu.IntraOpThreads = null;
            }
        }
    }
}
