using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Benchmarks;

/// <summary>One mode's run: the median and mean time per step, the last training loss and the last test loss.</summary>
public sealed record ModeResult(string Mode, double MedianUs, double MeanUs, float FinalLoss, float TestLoss, CompileStats? Compile, double BytesPerStep = 0, double BuffersPerStep = 0);

/// <summary>
/// The benchmark's three jitted ways of running the same training step (SGD 1e-3 on MSE, a test step on all 100
/// points every 1000 steps): <c>auto</c> (Nnx.Jit over the objects), <c>manual</c> (Split once, Jit.Pure over
/// GraphDef and State, Merge/Split inside, the state donated so its buffers hold the next state) and <c>raw</c> (the exported step run with ONNX Runtime's own API
/// and IOBinding, state buffers swapped in place); and <c>eager</c>, the step with no jit at all.
/// </summary>
public static class SeedModes
{
    private const int TestEvery = 1000;
    private const int WarmupSteps = 50;

    /// <summary>Whether the manual mode donates its state to Jit.Pure (on by default; <c>--donate off</c> to compare).</summary>
    public static bool Donate { get; set; } = true;

    /// <summary>
    /// The raw mode's intra-op threads: <c>--threads N</c> when given, else 1. The raw mode has only the exported
    /// ONNX file, not the graph whose size picks the jitted modes' threads, so it does not follow that rule.
    /// </summary>
    public static int RawThreads { get; set; } = 1;

    /// <summary>Where each timed step's µs go, one a line (<c>--times FILE</c>; the last mode run overwrites it), or null.</summary>
    public static string? TimesFile { get; set; }

    /// <summary>Runs a mode by name.</summary>
    public static ModeResult Run(string mode, SeedData data, int width, int depth) => mode switch
    {
        "auto" => Auto(data, width, depth),
        "manual" => Manual(data, width, depth),
        "raw" => Raw(data, width, depth),
        "eager" => Eager(data, width, depth),
        _ => throw new ArgumentException($"unknown mode '{mode}' (auto, manual, raw, eager)"),
    };

    /// <summary>A fresh model and optimizer; every mode starts from the same ones.</summary>
    public static (SeedMlp Model, Optimizer Optimizer) Create(int width, int depth)
    {
        var model = new SeedMlp(1, width, 1, depth, new Rngs(0));
        return (model, new Optimizer(model, Optax.Sgd(1e-3)));
    }

    private static ModeResult Auto(SeedData data, int width, int depth)
    {
        var (model, optimizer) = Create(width, depth);
        var trainStep = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
        var testStep = Nnx.Jit<SeedMlp, Tensor, Tensor, Tensor>(SeedMlp.TestStep);
        var batches = data.Tensors();
        var (allX, allY) = data.All();
        Tensor loss = null!;
        var testLoss = float.NaN;
        var times = Time(batches.Length, k =>
        {
            loss = trainStep(model, optimizer, batches[k].X, batches[k].Y);
            if (k % TestEvery == 0) testLoss = testStep(model, allX, allY).Item<float>();
            if (batches.Length >= 100_000 && k % 20_000 == 0) MemoryLine(k);
        });
        return Result("auto", times, loss.Item<float>(), testLoss, trainStep.CompileStats());
    }

    /// <summary>
    /// The same step without any jit: every primitive of the forward pass, the gradients and the update runs at once
    /// on its own, as PyTorch's eager loop does (torch_seed.py), each from the cache of one-primitive executables.
    /// </summary>
    private static ModeResult Eager(SeedData data, int width, int depth)
    {
        var (model, optimizer) = Create(width, depth);
        var batches = data.Tensors();
        var (allX, allY) = data.All();
        Tensor loss = null!;
        var testLoss = float.NaN;
        var times = Time(batches.Length, k =>
        {
            loss = SeedMlp.TrainStep(model, optimizer, batches[k].X, batches[k].Y);
            if (k % TestEvery == 0) testLoss = SeedMlp.TestStep(model, allX, allY).Item<float>();
        });
        // Eager code drops its intermediates to the GC, so the collections are part of its cost (notes/jit.md, "Eager dispatch").
        Console.WriteLine($"  eager: garbage collections gen0/1/2 in the whole run {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
        return Result("eager", times, loss.Item<float>(), testLoss, null);
    }

    private static ModeResult Manual(SeedData data, int width, int depth)
    {
        var (model, optimizer) = Create(width, depth);
        var (graphdef, state) = Nnx.Split(model, optimizer);
        var trainStep = Jit.Pure((GraphDef graphdef, State state, Tensor x, Tensor y) =>
        {
            var (model, optimizer) = Nnx.Merge<SeedMlp, Optimizer>(graphdef, state);
            var loss = SeedMlp.TrainStep(model, optimizer, x, y);
            var (_, newState) = Nnx.Split(model, optimizer);
            return (newState, loss);
        }, donate: Donate ? [1] : []);
        var testStep = Jit.Pure((GraphDef graphdef, State state, Tensor x, Tensor y) =>
        {
            var (model, optimizer) = Nnx.Merge<SeedMlp, Optimizer>(graphdef, state);
            var loss = SeedMlp.TestStep(model, x, y);
            var (_, newState) = Nnx.Split(model, optimizer);
            return (newState, loss);
        }, donate: Donate ? [1] : []);
        var batches = data.Tensors();
        var (allX, allY) = data.All();
        Tensor loss = null!;
        var testLoss = float.NaN;
        var times = Time(batches.Length, k =>
        {
            (state, loss) = trainStep(graphdef, state, batches[k].X, batches[k].Y);
            if (k % TestEvery == 0)
            {
                (state, var t) = testStep(graphdef, state, allX, allY);
                testLoss = t.Item<float>();
            }
        });
        Nnx.Update((model, optimizer), state);
        return Result("manual", times, loss.Item<float>(), testLoss, trainStep.CompileStats());
    }

    /// <summary>
    /// The floor: the auto step exported to .onnx and run by ONNX Runtime directly. Two IOBindings hold the
    /// state as A→B and B→A; each step binds its batch and runs. The test step runs its own exported graph.
    /// </summary>
    private static ModeResult Raw(SeedData data, int width, int depth)
    {
        var (model, optimizer) = Create(width, depth);
        var dir = Directory.CreateTempSubdirectory("nnx-raw-");
        try
        {
            var batches = data.Tensors();
            var (allX, allY) = data.All();
            var trainPath = Path.Combine(dir.FullName, "train_step.onnx");
            var testPath = Path.Combine(dir.FullName, "test_step.onnx");
            Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep).Export(trainPath, model, optimizer, batches[0].X, batches[0].Y);
            Nnx.Jit<SeedMlp, Tensor, Tensor, Tensor>(SeedMlp.TestStep).Export(testPath, model, allX, allY);
            using var trainOptions = RawStep.Options(RawThreads);
            using var raw = new RawStep(trainPath, testPath, model, optimizer, trainOptions);
            var bx = data.BatchX.Select(a => OrtValue.CreateTensorValueFromMemory(a, [a.Length, 1])).ToArray();
            var by = data.BatchY.Select(a => OrtValue.CreateTensorValueFromMemory(a, [a.Length, 1])).ToArray();
            using var tx = OrtValue.CreateTensorValueFromMemory(data.X, [data.X.Length, 1]);
            using var ty = OrtValue.CreateTensorValueFromMemory(data.Y, [data.Y.Length, 1]);
            var testLoss = float.NaN;
            var times = Time(bx.Length, k =>
            {
                raw.Train(bx[k], by[k]);
                if (k % TestEvery == 0) testLoss = raw.Test(tx, ty);
            });
            foreach (var v in bx.Concat(by)) v.Dispose();
            return Result("raw", times, raw.Loss, testLoss, null);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Live ONNX Runtime buffers, managed heap and working set, for runs of 100,000 steps and more.</summary>
    private static void MemoryLine(int step)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Console.WriteLine($"  memory at step {step,6}: {Onnx.OrtBackend.LiveBuffers} live buffers, managed heap {GC.GetTotalMemory(false) / 1024} KiB, working set {Environment.WorkingSet / 1024 / 1024} MiB");
    }

    /// <summary>Per-step times in µs (the first steps, compilation included, are left out).</summary>
    private static double[] Time(int steps, Action<int> step)
    {
        var times = new double[steps];
        var warmup = Math.Min(WarmupSteps, steps / 10);
        long bytes = 0, buffers = 0;
        for (var k = 0; k < steps; k++)
        {
            if (k == warmup) (bytes, buffers) = (GC.GetAllocatedBytesForCurrentThread(), Onnx.OrtBackend.LiveBuffers);
            var start = Stopwatch.GetTimestamp();
            step(k);
            times[k] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        // Managed bytes allocated and native buffers created (net of those freed) per timed step.
        _bytesPerStep = (GC.GetAllocatedBytesForCurrentThread() - bytes) / (double)(steps - warmup);
        _buffersPerStep = (Onnx.OrtBackend.LiveBuffers - buffers) / (double)(steps - warmup);
        if (TimesFile is { } file) File.WriteAllLines(file, times[warmup..].Select(t => t.ToString("F1", CultureInfo.InvariantCulture)));
        return times[warmup..];
    }

    private static double _bytesPerStep;
    private static double _buffersPerStep;

    private static ModeResult Result(string mode, double[] times, float loss, float testLoss, CompileStats? compile)
    {
        var sorted = times.Order().ToArray();
        return new ModeResult(mode, sorted[sorted.Length / 2], times.Average(), loss, testLoss, compile, _bytesPerStep, _buffersPerStep);
    }
}
