using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace NnxSharp.Benchmarks;

/// <summary>
/// An exported training step run with ONNX Runtime's own API, as a user without Nnx would run it: the state
/// in two sets of OrtValues, two IOBindings made once (inputs A → outputs B, and B → A), and per step only the
/// batch bound and one <c>RunWithBinding</c>. Inputs are the state by path (<c>model/…</c>, <c>optimizer/…</c>)
/// and the batch (<c>x</c>, <c>y</c>); outputs are <c>new/</c> + the path of each changed variable, and <c>out</c>.
/// </summary>
public sealed class RawStep : IDisposable
{
    private readonly InferenceSession _train;
    private readonly InferenceSession _test;
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<string, OrtValue> _a = [];
    private readonly Dictionary<string, OrtValue> _b = [];
    private readonly OrtValue _loss;
    private readonly OrtIoBinding[] _bindings;
    private readonly string[] _testInputs;
    private int _steps;

    /// <summary>
    /// Loads both graphs and takes the initial state from the objects. The training graph's session uses
    /// <paramref name="trainOptions"/> when given (the profile's), else the options of <see cref="Options"/>(1).
    /// </summary>
    public RawStep(string trainPath, string testPath, SeedMlp model, Optimizer optimizer, SessionOptions? trainOptions = null)
    {
        using var options = Options(1);
        _train = new InferenceSession(trainPath, trainOptions ?? options);
        _test = new InferenceSession(testPath, options);
        var initial = new Dictionary<string, Tensor>();
        foreach (var e in Nnx.State(model)) initial[$"model/{e.Path}"] = e.Value;
        foreach (var e in Nnx.State(optimizer)) initial.TryAdd($"optimizer/{e.Path}", e.Value);

        var outputs = _train.OutputMetadata.Keys.ToHashSet();
        foreach (var name in _train.InputMetadata.Keys.Where(n => n is not ("x" or "y")))
        {
            var host = initial[name].ToHost();
            _a[name] = Create(host.Aval, host.ToBytes());
            if (outputs.Contains($"new/{name}")) _b[name] = Create(host.Aval, new byte[host.ToBytes().Length]);
        }
        _loss = OrtValue.CreateTensorValueFromMemory(new float[1], []);
        _bindings = [Bind(_a, _b), Bind(_b, _a)];
        _testInputs = [.. _test.InputMetadata.Keys];
    }

    /// <summary>The loss of the last step (read from its buffer).</summary>
    public float Loss => _loss.GetTensorDataAsSpan<float>()[0];

    /// <summary>One training step on a batch.</summary>
    public void Train(OrtValue x, OrtValue y)
    {
        var binding = _bindings[_steps++ & 1];
        binding.BindInput("x", x);
        binding.BindInput("y", y);
        _train.RunWithBinding(_runOptions, binding);
    }

    /// <summary>Binds one batch into both bindings, for repeated <see cref="Step"/> calls on it.</summary>
    public void BindBatch(OrtValue x, OrtValue y)
    {
        foreach (var b in _bindings)
        {
            b.BindInput("x", x);
            b.BindInput("y", y);
        }
    }

    /// <summary>One training step on the batch bound by <see cref="BindBatch"/>: only <c>RunWithBinding</c>.</summary>
    public void Step() => _train.RunWithBinding(_runOptions, _bindings[_steps++ & 1]);

    /// <summary>The test loss with the current parameters.</summary>
    public float Test(OrtValue x, OrtValue y)
    {
        var current = (_steps & 1) == 1 ? _b : _a;
        var values = _testInputs.Select(n => n switch { "x" => x, "y" => y, _ => current.GetValueOrDefault(n) ?? _a[n] }).ToArray();
        using var results = _test.Run(_runOptions, _testInputs, values, ["out"]);
        return results[0].GetTensorDataAsSpan<float>()[0];
    }

    /// <summary>
    /// Nnx's session settings (optimisation level ALL, sequential) with <paramref name="threads"/> intra-op threads and
    /// the <see cref="ConfigEntries"/>.
    /// </summary>
    public static SessionOptions Options(int threads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
        };
        foreach (var (key, value) in ConfigEntries) options.AddSessionConfigEntry(key, value);
        return options;
    }

    /// <summary>Session config entries added to every session of <see cref="Options"/> (<c>simple --ort-config KEY=VALUE</c>).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ConfigEntries { get; set; } = [];

    /// <summary>Ends the training session's profiling (when its options enabled it); returns the profile's file.</summary>
    public string EndProfiling() => _train.EndProfiling();

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _bindings) b.Dispose();
        foreach (var v in _a.Values.Concat(_b.Values)) v.Dispose();
        _loss.Dispose();
        _runOptions.Dispose();
        _train.Dispose();
        _test.Dispose();
    }

    private OrtIoBinding Bind(Dictionary<string, OrtValue> from, Dictionary<string, OrtValue> to)
    {
        var binding = _train.CreateIoBinding();
        foreach (var (name, value) in _a) binding.BindInput(name, from.GetValueOrDefault(name) ?? value);
        foreach (var name in _b.Keys) binding.BindOutput($"new/{name}", to[name]);
        binding.BindOutput("out", _loss);
        return binding;
    }

    private static OrtValue Create(Aval aval, byte[] bytes)
    {
        var type = aval.DType switch
        {
            DType.Float32 => TensorElementType.Float,
            DType.Int32 => TensorElementType.Int32,
            DType.UInt32 => TensorElementType.UInt32,
            DType.Int64 => TensorElementType.Int64,
            DType.Float64 => TensorElementType.Double,
            _ => throw new NotSupportedException($"raw mode: state of dtype {aval.DType}"),
        };
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, aval.Shape.ToLongArray());
        bytes.CopyTo(value.GetTensorMutableRawData());
        return value;
    }
}
