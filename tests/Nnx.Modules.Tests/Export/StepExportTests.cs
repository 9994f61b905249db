using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Onnx.Schema;

namespace UserCode.Tests;

/// <summary>An exported training step is usable without Nnx: its initial state file, new/&lt;input&gt; feeding &lt;input&gt;, a named graph.</summary>
[TestClass]
public sealed class StepExportTests
{
    [TestMethod]
    public void AnotherRuntimeTrainsFromTheExportedStepAndItsStateFileAsNnxDoes()
    {
        var folder = Directory.CreateTempSubdirectory("nnx-step-").FullName;
        try
        {
            var model = new SeedModel(2, 8, 3, new Rngs(0));
            var optimizer = new Optimizer(model, Optax.Adam(1e-2));
            Tensor TrainStep(SeedModel m, Optimizer o, Tensor x, Tensor y)
            {
                var (loss, grads) = Nnx.ValueAndGrad<SeedModel>(mm => (mm.Call(x) - y).Square().Mean())(m);
                o.Update(grads);
                return loss;
            }
            var step = Nnx.Jit<SeedModel, Optimizer, Tensor, Tensor, Tensor>(TrainStep);
            var batches = Enumerable.Range(0, 5).Select(i => Prng.Normal(Prng.Key(i), [16, 2])).Select(x => (X: x, Y: Tensor.Concat(1, x, x.Slice(1, 0, 1)))).ToArray();
            var path = Path.Combine(folder, "train_step.onnx");
            step.Export(path, model, optimizer, batches[0].X, batches[0].Y);

            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            proto.Graph.Name.Should().Be("TrainStep", "the graph is named after the step, not a compiler-generated name");
            proto.Graph.DocString.Should().Contain("new/<input> is the value of input <input>").And.Contain("train_step.safetensors");
            proto.Graph.Input.Single(i => i.Name == "x").DocString.Should().StartWith("Data");
            proto.Graph.Input.Single(i => i.Name == "m/linear/kernel").DocString.Should().Contain("new/m/linear/kernel");

            // ONNX Runtime alone: the initial state from the file, each new/<input> fed back as <input>.
            var (initial, _) = SafeTensors.Load(Path.Combine(folder, "train_step.safetensors"));
            var state = initial.ToDictionary(t => t.Key, t => t.Value);
            state.Keys.Should().Contain(["m/linear/kernel", "m/bn/mean", "m/dropout/rngs/default/count", "o/step", "o/opt_state/0/mu/linear/kernel"])
                .And.NotContain(["x", "y"]);
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(path, options);
            var outputs = session.OutputMetadata.Keys.ToArray();
            var ortLosses = new List<float>();
            foreach (var (x, y) in batches)
            {
                var feeds = session.InputMetadata.Keys.ToDictionary(k => k, k => k == "x" ? x.ToHost() : k == "y" ? y.ToHost() : state[k]);
                var values = feeds.Select(f => Ort(f.Value)).ToList();
                using var run = new RunOptions();
                using var results = session.Run(run, [.. feeds.Keys], values, outputs);
                for (var o = 0; o < outputs.Length; o++)
                    if (outputs[o].StartsWith("new/", StringComparison.Ordinal)) state[outputs[o][4..]] = Host(results[o], state[outputs[o][4..]]);
                    else ortLosses.Add(results[o].GetTensorDataAsSpan<float>()[0]);
                values.ForEach(v => v.Dispose());
            }
            var nnxLosses = batches.Select(b => step(model, optimizer, b.X, b.Y).Item<float>()).ToList();
            ortLosses.Should().Equal(nnxLosses, (a, b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(b)));
            ortLosses[^1].Should().BeLessThan(ortLosses[0]);
            state["m/linear/kernel"].ToArray<float>().Should().Equal(model.Linear.Kernel.Value.ToArray<float>(), (a, b) => Math.Abs(a - b) <= 1e-6);
            state["o/step"].ToArray<uint>().Should().Equal(5u);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void ALambdaStepIsNamedAfterItsFile()
    {
        var folder = Directory.CreateTempSubdirectory("nnx-step-").FullName;
        try
        {
            var step = Jit.Pure((State s, Tensor x) => (s.Map(t => t + x.Sum()), x.Mean()));
            var s0 = State.Of([new StateEntry("w", typeof(Param), Tensor.Ones(2))]);
            var path = Path.Combine(folder, "my_step.onnx");
            step.Export(path, s0, Tensor.Ones(3));
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            proto.Graph.Name.Should().Be("my_step");
            proto.Graph.Output.Select(o => o.Name).Should().Equal("new/s/w", "out1");
            SafeTensors.Load(Path.Combine(folder, "my_step.safetensors")).Tensors.Select(t => t.Key).Should().Equal("s/w");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static OrtValue Ort(HostArray a)
    {
        var shape = a.Shape.ToLongArray();
        return a.DType switch
        {
            DType.Float32 => OrtValue.CreateTensorValueFromMemory(a.ToArray<float>(), shape),
            DType.UInt32 => OrtValue.CreateTensorValueFromMemory(a.ToArray<uint>(), shape),
            DType.Int64 => OrtValue.CreateTensorValueFromMemory(a.ToArray<long>(), shape),
            _ => throw new NotSupportedException(a.DType.ToString()),
        };
    }

    private static HostArray Host(OrtValue v, HostArray like) => like.DType switch
    {
        DType.Float32 => HostArray.Create(v.GetTensorDataAsSpan<float>().ToArray(), like.Shape),
        DType.UInt32 => HostArray.Create(v.GetTensorDataAsSpan<uint>().ToArray(), like.Shape),
        DType.Int64 => HostArray.Create(v.GetTensorDataAsSpan<long>().ToArray(), like.Shape),
        _ => throw new NotSupportedException(like.DType.ToString()),
    };
}
