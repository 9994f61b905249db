using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Onnx;

namespace UserCode.Tests;

/// <summary>A module whose call touches every kind of state a training step mutates.</summary>
public sealed class Stateful : Module
{
    public readonly Param W;
    public readonly BatchStat Mean = new(Tensor.Zeros(3));
    public readonly Rngs Rngs = new(5);
    public Models.Count Calls = new(Tensor.Scalar(0));

    public Stateful() => W = new Param(Tensor.FromArray([0.5f, -1f, 2f, 0.25f, 1f, -0.5f], 2, 3));

    /// <summary>y = x·W plus noise from the rng stream; in training the batch mean is tracked.</summary>
    public Tensor Call(Tensor x)
    {
        var y = x.MatMul(W) + 0.01 * Prng.Normal(Rngs.Next("noise"), [3]);
        if (Training) Mean.Value = 0.9 * Mean.Value + 0.1 * y.Mean(axis: 0);
        Calls.Value = Calls.Value + 1.0;
        return y;
    }
}

/// <summary>Plain SGD over the model's Param W, holding the very model it updates.</summary>
public sealed class PlainSgd(Stateful model, double lr) : Module
{
    public readonly Stateful Model = model;
    public readonly OptState Steps = new(Tensor.Scalar(0));
    public readonly double Lr = lr;

    public void Update(Tensor grad)
    {
        Model.W.Value = Model.W.Value - Lr * grad;
        Steps.Value = Steps.Value + 1.0;
    }
}

[TestClass]
public sealed class NnxJitTests
{
    private static readonly Tensor X = Tensor.FromArray([1f, 2f, 0.5f, -1f, 0f, 3f, 2f, 2f], 4, 2);
    private static readonly Tensor Y = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => 0.1f * i).ToArray(), 4, 3);

    /// <summary>The seed's shape of step: loss, gradient, in-place update; returns the loss.</summary>
    private static Tensor TrainStep(Stateful model, PlainSgd optimizer, Tensor x, Tensor y)
    {
        Tensor Loss(Tensor w)
        {
            var saved = model.W.Value;
            model.W.Value = w;
            var loss = (model.Call(x) - y).Square().Mean();
            model.W.Value = saved;
            return loss;
        }
        var (loss, grad) = Autodiff.ValueAndGrad(Loss)(model.W.Value);
        optimizer.Update(grad);
        return loss;
    }

    [TestMethod]
    public void EveryMutationPersistsAndMatchesEagerExecution()
    {
        var (eagerModel, jitModel) = (new Stateful(), new Stateful());
        var (eagerOpt, jitOpt) = (new PlainSgd(eagerModel, 0.1), new PlainSgd(jitModel, 0.1));
        var step = Nnx.Jit<Stateful, PlainSgd, Tensor, Tensor, Tensor>(TrainStep);
        for (var i = 0; i < 5; i++)
        {
            var eagerLoss = TrainStep(eagerModel, eagerOpt, X, Y).Item<float>();
            step(jitModel, jitOpt, X, Y).Item<float>().Should().BeApproximately(eagerLoss, 1e-5f);
        }
        step.TraceCount().Should().Be(1);
        jitModel.Calls.Value.Item<float>().Should().Be(5, "the user's Count kind");
        jitOpt.Steps.Value.Item<float>().Should().Be(5, "optimizer state");
        jitModel.Rngs["noise"].Count.Value.Item<uint>().Should().Be(5, "the rng counter is state the step advances");
        jitModel.Mean.Value.ToArray<float>().Should().Equal(eagerModel.Mean.Value.ToArray<float>(), (a, b) => Math.Abs(a - b) < 1e-5f, "batch statistics");
        jitModel.W.Value.ToArray<float>().Should().Equal(eagerModel.W.Value.ToArray<float>(), (a, b) => Math.Abs(a - b) < 1e-5f, "parameters");
        ReferenceEquals(jitOpt.Model, jitModel).Should().BeTrue("the optimizer still holds the same model object");
    }

    [TestMethod]
    public void RetracesOnlyWhenTheStructureOrShapesChange()
    {
        var model = new Stateful();
        var optimizer = new PlainSgd(model, 0.1);
        var step = Nnx.Jit<Stateful, PlainSgd, Tensor, Tensor, Tensor>(TrainStep);
        step(model, optimizer, X, Y);
        step(model, optimizer, Tensor.Ones(4, 2), Tensor.Zeros(4, 3));
        step.TraceCount().Should().Be(1, "same structure, same shapes");

        step(model, optimizer, Tensor.Ones(8, 2), Tensor.Zeros(8, 3));
        step.TraceCount().Should().Be(2, "a new batch size");
        model.Eval();
        step(model, optimizer, X, Y);
        step.TraceCount().Should().Be(3, "Training is a static attribute of the GraphDef");
        model.Mean.Value.ToArray<float>().Should().Equal(Nnx.State(model)["mean"].ToArray<float>());
        model.Train();
        step(model, optimizer, X, Y);
        step(model, optimizer, Tensor.Ones(8, 2), Tensor.Zeros(8, 3));
        step.TraceCount().Should().Be(3, "both earlier structures are cached");

        var other = new Stateful();
        step(other, new PlainSgd(other, 0.1), X, Y);
        step.TraceCount().Should().Be(3, "other objects with an equal GraphDef reuse the executable");
        other.Calls.Value.Item<float>().Should().Be(1);
    }

    [TestMethod]
    public void ATensorReadBetweenStepsKeepsItsValue()
    {
        var model = new Stateful();
        var optimizer = new PlainSgd(model, 0.1);
        var step = Nnx.Jit<Stateful, PlainSgd, Tensor, Tensor, Tensor>(TrainStep);
        step(model, optimizer, X, Y);
        step(model, optimizer, X, Y);
        var held = model.W.Value;
        var snapshot = held.ToArray<float>();
        for (var i = 0; i < 4; i++) step(model, optimizer, X, Y);
        held.ToArray<float>().Should().Equal(snapshot, "the step must not reuse a buffer the user holds");
        model.W.Value.ToArray<float>().Should().NotEqual(snapshot);
    }

    [TestMethod]
    public void AStepThatChangesTheStructureFailsClearlyAndLeavesTheModelAsItWas()
    {
        var model = new Stateful();
        var before = model.W.Value.ToArray<float>();
        var step = Nnx.Jit((Stateful m) => { m.W.Value = Tensor.Zeros(4); });
        var act = () => step(model);
        act.Should().Throw<InvalidOperationException>().WithMessage("*changed the structure*'w' went from f32[2,3] to f32[4]*");
        model.W.Value.ToArray<float>().Should().Equal(before);
        model.W.Value.IsSymbolic.Should().BeFalse();
    }

    [TestMethod]
    public void ActionsAndTupleResults()
    {
        var model = new Stateful();
        var count = Nnx.Jit((Stateful m) => { m.Calls.Value = m.Calls.Value + 2.0; });
        count(model);
        count(model);
        model.Calls.Value.Item<float>().Should().Be(4);

        var both = Nnx.Jit((Stateful m, Tensor x) => (m.Call(x), m.Calls.Value));
        var (y, calls) = both(model, X);
        y.Shape.Should().Equal(4, 3);
        calls.Item<float>().Should().Be(5);
    }

    [TestMethod]
    public void LowerAndExportNameStateByArgumentAndPath()
    {
        var model = new Stateful();
        var optimizer = new PlainSgd(model, 0.1);
        var step = Nnx.Jit<Stateful, PlainSgd, Tensor, Tensor, Tensor>(TrainStep);
        step.Lower(model, optimizer, X, Y).Should().StartWith("// nodes: traced");
        step.CompileStats()!.Total.Should().BePositive();
        var path = Path.Combine(Path.GetTempPath(), $"nnx-jit-{Guid.NewGuid():N}.onnx");
        try
        {
            step.Export(path, model, optimizer, X, Y);
            using var session = new InferenceSession(path);
            session.InputMetadata.Keys.Should().Contain(["model/w", "model/calls", "optimizer/steps", "x", "y"]);
            session.InputMetadata.Keys.Should().NotContain("optimizer/model/w", "the shared model is stored once");
            session.OutputMetadata.Keys.Should().Contain(["new/model/w", "new/model/calls", "new/optimizer/steps", "out"]);
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".safetensors"));
        }
    }

    [TestMethod]
    public void ASteadyStateCallAllocatesNothingAndNativeMemoryStaysFlat()
    {
        var model = new Stateful();
        var step = Nnx.Jit((Stateful m, Tensor x) => { m.Mean.Value = m.Mean.Value + x.MatMul(m.W).Mean(axis: 0); });
        for (var i = 0; i < 100; i++) step(model, X);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var live = OrtBackend.LiveBuffers;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++) step(model, X);
        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 2000.0;
        perCall.Should().Be(0, "a cached step checks the structure, runs through bound buffers and swaps them");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        (OrtBackend.LiveBuffers - live).Should().BeLessThanOrEqualTo(0);
        model.Mean.Value.Shape.Should().Equal(3);
    }

    [TestMethod]
    public void AStepRunsWhereItsStateIsAndMovingTheModelRetracesThere()
    {
        var model = new Stateful();
        foreach (var v in new Variable[] { model.W, model.Mean, model.Calls })
            v.Value = new Tensor(NnxSharp.Backends.ReferenceBackend.Instance.Upload(v.Value.ToHost()));
        var step = Nnx.Jit((Stateful m) => { m.Calls.Value = m.Calls.Value + 1.0; m.W.Value = m.W.Value * 2.0; });
        var act = () => step(model);
        act.Should().Throw<ArgumentException>().WithMessage("*on onnxruntime-cpu was used on reference*model.To(device)*",
            "the rng variables are still on the CPU: one step cannot span two devices");

        model.To(Device.Cpu);
        step(model);
        step(model);
        model.Calls.Value.Item<float>().Should().Be(2);
        model.W.Value.Device().Should().Be(Device.Cpu);
        model.W.Value.ToArray<float>().Should().Equal(2f, -4f, 8f, 1f, 4f, -2f);
    }

    [TestMethod]
    public void CallsFromSeveralThreadsOnSeparateModels()
    {
        var step = Nnx.Jit((Stateful m) => { m.Calls.Value = m.Calls.Value + 1.0; });
        var models = Enumerable.Range(0, 8).Select(_ => new Stateful()).ToArray();
        Parallel.For(0, 8 * 50, i => step(models[i % 8]));
        models.Select(m => m.Calls.Value.Item<float>()).Should().AllBeEquivalentTo(50f);
        step.TraceCount().Should().Be(1);
    }
}
