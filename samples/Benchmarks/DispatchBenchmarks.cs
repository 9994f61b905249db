using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Benchmarks;

/// <summary>
/// One cached call of a jitted step (BENCHMARKS.md §2): what the wrapper costs on top of ONNX Runtime — the
/// graph walk or structure check, cache lookup, binding and write-back — and the managed bytes it allocates.
/// Two steps: a trivial one (the model's call counter + 1: one node) and the seed's training step at width 32,
/// depth 5, batch 32; each as <c>auto</c> (Nnx.Jit), <c>manual</c> (Jit.Pure over GraphDef and State) and
/// <c>raw</c> (the exported graph run with ONNX Runtime's IOBinding).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DispatchBenchmarks
{
    private SeedMlp _model = null!;
    private Optimizer _optimizer = null!;
    private Tensor _x = null!, _y = null!;
    private Func<SeedMlp, Optimizer, Tensor, Tensor, Tensor> _autoStep = null!;
    private Action<SeedMlp> _autoCount = null!;
    private Func<GraphDef, State, Tensor, Tensor, (State, Tensor)> _manualStep = null!;
    private Func<GraphDef, State, State> _manualCount = null!;
    private GraphDef _graphdef = null!, _countDef = null!;
    private State _state = null!, _countState = null!;
    private RawStep _raw = null!;
    private OrtValue _rawX = null!, _rawY = null!;
    private string _dir = null!;

    [GlobalSetup]
    public void Setup()
    {
        var data = SeedData.Create(1, 32);
        (_x, _y) = data.Tensors()[0];
        (_model, _optimizer) = SeedModes.Create(32, 5);
        _autoStep = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
        _autoCount = Nnx.Jit((SeedMlp m) => { m.Count.Value = m.Count.Value + 1; });

        (_graphdef, _state) = Nnx.Split(_model, _optimizer);
        _manualStep = Jit.Pure((GraphDef g, State s, Tensor x, Tensor y) =>
        {
            var (model, optimizer) = Nnx.Merge<SeedMlp, Optimizer>(g, s);
            var loss = SeedMlp.TrainStep(model, optimizer, x, y);
            return (Nnx.Split(model, optimizer).State, loss);
        });
        (_countDef, _countState) = Nnx.Split(_model);
        _manualCount = Jit.Pure((GraphDef g, State s) =>
        {
            var model = Nnx.Merge<SeedMlp>(g, s);
            model.Count.Value = model.Count.Value + 1;
            return Nnx.Split(model).State;
        });

        _dir = Directory.CreateTempSubdirectory("nnx-dispatch-").FullName;
        var (all, allY) = data.All();
        var (rawModel, rawOptimizer) = SeedModes.Create(32, 5);
        var train = Path.Combine(_dir, "train.onnx");
        var test = Path.Combine(_dir, "test.onnx");
        _autoStep.Export(train, rawModel, rawOptimizer, _x, _y);
        Nnx.Jit<SeedMlp, Tensor, Tensor, Tensor>(SeedMlp.TestStep).Export(test, rawModel, all, allY);
        _raw = new RawStep(train, test, rawModel, rawOptimizer);
        _rawX = OrtValue.CreateTensorValueFromMemory(data.BatchX[0], [32, 1]);
        _rawY = OrtValue.CreateTensorValueFromMemory(data.BatchY[0], [32, 1]);
        _raw.BindBatch(_rawX, _rawY);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _rawX.Dispose();
        _rawY.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The trivial step through Nnx.Jit.</summary>
    [Benchmark]
    [BenchmarkCategory("trivial")]
    public void TrivialAuto() => _autoCount(_model);

    /// <summary>The trivial step through Jit.Pure with Merge/Split inside.</summary>
    [Benchmark]
    [BenchmarkCategory("trivial")]
    public void TrivialManual() => _countState = _manualCount(_countDef, _countState);

    /// <summary>The seed's step through Nnx.Jit.</summary>
    [Benchmark]
    [BenchmarkCategory("seed")]
    public Tensor SeedAuto() => _autoStep(_model, _optimizer, _x, _y);

    /// <summary>The seed's step through Jit.Pure with Merge/Split inside.</summary>
    [Benchmark]
    [BenchmarkCategory("seed")]
    public Tensor SeedManual()
    {
        (_state, var loss) = _manualStep(_graphdef, _state, _x, _y);
        return loss;
    }

    /// <summary>The seed's step exported and run with ONNX Runtime's IOBinding: the floor.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("seed")]
    public void SeedRaw() => _raw.Step();
}
