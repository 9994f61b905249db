using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>The benchmark's MLP (BENCHMARKS.md §1): depth × [Linear → BatchNorm → relu], with a relu between blocks.</summary>
public sealed class BenchmarkMlp : Module
{
    public readonly List<Linear> Linears = [];
    public readonly List<BatchNorm> Norms = [];

    public BenchmarkMlp(int width, int depth, Rngs rngs)
    {
        for (var i = 0; i < depth; i++)
        {
            var (din, dout) = (i == 0 ? 1 : width, i == depth - 1 ? 1 : width);
            Linears.Add(new Linear(din, dout, rngs));
            Norms.Add(new BatchNorm(dout, rngs));
        }
    }

    public Tensor Call(Tensor x)
    {
        for (var i = 0; i < Linears.Count; i++)
        {
            x = Nn.Relu(Norms[i].Call(Linears[i].Call(x)));
            if (i < Linears.Count - 1) x = Nn.Relu(x);
        }
        return x;
    }
}

/// <summary>
/// What the passes leave of the benchmark's training step (a structural check, not a timing): it was 354 ONNX
/// nodes before the simplifications of issue 17, with the negations, expands and reshapes listed there, and 200
/// before the BatchNorm backward's factors moved out of its sums (notes/compiler.md).
/// </summary>
[TestClass]
public sealed class StepSizeTests
{
    private static Tensor TrainStep(BenchmarkMlp model, Optimizer optimizer, Tensor x, Tensor y)
    {
        var (loss, grads) = Nnx.ValueAndGrad<BenchmarkMlp>(m => (m.Call(x) - y).Square().Mean())(model);
        optimizer.Update(grads);
        return loss;
    }

    [TestMethod]
    public void TheBenchmarkStepLowersToAtMost190NodesWithEveryWeightUpdateInItsGemm()
    {
        var model = new BenchmarkMlp(32, 5, new Rngs(0));
        var optimizer = new Optimizer(model, Optax.Sgd(1e-3));
        var (x, y) = (Prng.Uniform(Prng.Key(1), [32, 1]), Prng.Uniform(Prng.Key(2), [32, 1]));
        var step = Nnx.Jit<BenchmarkMlp, Optimizer, Tensor, Tensor, Tensor>(TrainStep);
        var ir = step.Lower(model, optimizer, x, y);
        step(model, optimizer, x, y).Item<float>().Should().BeGreaterThan(0);
        step.CompileStats()!.LoweredNodes.Should().BeLessThanOrEqualTo(190, ir);
        // Per BatchNorm block the scale's gradient is r ⊙ Σ(∂y ⊙ (x − μ)), a sum the reverse pass has anyway: 5 [32, 32]
        // products per block (forward: the square and (x − μ) ⊙ rγ; reverse: ∂y ⊙ (x − μ), ∂y ⊙ rγ, (x − μ) ⊙ k), 20 in the
        // four 32-wide blocks, where there were 9 per block (36) before.
        ir.Split('\n').Count(l => l.Contains("f32[32,32] = mul ")).Should().Be(20, ir);
        ir.Should().NotContain(" neg ").And.NotContain("broadcast_to");
        ir.Split('\n').Count(l => l.Contains("= relu ")).Should().Be(5, "relu of relu is one relu");
        // Each of the five kernels is updated by the Gemm that computes its gradient: C = the kernel, α = −lr.
        ir.Split('\n').Count(l => l.Contains("gemm[trans_a=true trans_b=false alpha=-0.0010000000474974513]")).Should().Be(5, ir);
    }
}

/// <summary>Nnx.Config's thread setting is the default device's.</summary>
[TestClass]
public sealed class ConfigTests
{
    [TestMethod]
    public void IntraOpThreadsSetTheDefaultDevice()
    {
        try
        {
            Nnx.Config.IntraOpThreads = 2;
            Device.Default.IntraOpThreads.Should().Be(2);
        }
        finally
        {
            Nnx.Config.IntraOpThreads = null;
        }
        Device.Default.IntraOpThreads.Should().BeNull();
    }
}
