using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Backends;
using NnxSharp.Ir;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class TracedStateTests
{
    [TestMethod]
    public void MergeAndSplitRunInsideATraceAndTheStepAdvancesTheState()
    {
        var model = new NoisyModel();
        var (graphdef, state) = Nnx.Split(model);

        var graph = Graph.Trace(args =>
        {
            var m = Nnx.Merge<NoisyModel>(graphdef, Tree.Unflatten<State>(Tree.Flatten(state, []), args));
            m.Step();
            var (_, newState) = Nnx.Split(m);
            return [.. newState.Values];
        }, [.. state.Values.Select(v => v.Aval)]);

        using var exe = Backend.Default.Compile(graph);
        var outs = exe.Run([.. state.Values.Select(v => v.DeviceBuffer)]).Select(b => new Tensor(b)).ToArray();
        var after = Tree.Unflatten<State>(Tree.Flatten(state, []), outs);

        after["rngs/default/count"].Item<uint>().Should().Be(1, "the stream's counter is state that the step advanced");
        after["steps"].Item<float>().Should().Be(1);
        after["key"].ToArray<uint>().Should().Equal(Prng.FoldIn(Prng.Key(7), 0).ToArray<uint>(), "the traced draw equals the eager one");

        Nnx.Update(model, after);
        model.Steps.Value.Item<float>().Should().Be(1);
        model.Linear.Kernel.Value.ToArray<float>().Should().AllBeEquivalentTo(1f);
        model.Step();
        model.Key.Value.ToArray<uint>().Should().Equal(Prng.FoldIn(Prng.Key(7), 1).ToArray<uint>(), "eager code continues where the traced step left the stream");
    }

    [TestMethod]
    public void TheManualPathRunsUnderJitPureWithTheGraphDefAsAStaticArgument()
    {
        var model = new NoisyModel();
        var (graphdef, state) = Nnx.Split(model);
        var step = Jit.Pure((GraphDef g, State s) =>
        {
            var m = Nnx.Merge<NoisyModel>(g, s);
            m.Step();
            return Nnx.Split(m).State;
        });
        for (var i = 0; i < 3; i++) state = step(graphdef, state);
        step.TraceCount().Should().Be(1, "the GraphDef is a static argument compared by value");
        state["steps"].Item<float>().Should().Be(3);
        state["rngs/default/count"].Item<uint>().Should().Be(3);
        state["key"].ToArray<uint>().Should().Equal(Prng.FoldIn(Prng.Key(7), 2).ToArray<uint>());

        var path = Path.Combine(Path.GetTempPath(), $"nnx-state-{Guid.NewGuid():N}.onnx");
        try
        {
            step.Export(path, graphdef, state);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            session.InputMetadata.Keys.Should().Contain(["s/steps", "s/rngs/default/count", "s/linear/kernel"]);
            session.OutputMetadata.Keys.Should().Contain(["new/s/steps", "new/s/key"], "the returned state feeds s on the next step");
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".safetensors"));
        }
    }

    [TestMethod]
    public void MetadataIsStaticAndSurvivesMerge()
    {
        var meta = new Dictionary<string, object> { ["sharding"] = "rows", ["init"] = "lecun" };
        var a = new Mixed();
        a.Items.Add(new Param(Tensor.Ones(2), meta));
        var (graphdef, state) = Nnx.Split(a);
        graphdef.ToString().Should().Contain("init=\"lecun\" sharding=\"rows\"");

        var copy = Nnx.Merge<Mixed>(graphdef, state);
        ((Param)copy.Items[0]!).Metadata.Should().Equal(meta);

        var b = new Mixed();
        b.Items.Add(new Param(Tensor.Ones(2), new Dictionary<string, object> { ["sharding"] = "rows", ["init"] = "lecun" }));
        Nnx.GraphDef(b).Should().Be(graphdef, "metadata compares by value");
        var c = new Mixed();
        c.Items.Add(new Param(Tensor.Ones(2), new Dictionary<string, object> { ["sharding"] = "cols" }));
        Nnx.GraphDef(c).Should().NotBe(graphdef);
    }
}

/// <summary>Keeps its last drawn key in a Cache variable, so the traced step can return it.</summary>
public sealed class NoisyModel : Module
{
    public readonly Rngs Rngs = new(7);
    public readonly Dense Linear = new(2, 2);
    public Count Steps = new(Tensor.Scalar(0));
    public readonly Cache Key = new(Tensor.Zeros(DType.UInt32, 2));

    public void Step()
    {
        Key.Value = Rngs.Params();
        Steps.Value = Steps.Value + 1.0;
        Linear.Kernel.Value = Linear.Kernel.Value * 2.0;
    }
}
