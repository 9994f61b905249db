// The seed's two programs (../shared/API.md): the same training step run automatically with Nnx.Jit over the
// objects, and manually with Split once, Jit.Pure over (GraphDef, State) and Merge/Split inside. Both start from
// the same seed and see the same batches, so they print the same losses.
//
//   dotnet run -c Release --project samples/SimpleTraining [-- --steps N] [--device cpu|cuda|cuda:N] [--export DIR]
//   (CUDA: add -p:NnxGpu=true to the dotnet run command, for ONNX Runtime's GPU native package)
using System.Globalization;
using NnxSharp;
using SimpleTraining;

var steps = 300;
var device = "cpu";
string? exportDir = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--steps": steps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--device": device = args[++i]; break;
        case "--export": exportDir = args[++i]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}; options: --steps N, --device cpu|cuda|cuda:N, --export DIR"); return 2;
    }
}
// cpu, cuda or cuda:N; CUDA needs the GPU native package (build with -p:NnxGpu=true) and says what is missing.
Device selected;
try
{
    selected = Device.Parse(device);
}
catch (Exception e) when (e is InvalidOperationException or ArgumentException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
using var scope = selected;
Console.WriteLine($"device: {selected}");

// A regression problem: y = (x0·x1, x0 + x1, x0 − x1) + noise, batches of 32 drawn from a fixed key.
(Tensor X, Tensor Y) Batch(int step)
{
    var key = Prng.FoldIn(Prng.Key(42), step);
    var x = Prng.Normal(Prng.FoldIn(key, 0), [32, 2]);
    var (x0, x1) = (x.Slice([0, 0], [32, 1]), x.Slice([0, 1], [32, 2]));
    var y = Tensor.Concat(1, x0 * x1, x0 + x1, x0 - x1) + 0.05 * Prng.Normal(Prng.FoldIn(key, 1), [32, 3]);
    return (x, y);
}
var batches = Enumerable.Range(0, steps).Select(Batch).ToArray();
var every = Math.Max(1, steps / 10);

// ---- Automatic: Nnx.Jit over modules ----
Console.WriteLine("Nnx.Jit over (model, optimizer, metrics, x, y):");
var model = new Model(2, 64, 3, new Rngs(0));                 // eager initialisation
var optimizer = new Optimizer(model, Optax.Adam(1e-3));       // holds the same model (reference sharing)
var metrics = new MultiMetric(("loss", new Average()));

var trainStep = Nnx.Jit((Model model, Optimizer optimizer, MultiMetric metrics, Tensor x, Tensor y) =>
{
    Tensor LossFn(Model m) => (m.Call(x) - y).Square().Mean();
    var (loss, grads) = Nnx.ValueAndGrad<Model>(LossFn)(model);
    optimizer.Update(grads);                                  // in-place updates
    metrics.Update(("loss", loss));
    return loss;
});

var autoLosses = new float[steps];
for (var i = 0; i < steps; i++)
{
    var (x, y) = batches[i];
    var loss = trainStep(model, optimizer, metrics, x, y);
    autoLosses[i] = loss.Item<float>();
    if ((i + 1) % every == 0)
        Console.WriteLine($"  step {i + 1,4}: loss {autoLosses[i]:F5}   mean loss since the last report {metrics.Compute()["loss"].Item<float>():F5}");
    if ((i + 1) % every == 0) metrics.Reset();
}
Console.WriteLine($"  first call: {trainStep.CompileStats()}; traced {trainStep.TraceCount()} time(s)");

// ---- Manual: Split once, Jit.Pure, Merge/Split inside (they cost nothing after tracing) ----
Console.WriteLine("\nJit.Pure over (graphdef, state, x, y) with Merge/Split inside:");
var model2 = new Model(2, 64, 3, new Rngs(0));
var optimizer2 = new Optimizer(model2, Optax.Adam(1e-3));
var metrics2 = new MultiMetric(("loss", new Average()));
var (graphdef, state) = Nnx.Split(model2, optimizer2, metrics2);

var manualStep = Jit.Pure((GraphDef graphdef, State state, Tensor x, Tensor y) =>
{
    var (model, optimizer, metrics) = Nnx.Merge<Model, Optimizer, MultiMetric>(graphdef, state);
    Tensor LossFn(Model m) => (m.Call(x) - y).Square().Mean();
    var (loss, grads) = Nnx.ValueAndGrad<Model>(LossFn)(model);
    optimizer.Update(grads);
    metrics.Update(("loss", loss));
    var (_, newState) = Nnx.Split(model, optimizer, metrics);
    return (newState, loss);
});

var maxDifference = 0f;
for (var i = 0; i < steps; i++)
{
    var (x, y) = batches[i];
    (state, var loss) = manualStep(graphdef, state, x, y);
    var value = loss.Item<float>();
    maxDifference = Math.Max(maxDifference, Math.Abs(value - autoLosses[i]));
    if ((i + 1) % every == 0) Console.WriteLine($"  step {i + 1,4}: loss {value:F5}");
}
Nnx.Update((model2, optimizer2, metrics2), state);              // objects catch up after training
Console.WriteLine($"\nlargest difference between the two paths' losses over {steps} steps: {maxDifference:G3}");
Console.WriteLine($"optimizer steps: automatic {optimizer.Step.Value.Item<uint>()}, manual {optimizer2.Step.Value.Item<uint>()}");

// ---- Beyond the seed: the IR and a standard .onnx of the whole step ----
var (bx, by) = batches[0];
var ir = trainStep.Lower(model, optimizer, metrics, bx, by);
Console.WriteLine($"\nThe step's IR after the passes: {ir[..ir.IndexOf('\n')]}");
if (exportDir is not null)
{
    Directory.CreateDirectory(exportDir);
    var path = Path.Combine(exportDir, "train_step.onnx");
    trainStep.Export(path, model, optimizer, metrics, bx, by);
    Console.WriteLine($"exported the training step to {path}");
}
return maxDifference == 0 ? 0 : 1;
