using System.Collections.Immutable;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// The lowering for ONNX Runtime's CUDA provider, checked on the CPU: the CPU provider runs the CUDA form of
/// every primitive (integer arithmetic in place of BitShift and Bitwise*) with exactly the reference's results,
/// the random generator gives the same bits as the CPU form and as JAX, and every operator the CUDA form emits
/// has a CUDA kernel in <see cref="CudaKernels"/>.
/// </summary>
[TestClass]
public sealed class CudaLoweringTests
{
    private static readonly Aval KeyAval = new(Shape.Of(2), DType.UInt32);

    [TestMethod]
    public void TheCudaFormOfEveryPrimitiveMatchesTheReferenceOnTheCpuProvider() =>
        MismatchesOfTheCudaForm(PrimitiveCases.All).Should().BeEmpty();

    [TestMethod]
    public void TheCudaFormOfEveryPrimitiveUsesOnlyOperatorsWithCudaKernels()
    {
        var report = MissingKernels(PrimitiveCases.All);
        Console.WriteLine($"CUDA kernel gaps of the conformance table's CUDA lowering:\n{report}");
        report.Should().BeEmpty("every primitive and dtype has a CUDA form made of operators with CUDA kernels");
    }

    /// <summary>The rows whose CUDA form, run on the CPU provider, differs from the reference (or fails).</summary>
    internal static List<string> MismatchesOfTheCudaForm(IEnumerable<PrimitiveCase> cases)
    {
        var backend = OrtBackend.CpuWithCudaLowering;
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var graph = OneNode(c);
            var expected = ReferenceBackend.Evaluate(graph, c.Inputs)[0];
            try
            {
                using var exe = backend.Compile(graph);
                var buffers = c.Inputs.Select(backend.Upload).ToArray();
                var outputs = exe.Run(buffers);
                if (OrtConformanceTests.Compare(expected, backend.Download(outputs[0])) is { } failure) failures.Add($"{c}: {failure}");
                foreach (var b in buffers.Concat(outputs)) b.Dispose();
            }
            catch (Exception e) when (e is not AssertFailedException)
            {
                failures.Add($"{c}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        return failures;
    }

    /// <summary>The (operator, dtype) uses of the rows' CUDA lowering without a CUDA kernel, each with up to three rows that need it.</summary>
    internal static string MissingKernels(IEnumerable<PrimitiveCase> cases)
    {
        var missing = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var c in cases)
        {
            var model = OnnxLowering.ToModel(OneNode(c), target: OnnxTarget.Cuda);
            foreach (var use in OnnxOpCensus.MissingOnCuda(model))
            {
                if (!missing.TryGetValue(use.ToString(), out var rows)) missing[use.ToString()] = rows = [];
                rows.Add(c.ToString());
            }
        }
        return string.Join("\n", missing.Select(m => $"{m.Key}: {string.Join("; ", m.Value.Take(3))}"));
    }

    [TestMethod]
    public void TheCpuFormKeepsTheBitOperatorsAndTheCensusFindsThemMissingOnCuda()
    {
        var model = OnnxLowering.ToModel(Graph.Trace(k => Prng.Bits(k, 256), KeyAval));
        OnnxOpCensus.MissingOnCuda(model).Select(u => u.ToString()).Should().Contain(["BitShift(u32)", "BitwiseXor(u32)"]);
    }

    [TestMethod]
    public void RandomBitsOfTheCudaFormEqualTheCpuFormAndJax()
    {
        var cudaForm = OrtBackend.CpuWithCudaLowering;
        var key = Prng.Key(31337);
        var onCpu = Draws(key);
        var previous = Backend.Default;
        Tensor[] onCudaForm;
        Backend.Default = cudaForm; // the draws' constants are created on the default backend, as on a CUDA device
        try
        {
            onCudaForm = Draws(On(key, cudaForm));
        }
        finally
        {
            Backend.Default = previous;
        }
        for (var i = 0; i < onCpu.Length; i++)
        {
            onCudaForm[i].DeviceBuffer.Backend.Should().BeSameAs(cudaForm);
            onCudaForm[i].ToHost().ToBytes().Should().Equal(onCpu[i].ToHost().ToBytes(), $"eager draw {i} ({onCpu[i].Aval})");
        }

        var graph = Graph.Trace(k => Draws(k[0]), KeyAval);
        using var exe = cudaForm.Compile(graph);
        var jitted = exe.Run([On(key, cudaForm).DeviceBuffer]);
        for (var i = 0; i < onCpu.Length; i++)
            cudaForm.Download(jitted[i]).ToBytes().Should().Equal(onCpu[i].ToHost().ToBytes(), $"jitted draw {i} ({onCpu[i].Aval})");

        // docs/jep/9263-typed-keys.md in jax-ml/jax: jax.random.uniform(jax.random.key(0), shape=(3,))
        var uniform = Graph.Trace(k => Prng.Uniform(k, [3]), KeyAval);
        using var uniformExe = cudaForm.Compile(uniform);
        cudaForm.Download(uniformExe.Run([On(Prng.Key(0), cudaForm).DeviceBuffer])[0]).ToArray<float>().Should().Equal(0.947667f, 0.9785799f, 0.33229148f);
    }

    [TestMethod]
    public void ThreefryForCudaHasNoBitOperatorsAndOnlyCudaKernels()
    {
        var graph = Graph.Trace(k => Prng.Bits(k, 1024), KeyAval);
        var cpu = OnnxLowering.ToModel(graph);
        var cuda = OnnxLowering.ToModel(graph, target: OnnxTarget.Cuda);
        Console.WriteLine($"bits(1024): {cpu.Graph.Node.Count} ONNX nodes for the CPU, {cuda.Graph.Node.Count} for CUDA");
        cuda.Graph.Node.Select(n => n.OpType).Should().NotContain(op => op.StartsWith("Bit", StringComparison.Ordinal));
        OnnxOpCensus.MissingOnCuda(cuda).Should().BeEmpty();
    }

    [TestMethod]
    public void CudaSessionsDisableCpuFallbackAndPinTf32Off()
    {
        SessionSettings.ConfigEntries(0).Should().ContainSingle()
            .Which.Should().Be(new KeyValuePair<string, string>("session.disable_cpu_ep_fallback", "1"));
        SessionSettings.ConfigEntries(null).Should().BeEmpty("the CPU provider is its own fallback");

        var defaults = SessionSettings.CudaProviderOptions(1, CudaOptions.Default, cudaGraph: false);
        defaults.Should().Contain("device_id", "1").And.Contain("use_tf32", "0").And.Contain("enable_cuda_graph", "0");
        SessionSettings.CudaProviderOptions(0, new CudaOptions { AllowTf32 = true }, cudaGraph: false).Should().Contain("use_tf32", "1");
        SessionSettings.CudaProviderOptions(0, new CudaOptions { CudaGraphs = true }, cudaGraph: true).Should().Contain("enable_cuda_graph", "1");
    }

    [TestMethod]
    public void TheCpuBackendHasDefaultCudaOptionsAndLowersForTheCpu()
    {
        OrtBackend.Cpu.CudaOptions.Should().Be(CudaOptions.Default);
        OrtBackend.Cpu.LoweringTarget.Should().Be(OnnxTarget.Cpu);
        new CudaOptions { CudaGraphs = true }.Should().Be(new CudaOptions { CudaGraphs = true }, "options compare by value: equal options share a backend");
    }

    /// <summary>PrngOnnxTests' draws of every kind, and a float64 uniform.</summary>
    private static Tensor[] Draws(Tensor key) => [.. PrngOnnxTests.Draws(key), Prng.Uniform(Prng.SplitKeys(key, 4)[1], [40], DType.Float64)];

    private static Tensor On(Tensor t, OrtBackend backend) => new(backend.Upload(t.ToHost()));

    internal static Graph OneNode(PrimitiveCase c)
    {
        var inputs = c.Inputs.Select(x => new Value(x.Aval)).ToImmutableArray();
        var node = Node.Create(c.Op, inputs);
        return new Graph(inputs, [node], [node.Output]);
    }
}
