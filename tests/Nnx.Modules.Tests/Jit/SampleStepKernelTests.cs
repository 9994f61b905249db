using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Benchmarks;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// The samples' training steps, lowered per device and checked against ONNX Runtime's CUDA kernel list
/// (<see cref="CudaKernels"/>) without a GPU: the CUDA lowering of every step uses only operators and dtypes with
/// CUDA kernels (so a CUDA session, which has CPU fallback disabled, places every node on the GPU), and the CPU
/// lowering of the steps that draw random numbers keeps the bit operators that the CUDA provider lacks. A missing
/// kernel fails the test naming the operator and its dtype.
/// </summary>
[TestClass]
public sealed class SampleStepKernelTests
{
    /// <summary>samples/SimpleTraining: the seed's model (with Dropout, so the step draws bits), Adam, metrics.</summary>
    private static Tensor SeedTrainStep(SimpleTraining.Model model, Optimizer optimizer, MultiMetric metrics, Tensor x, Tensor y)
    {
        Tensor LossFn(SimpleTraining.Model m) => (m.Call(x) - y).Square().Mean();
        var (loss, grads) = Nnx.ValueAndGrad<SimpleTraining.Model>(LossFn)(model);
        optimizer.Update(grads);
        metrics.Update(("loss", loss));
        return loss;
    }

    /// <summary>Each sample step's optimised graph, traced on the CPU.</summary>
    private static IEnumerable<(string Name, Graph Graph)> Steps()
    {
        var x = Prng.Normal(Prng.Key(1), [32, 2]);
        var y = Prng.Normal(Prng.Key(2), [32, 3]);

        var model = new SimpleTraining.Model(2, 64, 3, new Rngs(0));
        var optimizer = new Optimizer(model, Optax.Adam(1e-3));
        var metrics = new MultiMetric(("loss", new Average()));
        var auto = Nnx.Jit<SimpleTraining.Model, Optimizer, MultiMetric, Tensor, Tensor, Tensor>(SeedTrainStep);
        yield return ("SimpleTraining auto step (dropout, Adam)", Inspect(auto, model, optimizer, metrics, x, y));

        var (graphdef, state) = Nnx.Split(model, optimizer, metrics);
        var manual = Jit.Pure((GraphDef g, State s, Tensor bx, Tensor by) =>
        {
            var (m, o, mm) = Nnx.Merge<SimpleTraining.Model, Optimizer, MultiMetric>(g, s);
            var loss = SeedTrainStep(m, o, mm, bx, by);
            var (_, newState) = Nnx.Split(m, o, mm);
            return (newState, loss);
        });
        yield return ("SimpleTraining manual step (Jit.Pure)", Inspect(manual, graphdef, state, x, y));

        var bx1 = Prng.Uniform(Prng.Key(3), [32, 1]);
        var by1 = Prng.Uniform(Prng.Key(4), [32, 1]);
        var mlp = new SeedMlp(1, 32, 1, 5, new Rngs(0));
        var sgd = new Optimizer(mlp, Optax.Sgd(1e-3));
        // samples/Benchmarks simple: the MLP of BatchNorm blocks with its call counter, plain SGD; the sample's own steps.
        yield return ("Benchmarks simple train step", Inspect(Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep), mlp, sgd, bx1, by1));
        yield return ("Benchmarks simple test step", Inspect(Nnx.Jit<SeedMlp, Tensor, Tensor, Tensor>(SeedMlp.TestStep), mlp, bx1, by1));

        // Drawing from Rngs inside a step: the stream's key and counter advance as state.
        var rngs = new Rngs(5);
        var draw = Nnx.Jit((Rngs r, Tensor t) => t + Prng.Uniform(r.Dropout(), [32, 3]));
        yield return ("a step drawing from Rngs", Inspect(draw, rngs, y));
    }

    private static Graph Inspect(Delegate step, params object?[] args) => JitRegistry.Of(step).Inspect(args).Optimized;

    [TestMethod]
    public void EverySampleStepLowersToOperatorsWithCudaKernels()
    {
        var failures = new List<string>();
        foreach (var (name, graph) in Steps())
        {
            var model = OnnxLowering.ToModel(graph, target: OnnxTarget.Cuda);
            var uses = OnnxOpCensus.Uses(model);
            Console.WriteLine($"{name}: {model.Graph.Node.Count} ONNX nodes for CUDA; {string.Join(", ", uses)}");
            foreach (var missing in uses.Where(u => !CudaKernels.Supports(u)))
                failures.Add($"{name}: {missing} has no CUDA kernel");
        }
        failures.Should().BeEmpty();
    }

    [TestMethod]
    public void TheCpuLoweringOfTheDropoutStepUsesTheBitOperatorsThatCudaLacks()
    {
        var (name, graph) = Steps().First();
        var missing = OnnxOpCensus.MissingOnCuda(OnnxLowering.ToModel(graph)).Select(u => u.ToString()).ToArray();
        missing.Should().Contain("BitwiseXor(u32)", $"{name} draws its dropout mask with threefry");
        missing.Should().OnlyContain(u => u.StartsWith("Bit", StringComparison.Ordinal), "the CPU form differs from the CUDA form only in the bit operators");
    }
}
