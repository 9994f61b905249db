using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Onnx.Schema;

namespace UserCode.Tests;

/// <summary>Nnx.ExportInference: an eval-mode graph with weights inside and a symbolic batch axis, run by ONNX Runtime.</summary>
[TestClass]
public sealed class InferenceExportTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("nnx-export-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>A model whose running statistics moved: three forward passes in training mode.</summary>
    private static SeedModel TrainedModel()
    {
        var model = new SeedModel(2, 16, 3, new Rngs(0));
        for (var i = 0; i < 3; i++) model.Call(Prng.Normal(Prng.Key(i), [32, 2]) * 2 + 1);
        return model;
    }

    private static float[] RunOnnx(InferenceSession session, float[] x, int batch)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(x, [batch, 2]);
        using var options = new RunOptions();
        using var results = session.Run(options, ["input"], [input], ["output"]);
        results[0].GetTensorTypeAndShape().Shape.Should().Equal(batch, 3);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [TestMethod]
    public void TheExportRunsInOnnxRuntimeAtAnyBatchSizeAndEqualsTheModelsEvalOutput()
    {
        var model = TrainedModel();
        model.Bn.Mean.Value.ToArray<float>().Should().Contain(v => v != 0, "the running statistics moved while training");
        model.LinearOut.Eval();   // a mode set on one submodule is restored exactly, too
        var path = Path.Combine(_folder, "model.onnx");
        Nnx.ExportInference(path, model, Tensor.Zeros(4, 2));
        model.Training.Should().BeTrue("the model's modes are restored after the export");
        model.Dropout.Training.Should().BeTrue();
        model.LinearOut.Training.Should().BeFalse();

        using var session = new InferenceSession(path);
        session.InputMetadata.Keys.Should().Equal("input");
        session.InputMetadata["input"].Dimensions.Should().Equal(-1, 2);
        session.InputMetadata["input"].SymbolicDimensions[0].Should().Be("batch");
        session.OutputMetadata["output"].Dimensions.Should().Equal(-1, 3);
        session.OutputMetadata["output"].SymbolicDimensions[0].Should().Be("batch");

        var worst = 0.0;
        foreach (var batch in new[] { 1, 7, 1000 })
        {
            var x = Prng.Normal(Prng.Key(100 + batch), [batch, 2]);
            model.Eval();
            var expected = model.Call(x).ToArray<float>();
            model.Train();
            var actual = RunOnnx(session, x.ToArray<float>(), batch);
            actual.Should().HaveCount(expected.Length);
            for (var i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i])));
            if (batch == 1000)   // last: a training-mode call moves the running statistics
                actual.Should().NotEqual(model.Call(x).ToArray<float>(), "the training-mode output (batch statistics, dropout) differs: the export is in eval mode");
        }
        worst.Should().BeLessThan(1e-5, "ONNX Runtime's fused graph and the eager ops agree to float32 rounding");
        Console.WriteLine($"ExportInference: largest relative difference against the eager eval output over batches 1, 7, 1000: {worst:E2}");
    }

    [TestMethod]
    public void WeightsAreInitializersNamedByPathOnlyTheUsedOnesWithDocStrings()
    {
        var model = TrainedModel();
        var path = Path.Combine(_folder, "model.onnx");
        Nnx.ExportInference(path, model, Tensor.Zeros(4, 2));
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var g = proto.Graph;
        g.Input.Select(i => i.Name).Should().Equal("input");
        g.Output.Select(o => o.Name).Should().Equal("output");
        g.Initializer.Select(t => t.Name).Should().Contain(["linear/kernel", "linear/bias", "bn/mean", "bn/var", "bn/scale", "bn/bias", "linear_out/kernel", "linear_out/bias"]);
        g.Initializer.Select(t => t.Name).Should().NotContain(n => n.StartsWith("dropout/", StringComparison.Ordinal), "the rng state is unused in eval mode");
        var kernel = g.Initializer.Single(t => t.Name == "linear/kernel");
        kernel.RawData.ToByteArray().Should().Equal(model.Linear.Kernel.Value.ToHost().ToBytes());
        g.Name.Should().Be("SeedModel");
        g.DocString.Should().Contain("SeedModel for inference").And.Contain("evaluation mode").And.Contain("f32[batch,2]");
        proto.DocString.Should().Be(g.DocString);
        g.Input[0].DocString.Should().Contain("first axis is the batch");
        g.Output[0].DocString.Should().Contain("f32[batch,3]");
    }

    [TestMethod]
    public void AGraphThatDependsOnTheBatchSizeIsAnErrorUnlessTheBatchIsFixed()
    {
        var model = new SeedModel(2, 4, 3, new Rngs(0));
        var path = Path.Combine(_folder, "flat.onnx");
        Tensor Flatten(Tensor x) => model.Call(x).Reshape(x.Shape[0] * 3);
        FluentActions.Invoking(() => Nnx.ExportInference(path, model, Tensor.Zeros(4, 2), Flatten)).Should().Throw<InvalidOperationException>()
            .WithMessage("ExportInference: the graph depends on the batch size (*Reshape*differs between batch 4 and 11)*dynamicBatch: false*");
        File.Exists(path).Should().BeFalse();
        model.Training.Should().BeTrue();

        Nnx.ExportInference(path, model, Tensor.Zeros(4, 2), Flatten, dynamicBatch: false);
        using var session = new InferenceSession(path);
        session.InputMetadata["input"].Dimensions.Should().Equal(4, 2);
        session.OutputMetadata["output"].Dimensions.Should().Equal(12);
    }

    [TestMethod]
    public void AModelThatUpdatesStateInEvalModeOrHasNoCallIsAClearError()
    {
        var counting = new Models.Block(2, 2);
        FluentActions.Invoking(() => Nnx.ExportInference(Path.Combine(_folder, "a.onnx"), counting, Tensor.Zeros(1, 2)))
            .Should().Throw<ArgumentException>().WithMessage("ExportInference: Block has no public method Tensor Call(Tensor)*forward:*");
        Tensor Counted(Tensor x)
        {
            counting.Calls.Value = counting.Calls.Value + 1;
            return x.MatMul(counting.Linear.Kernel);
        }
        FluentActions.Invoking(() => Nnx.ExportInference(Path.Combine(_folder, "a.onnx"), counting, Tensor.Zeros(1, 2), Counted))
            .Should().Throw<InvalidOperationException>().WithMessage("*forward pass changed 'calls'*");
        counting.Calls.Value.IsSymbolic.Should().BeFalse("the variables get their values back");
    }
}
