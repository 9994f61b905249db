using System.Diagnostics;
using System.Globalization;
using NnxSharp.Data;

namespace NnxSharp.Benchmarks;

/// <summary>
/// The Fashion-MNIST convnet's training step (Adam, cross-entropy, batch 128) timed four ways, alternating
/// A B C D A B C D in rounds: Nnx as <c>Conv</c> lowers by default (<c>nnx</c>), Nnx with every convolution as the
/// conv_general primitive (<c>nnx-conv</c>: ONNX Runtime's NCHWc kernels where they apply), Nnx with every one as
/// im2col (<c>nnx-im2col</c>), and the same model and loop in PyTorch (torch_convnet.py, run with /usr/bin/python3 at the same thread count:
/// <c>--threads T</c> sets ONNX Runtime's intra-op threads and PyTorch's). Prints each round's µs per step and the
/// median ratios, and the epoch time (468 steps) they imply; PyTorch is compared with <c>nnx</c>.
/// <c>--modes</c> picks a subset; <c>--ir PREFIX</c> writes each Nnx mode's IR after the passes to PREFIX.MODE.txt; <c>--profile DIR</c> prints ONNX Runtime's per-operator profile of each Nnx mode
/// instead (<see cref="ConvnetProfile"/>).
/// </summary>
public static class ConvnetCommand
{
    public static int Run(string[] args)
    {
        var (steps, rounds, batch, threads) = (30, 3, 128, 1);
        var data = "/usr/share/datasets/fashion-mnist";
        var torch = true;
        string? profile = null;
        string? irPath = null;
        string[] only = [];
        for (var i = 0; i < args.Length; i++)
        {
            int Int() => int.Parse(args[++i], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--steps": steps = Int(); break;
                case "--rounds": rounds = Int(); break;
                case "--batch": batch = Int(); break;
                case "--threads": threads = Int(); break;
                case "--data": data = args[++i]; break;
                case "--no-torch": torch = false; break;
                case "--profile": profile = args[++i]; break;
                case "--modes": only = args[++i].Split(','); break;
                case "--ir": irPath = args[++i]; break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}; options: --steps S --rounds R --batch B --threads T (both frameworks') --data DIR --no-torch --modes a,b (a subset) --ir PREFIX (writes PREFIX.MODE.txt, each mode's IR after the passes) --profile DIR (ONNX Runtime's per-op profile of each Nnx mode instead)");
                    return 2;
            }
        }
        var warmup = 5;
        Nnx.Config.IntraOpThreads = threads;
        var (x, y) = Batches(data, batch, steps + warmup);
        var modes = new List<(string Name, Func<int, double> Time)>();
        foreach (var (name, useIm2Col) in new (string, bool?)[] { ("nnx", null), ("nnx-conv", false), ("nnx-im2col", true) })
        {
            if (only.Length > 0 && !only.Contains(name)) continue;
            var (step, state) = NnxStep(useIm2Col);
            if (irPath is not null) File.WriteAllText($"{irPath}.{name}.txt", step.Lower([.. state, x[0], y[0]]));
            if (profile is not null) ConvnetProfile.Run(step, [.. state, x[0], y[0]], name, steps, threads, profile);
            else modes.Add((name, Timer(step, state, x, y, warmup)));
        }
        if (profile is not null) return 0;
        if (torch && (only.Length == 0 || only.Contains("torch"))) modes.Add(("torch", n => TorchRound(n, warmup, batch, threads, data)));
        var times = modes.ToDictionary(m => m.Name, _ => new List<double>());
        for (var r = 1; r <= rounds; r++)
            foreach (var (name, time) in modes)
            {
                var us = time(steps);
                times[name].Add(us);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {r} {name,-10} {us,10:F0} µs/step"));
            }
        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        var medians = times.ToDictionary(t => t.Key, t => Median(t.Value));
        var line = string.Create(CultureInfo.InvariantCulture, $"RESULT convnet batch={batch} steps={steps} rounds={rounds} threads={threads}");
        foreach (var (name, us) in medians) line += string.Create(CultureInfo.InvariantCulture, $" {name.Replace('-', '_')}_us={us:F0}");
        if (medians.TryGetValue("nnx-conv", out var conv) && medians.TryGetValue("nnx-im2col", out var im2col))
            line += string.Create(CultureInfo.InvariantCulture, $" im2col_over_conv={im2col / conv:F2}");
        // PyTorch against what a user gets (the layer's default lowering), or the faster of the lowerings timed.
        var nnx = medians.TryGetValue("nnx", out var chosen) ? chosen
            : medians.Where(m => m.Key.StartsWith("nnx", StringComparison.Ordinal)).Select(m => m.Value).DefaultIfEmpty(double.NaN).Min();
        if (medians.TryGetValue("torch", out var t))
            line += string.Create(CultureInfo.InvariantCulture,
                $" torch_over_nnx={t / nnx:F2} epoch_s_nnx={nnx * 468 / 1e6:F1} epoch_s_torch={t * 468 / 1e6:F1}");
        Console.WriteLine(line);
        return 0;
    }

    /// <summary>The first images and labels of the training set, or random ones when the files are absent.</summary>
    private static (Tensor[] X, Tensor[] Y) Batches(string dir, int batch, int count)
    {
        var images = Path.Combine(dir, "train-images-idx3-ubyte.gz");
        ArrayDataset ds;
        if (File.Exists(images)) ds = IdxDataset.Load(images, Path.Combine(dir, "train-labels-idx1-ubyte.gz")).Slice(0, batch * count);
        else
        {
            Console.WriteLine($"({dir} has no Fashion-MNIST: random images)");
            var rng = new Random(0);
            ds = new ArrayDataset(
                DataColumn.Create(Enumerable.Range(0, batch * count * 784).Select(_ => (float)rng.NextDouble()).ToArray(), batch * count, 28, 28, 1),
                DataColumn.Create(Enumerable.Range(0, batch * count).Select(_ => rng.Next(10)).ToArray(), batch * count));
        }
        var all = ds.Batches(batch, Prng.Key(0), dropLast: true).ToArray();
        return ([.. all.Select(b => b[0])], [.. all.Select(b => b[1])]);
    }

    /// <summary>The convnet, its Adam optimizer and the jitted training step (its convolutions lowered either way).</summary>
    private static (Action<ConvnetModel, Optimizer, Tensor, Tensor> Step, object[] State) NnxStep(bool? im2col)
    {
        var model = new ConvnetModel(new Rngs(0), im2col);
        var optimizer = new Optimizer(model, Optax.Adam(1e-3));
        var step = Nnx.Jit((ConvnetModel m, Optimizer opt, Tensor x, Tensor y) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<ConvnetModel>(mod => Losses.SoftmaxCrossEntropyWithIntegerLabels(mod.Call(x), y).Mean())(m);
            opt.Update(grads);
        });
        return (step, [model, optimizer]);
    }

    /// <summary>A timer of n training steps (after a compile and warm-up on the first call) in µs per step.</summary>
    private static Func<int, double> Timer(Action<ConvnetModel, Optimizer, Tensor, Tensor> step, object[] state, Tensor[] xs, Tensor[] ys, int warmup)
    {
        var (model, optimizer) = ((ConvnetModel)state[0], (Optimizer)state[1]);
        var warm = false;
        return n =>
        {
            if (!warm)
            {
                for (var i = 0; i < warmup; i++) step(model, optimizer, xs[i], ys[i]);
                warm = true;
            }
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < n; i++) step(model, optimizer, xs[warmup + i], ys[warmup + i]);
            return clock.Elapsed.TotalMicroseconds / n;
        };
    }

    private static double TorchRound(int steps, int warmup, int batch, int threads, string data)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Convnet", "torch_convnet.py");
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { script, "--steps", $"{steps}", "--warmup", $"{warmup}", "--batch", $"{batch}", "--threads", $"{threads}", "--data", data },
            RedirectStandardOutput = true,
        };
        info.Environment["OMP_NUM_THREADS"] = $"{threads}";
        info.Environment["OPENBLAS_NUM_THREADS"] = $"{threads}";
        info.Environment["MALLOC_MMAP_THRESHOLD_"] = "1000000000";
        info.Environment["MALLOC_TRIM_THRESHOLD_"] = "4000000000";
        using var p = Process.Start(info) ?? throw new InvalidOperationException("could not start /usr/bin/python3");
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"torch_convnet.py printed no RESULT line (exit code {p.ExitCode}): {output}");
        var us = line.Split(' ').First(t => t.StartsWith("us_per_step=", StringComparison.Ordinal))["us_per_step=".Length..];
        return double.Parse(us, CultureInfo.InvariantCulture);
    }
}
