using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>The seed's model (API.md): Linear → BatchNorm → Dropout → relu → Linear.</summary>
public sealed class SeedModel : Module
{
    public readonly Linear Linear;
    public readonly BatchNorm Bn;
    public readonly Dropout Dropout;
    public Linear LinearOut;

    public SeedModel(int din, int dmid, int dout, Rngs rngs)
    {
        Linear = new Linear(din, dmid, rngs);
        Bn = new BatchNorm(dmid, rngs);
        Dropout = new Dropout(0.2, rngs);
        LinearOut = new Linear(dmid, dout, rngs);
    }

    public Tensor Call(Tensor x) => LinearOut.Call(Nn.Relu(Dropout.Call(Bn.Call(Linear.Call(x)))));

    /// <summary>The seed's data: x ~ N(0, 1) [size, 2] from key (seed, step), y = (x₀x₁, x₀ + x₁, x₀ − x₁).</summary>
    public static (Tensor X, Tensor Y) Batch(int seed, int step, int size)
    {
        var key = Prng.FoldIn(Prng.Key(seed), step);
        var x = Prng.Normal(Prng.FoldIn(key, 0), [size, 2]);
        var y = Tensor.Concat(1, x.Slice(1, 0, 1) * x.Slice(1, 1, 2), x.Slice(1, 0, 1) + x.Slice(1, 1, 2), x.Slice(1, 0, 1) - x.Slice(1, 1, 2));
        return (x, y);
    }

    /// <summary>The seed's train step: mean squared error, its gradient, the optimizer update and the loss metric.</summary>
    public static Tensor TrainStep(SeedModel model, Optimizer optimizer, MultiMetric metrics, Tensor x, Tensor y)
    {
        Tensor LossFn(SeedModel m) => (m.Call(x) - y).Square().Mean();
        var (loss, grads) = Nnx.ValueAndGrad<SeedModel>(LossFn)(model);
        optimizer.Update(grads);
        metrics.Update(("loss", loss));
        return loss;
    }
}

/// <summary>The seed's two programs: Nnx.Jit over the objects and Split → Jit.Pure → Merge give the same training.</summary>
[TestClass]
public sealed class SeedProgramTests
{
    private static (Tensor X, Tensor Y) Batch(int step, int size = 32) => SeedModel.Batch(42, step, size);

    private static Tensor TrainStep(SeedModel model, Optimizer optimizer, MultiMetric metrics, Tensor x, Tensor y) =>
        SeedModel.TrainStep(model, optimizer, metrics, x, y);

    private static (SeedModel, Optimizer, MultiMetric) Create()
    {
        var model = new SeedModel(2, 16, 3, new Rngs(0));
        return (model, new Optimizer(model, Optax.Adam(1e-2)), new MultiMetric(("loss", new Average())));
    }

    [TestMethod]
    public void TwoHundredStepsOfBothPathsGiveTheSameLossesAndTheSameState()
    {
        var (model, optimizer, metrics) = Create();
        var auto = Nnx.Jit<SeedModel, Optimizer, MultiMetric, Tensor, Tensor, Tensor>(TrainStep);
        var (model2, optimizer2, metrics2) = Create();
        var (graphdef, state) = Nnx.Split(model2, optimizer2, metrics2);
        var manual = Jit.Pure((GraphDef g, State s, Tensor x, Tensor y) =>
        {
            var (m, o, mm) = Nnx.Merge<SeedModel, Optimizer, MultiMetric>(g, s);
            var loss = TrainStep(m, o, mm, x, y);
            return (Nnx.Split(m, o, mm).State, loss);
        });
        var losses = new List<float>();
        for (var i = 0; i < 200; i++)
        {
            var (x, y) = Batch(i);
            var a = auto(model, optimizer, metrics, x, y).Item<float>();
            (state, var l) = manual(graphdef, state, x, y);
            l.Item<float>().Should().Be(a, $"step {i}");
            losses.Add(a);
        }
        auto.TraceCount().Should().Be(1);
        manual.TraceCount().Should().Be(1);
        Nnx.Update((model2, optimizer2, metrics2), state);
        var (autoState, manualState) = (Nnx.State(model, optimizer, metrics), Nnx.State(model2, optimizer2, metrics2));
        autoState.Paths.Should().Equal(manualState.Paths);
        for (var i = 0; i < autoState.Count; i++)
            autoState[i].Value.ToHost().ToBytes().Should().Equal(manualState[i].Value.ToHost().ToBytes(), autoState[i].Path);

        ReferenceEquals(optimizer.Model, model).Should().BeTrue();
        optimizer.Step.Value.Item<uint>().Should().Be(200);
        metrics.Compute()["loss"].Item<float>().Should().BeApproximately(losses.Average(), 1e-4f);
        model.Dropout.Rngs!["dropout"].Count.Value.Item<uint>().Should().BeGreaterThan(0u, "dropout advanced its stream as state");
        losses.Skip(180).Average().Should().BeLessThan(losses.Take(20).Average() / 2, "training lowers the loss");

        // The module works eagerly after its jitted calls.
        model.Eval();
        var (tx, ty) = Batch(1000, 64);
        var eagerLoss = (model.Call(tx) - ty).Square().Mean().Item<float>();
        eagerLoss.Should().BeLessThan(losses.Take(20).Average());
    }

    [TestMethod]
    public void ABatchOfOneThroughAOneFeatureBatchNormTrainsOnBothPaths()
    {
        // A batch of one through a BatchNorm of one feature: its running averages are [1, 1] clusters in process.
        SeedModel Narrow() => new(2, 1, 3, new Rngs(0));
        var model = Narrow();
        var (optimizer, metrics) = (new Optimizer(model, Optax.Sgd(1e-2)), new MultiMetric(("loss", new Average())));
        var auto = Nnx.Jit<SeedModel, Optimizer, MultiMetric, Tensor, Tensor, Tensor>(TrainStep);
        var model2 = Narrow();
        var (graphdef, state) = Nnx.Split(model2, new Optimizer(model2, Optax.Sgd(1e-2)), new MultiMetric(("loss", new Average())));
        var manual = Jit.Pure((GraphDef g, State s, Tensor x, Tensor y) =>
        {
            var (m, o, mm) = Nnx.Merge<SeedModel, Optimizer, MultiMetric>(g, s);
            var loss = TrainStep(m, o, mm, x, y);
            return (Nnx.Split(m, o, mm).State, loss);
        }, 1);
        for (var i = 0; i < 5; i++)
        {
            var (x, y) = Batch(i, size: 1);
            var a = auto(model, optimizer, metrics, x, y).Item<float>();
            (state, var l) = manual(graphdef, state, x, y);
            float.IsFinite(a).Should().BeTrue($"step {i}'s loss is a number");
            l.Item<float>().Should().Be(a, $"step {i}");
        }
        model.Bn.Mean.Value.Item<float>().Should().NotBe(0f, "the running mean moved");
    }

    [TestMethod]
    public void ABatchSizeAReplacedLayerAndEvalEachRetraceOnce()
    {
        var (model, optimizer, metrics) = Create();
        var step = Nnx.Jit<SeedModel, Optimizer, MultiMetric, Tensor, Tensor, Tensor>(TrainStep);
        void Run(int batch)
        {
            var (x, y) = Batch(0, batch);
            step(model, optimizer, metrics, x, y);
        }
        Run(32);
        Run(32);
        step.TraceCount().Should().Be(1);
        Run(8);
        Run(8);
        step.TraceCount().Should().Be(2, "a new batch size");
        model.Eval();
        Run(32);
        Run(32);
        step.TraceCount().Should().Be(3, "train → eval");
        model.Train();
        Run(32);
        step.TraceCount().Should().Be(3, "back to the cached training structure");

        var replacement = new Linear(16, 3, new Rngs(1));
        var initial = replacement.Kernel.Value.ToArray<float>();
        model.LinearOut = replacement;
        Run(32);
        step.TraceCount().Should().Be(3, "an equal layer in its place gives an equal GraphDef: the executable is reused");
        replacement.Kernel.Value.ToArray<float>().Should().NotEqual(initial, "the new layer's variables are the ones updated");

        model.LinearOut = new Linear(16, 3, new Rngs(1), useBias: false);
        optimizer = new Optimizer(model, Optax.Adam(1e-2));
        Run(32);
        Run(32);
        step.TraceCount().Should().Be(4, "a layer of another structure retraces once");
    }

    [TestMethod]
    public void AnEagerTrainingLoopLowersTheLoss()
    {
        var (model, optimizer, metrics) = Create();
        var losses = Enumerable.Range(0, 60).Select(i =>
        {
            var (x, y) = Batch(i);
            return TrainStep(model, optimizer, metrics, x, y).Item<float>();
        }).ToList();
        Console.WriteLine($"eager training: loss {losses.Take(5).Average():F4} over the first 5 steps, {losses.Skip(55).Average():F4} over the last 5");
        losses.Skip(55).Average().Should().BeLessThan(losses.Take(5).Average() * 0.7f);
    }
}
