// Fashion-MNIST with Nnx: an MLP and a small convnet trained with Nnx.Jit, Adam and MultiMetric, evaluated on
// the test set after every epoch, with a live progress line, loss/accuracy plots and the best epoch kept.
//
//   sudo apt-get install dataset-fashion-mnist          (Debian/Ubuntu: the four .gz IDX files)
//   dotnet run -c Release --project samples/FashionMnist [-- --data DIR] [--model mlp|cnn|both]
//       [--epochs N] [--mlp-epochs N] [--cnn-epochs N] [--batch B] [--lr LR] [--seed S] [--limit N] [--prefetch K] [--out DIR]
//       [--threads T] (ONNX Runtime's intra-op threads; by default 1 for small graphs, every core for large ones)
using System.Diagnostics;
using System.Globalization;
using FashionMnist;
using NnxSharp;
using NnxSharp.Data;

var data = "/usr/share/datasets/fashion-mnist";
var which = "both";
int? epochs = null;
var (mlpEpochs, cnnEpochs) = (10, 5);
var (batch, lr, seed, limit, prefetch) = (128, 1e-3, 0, 0, 1);
var output = "fashion-mnist-out";
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--data": data = Next(); break;
        case "--model": which = Next(); break;
        case "--epochs": epochs = Int(); break;
        case "--mlp-epochs": mlpEpochs = Int(); break;
        case "--cnn-epochs": cnnEpochs = Int(); break;
        case "--batch": batch = Int(); break;
        case "--lr": lr = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = Int(); break;
        case "--limit": limit = Int(); break;
        case "--prefetch": prefetch = Int(); break;
        case "--out": output = Next(); break;
        case "--threads": Nnx.Config.IntraOpThreads = Int(); break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; options: --data DIR --model mlp|cnn|both --epochs N --mlp-epochs N --cnn-epochs N --batch B --lr LR --seed S --limit N --prefetch K --out DIR --threads T");
            return 2;
    }
}
if (which is not ("mlp" or "cnn" or "both"))
{
    Console.Error.WriteLine($"--model must be mlp, cnn or both, not '{which}'");
    return 2;
}

// ---- the data: Debian's dataset-fashion-mnist, or the same four files anywhere ----
string? Find(string stem) => new[] { stem + ".gz", stem }.Select(f => Path.Combine(data, f)).FirstOrDefault(File.Exists);
string[] stems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
var files = stems.Select(Find).ToArray();
if (files.Any(f => f is null))
{
    Console.Error.WriteLine($"Fashion-MNIST is not in {data}: missing {string.Join(", ", stems.Where((_, k) => files[k] is null).Select(s => s + ".gz"))}.");
    Console.Error.WriteLine("Get it with Debian's package (it installs the four files under /usr/share/datasets/fashion-mnist/):");
    Console.Error.WriteLine("    sudo apt-get install dataset-fashion-mnist");
    Console.Error.WriteLine("or download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and");
    Console.Error.WriteLine("t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder");
    Console.Error.WriteLine("and pass it with --data DIR.");
    return 2;
}
var clock = Stopwatch.StartNew();
var train = IdxDataset.Load(files[0]!, files[1]!);                    // [60000, 28, 28, 1] in [0, 1], labels int32
var test = IdxDataset.Load(files[2]!, files[3]!);
if (limit > 0 && limit < train.Count) train = train.Slice(0, limit);
Console.WriteLine($"Fashion-MNIST from {data}: {train.Count} train and {test.Count} test images, read in {clock.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"batch {batch}, Adam lr {lr}, seed {seed}, prefetch {prefetch}, {Environment.ProcessorCount} CPU core(s)");

// ---- train ----
var runs = new List<RunResult>();
var models = new List<(string Name, Module Model)>();
if (which is "mlp" or "both")
{
    var mlp = new Mlp(new Rngs(seed));
    runs.Add(Trainer.Train("mlp", mlp, train, test, new TrainOptions(epochs ?? mlpEpochs, batch, lr, seed, prefetch)));
    models.Add(("mlp", mlp));
}
if (which is "cnn" or "both")
{
    var cnn = new Cnn(new Rngs(seed));
    runs.Add(Trainer.Train("cnn", cnn, train, test, new TrainOptions(epochs ?? cnnEpochs, batch, lr, seed, prefetch)));
    models.Add(("cnn", cnn));
}

// ---- results ----
Console.WriteLine();
Console.WriteLine("model  epochs  best epoch  test acc  test loss  train acc  s/epoch  steps/s  first step (trace+compile)");
foreach (var r in runs)
{
    var b = r.Epochs[r.BestEpoch - 1];
    var perEpoch = r.Epochs.Skip(1).DefaultIfEmpty(r.Epochs[0]).Average(e => e.TrainSeconds);
    var rate = r.Epochs.Average(e => e.StepsPerSecond);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Name,-5}  {r.Epochs.Count,6}  {r.BestEpoch,10}  {b.TestAccuracy,8:P2}  {b.TestLoss,9:F4}  {b.TrainAccuracy,9:P2}  {perEpoch,7:F1}  {rate,7:F0}  {r.CompileSeconds,6:F2} s"));
}
foreach (var r in runs)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{r.Name}: batches prepared on a worker in {r.PrepareSeconds:F2} s, of which the training loop waited {r.WaitSeconds:F2} s ({1 - r.WaitSeconds / Math.Max(r.PrepareSeconds, 1e-9):P0} hidden behind the steps)"));

var (lossPng, accuracyPng) = Plots.Write(output, runs);
Console.WriteLine($"plots: {Path.GetFullPath(lossPng)}, {Path.GetFullPath(accuracyPng)}");
foreach (var (name, model) in models)
    SaveBestCheckpoint(Path.Combine(output, $"{name}_best.safetensors"), model);
return 0;

// The models hold their best epoch's state (Trainer restores it): save it, then read it back as a user
// resuming or fine-tuning would (Nnx.Load validates every path, shape and dtype against the model).
static void SaveBestCheckpoint(string path, Module model)
{
    Nnx.Save(path, model);
    var info = Nnx.Load(path, model);
    Console.WriteLine($"checkpoint of the best epoch: {Path.GetFullPath(path)} ({new FileInfo(path).Length / 1024} KiB, structure {info.GraphDefFingerprint}, read back and checked)");
}
