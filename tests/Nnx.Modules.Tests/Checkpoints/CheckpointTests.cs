using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Nnx.Save / Nnx.Load: keys are state paths, loads are validated, writes are atomic, training resumes bit for bit.</summary>
[TestClass]
public sealed class CheckpointTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("nnx-ckpt-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private string File(string name) => Path.Combine(_folder, name);

    private static readonly Lazy<(Tensor X, Tensor Y)[]> Batches = new(() => [.. Enumerable.Range(0, 200).Select(MakeBatch)]);

    private static (Tensor X, Tensor Y) Batch(int step) => Batches.Value[step];

    private static (Tensor X, Tensor Y) MakeBatch(int step) => SeedModel.Batch(7, step, 16);

    private static Tensor TrainStep(SeedModel model, Optimizer optimizer, MultiMetric metrics, Tensor x, Tensor y) =>
        SeedModel.TrainStep(model, optimizer, metrics, x, y);

    private static (SeedModel Model, Optimizer Optimizer, MultiMetric Metrics) Create(int seed, int width = 16)
    {
        var model = new SeedModel(2, width, 3, new Rngs(seed));
        return (model, new Optimizer(model, Optax.Adam(1e-2)), new MultiMetric(("loss", new Average())));
    }

    private static readonly Func<SeedModel, Optimizer, MultiMetric, Tensor, Tensor, Tensor> SharedStep = Nnx.Jit<SeedModel, Optimizer, MultiMetric, Tensor, Tensor, Tensor>(TrainStep);

    private static List<int> Train(SeedModel model, Optimizer optimizer, MultiMetric metrics, int from, int to, bool freshJit = false)
    {
        var step = freshJit ? Nnx.Jit<SeedModel, Optimizer, MultiMetric, Tensor, Tensor, Tensor>(TrainStep) : SharedStep;
        var losses = new List<int>();
        for (var i = from; i < to; i++)
        {
            var (x, y) = Batch(i);
            losses.Add(BitConverter.SingleToInt32Bits(step(model, optimizer, metrics, x, y).Item<float>()));
        }
        return losses;
    }

    private static Dictionary<string, byte[]> Bits(params object[] nodes) =>
        Nnx.State(nodes).ToDictionary(e => e.Path, e => e.Value.ToHost().ToBytes());

    [TestMethod]
    public void TrainingResumedFromACheckpointEqualsUninterruptedTrainingBitForBit()
    {
        var (model, optimizer, metrics) = Create(seed: 0);
        var uninterrupted = Train(model, optimizer, metrics, 0, 200);

        var (m1, o1, mm1) = Create(seed: 0);
        var first = Train(m1, o1, mm1, 0, 100);
        Nnx.Save(File("step_100.safetensors"), m1, o1, mm1);

        // Fresh objects from another seed, so every value must come from the file; a fresh jit traces the step again.
        var (m2, o2, mm2) = Create(seed: 12345);
        Bits(m2, o2, mm2).Should().NotEqual(Bits(m1, o1, mm1));
        var info = Nnx.Load(File("step_100.safetensors"), m2, o2, mm2);
        info.Step.Should().Be(100);
        Bits(m2, o2, mm2).Should().BeEquivalentTo(Bits(m1, o1, mm1), "every variable, rng counters and metric sums included, comes back");
        var second = Train(m2, o2, mm2, 100, 200, freshJit: true);

        first.Concat(second).Should().Equal(uninterrupted, "the 200 losses are the same floats");
        Bits(m2, o2, mm2).Should().BeEquivalentTo(Bits(model, optimizer, metrics), "parameters, Adam's moments, BatchNorm's statistics, rng counters, metrics");
        metrics.Compute()["loss"].Item<float>().Should().Be(mm2.Compute()["loss"].Item<float>());
        o2.Step.Value.Item<uint>().Should().Be(200);
    }

    [TestMethod]
    public void KeysAreTheStatePathsAndOptimizerStateIsKeyedByParameterPath()
    {
        var (model, optimizer, metrics) = Create(seed: 0);
        Train(model, optimizer, metrics, 0, 3);
        Nnx.Save(File("c.safetensors"), model, optimizer, metrics);
        var (state, info) = Nnx.ReadCheckpoint(File("c.safetensors"));
        state.Paths.Should().Contain(["linear/kernel", "bn/mean", "dropout/rngs/default/count", "step",
            "opt_state/0/mu/linear/kernel", "opt_state/0/nu/linear_out/bias", "metrics/loss/total", "metrics/loss/count"]);
        state.Paths.Should().NotContain(p => p.StartsWith("model/", StringComparison.Ordinal), "the optimizer's model is the first object, saved once");
        state.KindOf("bn/mean").Should().Be(typeof(BatchStat));
        state.KindOf("opt_state/0/mu/linear/kernel").Should().Be(typeof(OptState));
        state["opt_state/0/mu/linear/kernel"].ToArray<float>().Should().Equal(optimizer.OptState[0]["mu"]["linear/kernel"].Value.ToArray<float>());
        info.Step.Should().Be(3);
        info.NnxVersion.Should().Be(Nnx.Version);
        info.GraphDefFingerprint.Should().MatchRegex("^[0-9a-f]{16}$");
        info.Roots.Should().Equal("SeedModel", "Optimizer", "MultiMetric");
        info.SameStructureAs(model, optimizer, metrics).Should().BeTrue();
        model.Eval();
        info.SameStructureAs(model, optimizer, metrics).Should().BeFalse("the training flag is part of the structure");

        Nnx.Save(File("m.safetensors"), model);
        Nnx.ReadCheckpoint(File("m.safetensors")).State.Paths.Should().Contain("linear/kernel").And.NotContain("step");
        Nnx.ReadCheckpoint(File("m.safetensors")).Info.Step.Should().BeNull();
    }

    [TestMethod]
    public void ALoadThatDoesNotFitNamesEveryMismatchAndWritesNothing()
    {
        var (model, optimizer, metrics) = Create(seed: 0);
        Nnx.Save(File("c.safetensors"), model, optimizer, metrics);
        var (wide, wideOpt, wideMetrics) = Create(seed: 1, width: 8);
        var before = Bits(wide, wideOpt, wideMetrics);
        var act = () => Nnx.Load(File("c.safetensors"), wide, wideOpt, wideMetrics);
        act.Should().Throw<InvalidOperationException>()
            .WithMessage("Nnx.Load: '*c.safetensors' does not fit SeedModel, Optimizer, MultiMetric: * mismatches: *")
            .WithMessage("*'linear/kernel' is f32[2,16] in the file but f32[2,8] in the target (other shape)*")
            .WithMessage("*'opt_state/0/mu/linear/kernel' is f32[2,16] in the file but f32[2,8]*");
        Bits(wide, wideOpt, wideMetrics).Should().BeEquivalentTo(before, "nothing is written when anything mismatches");

        var (m2, o2, _) = Create(seed: 1);
        FluentActions.Invoking(() => Nnx.Load(File("c.safetensors"), m2, o2)).Should().Throw<InvalidOperationException>()
            .WithMessage("*unexpected 'metrics/loss/total' (f32[])*The file was saved from SeedModel,Optimizer,MultiMetric*");
        Nnx.Save(File("m.safetensors"), m2);
        FluentActions.Invoking(() => Nnx.Load(File("m.safetensors"), m2, o2)).Should().Throw<InvalidOperationException>()
            .WithMessage("*missing 'step' (OptState u32[])*missing 'opt_state/0/mu/linear/kernel' (OptState f32[2,16])*");

        // Another dtype at the same path.
        SafeTensors.Save(File("d.safetensors"), Nnx.State(m2).Select(e => new KeyValuePair<string, HostArray>(e.Path,
            e.Path == "linear/bias" ? e.Value.Cast(DType.Float64).ToHost() : e.Value.ToHost())));
        FluentActions.Invoking(() => Nnx.Load(File("d.safetensors"), m2)).Should().Throw<InvalidOperationException>()
            .WithMessage("*'linear/bias' is f64[16] in the file but f32[16] in the target (other dtype)*");
        FluentActions.Invoking(() => Nnx.Load(File("none.safetensors"), m2)).Should().Throw<FileNotFoundException>();
    }

    [TestMethod]
    public void AFilterLoadsASubsetForFineTuning()
    {
        var (model, optimizer, metrics) = Create(seed: 0);
        Train(model, optimizer, metrics, 0, 5);
        Nnx.Save(File("c.safetensors"), model, optimizer, metrics);
        var fresh = new SeedModel(2, 16, 3, new Rngs(99));
        var stats = fresh.Bn.Mean.Value.ToArray<float>();
        Nnx.Load(File("c.safetensors"), fresh, Filter.Of<Param>()).Step.Should().Be(5);
        fresh.Linear.Kernel.Value.ToArray<float>().Should().Equal(model.Linear.Kernel.Value.ToArray<float>());
        fresh.LinearOut.Bias!.Value.ToArray<float>().Should().Equal(model.LinearOut.Bias!.Value.ToArray<float>());
        fresh.Bn.Mean.Value.ToArray<float>().Should().Equal(stats, "batch statistics were not selected");
        fresh.Linear.Kernel.Value.Device().Should().Be(Device.Cpu, "loaded state lands on the device the target's values are on");
    }

    [TestMethod]
    public void AFailedSaveLeavesThePreviousCheckpointReadable()
    {
        var (model, optimizer, metrics) = Create(seed: 0);
        var path = File("c.safetensors");
        Nnx.Save(path, model, optimizer, metrics);
        var saved = Bits(model, optimizer, metrics);
        Train(model, optimizer, metrics, 0, 2);
        model.LinearOut.Kernel.Value.Dispose();   // the write fails when it reaches this tensor, after others were written
        FluentActions.Invoking(() => Nnx.Save(path, model, optimizer, metrics)).Should().Throw<InvalidOperationException>()
            .WithMessage("Nnx.Save: cannot read 'linear_out/kernel': *disposed*");
        var (m2, o2, mm2) = Create(seed: 3);
        Nnx.Load(path, m2, o2, mm2).Step.Should().Be(0);
        Bits(m2, o2, mm2).Should().BeEquivalentTo(saved);
        Directory.GetFiles(_folder).Should().Equal([path], "the temporary file is removed");
    }

    [TestMethod]
    public void TwoObjectsWithTheSamePathsCannotShareAFile()
    {
        var (a, b) = (new SeedModel(2, 4, 3, new Rngs(0)), new SeedModel(2, 4, 3, new Rngs(1)));
        FluentActions.Invoking(() => Nnx.Save(File("x.safetensors"), a, b)).Should().Throw<ArgumentException>()
            .WithMessage("Nnx.Save: objects 0 (SeedModel) and 1 (SeedModel) both have the path 'linear/kernel'*");
    }
}
