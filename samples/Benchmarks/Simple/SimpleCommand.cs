using System.Diagnostics;
using System.Globalization;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>simple</c>: the seed's benchmark (BENCHMARKS.md §1 and §3). Each mode trains the same model on the same
/// batches and prints µs per step; <c>--sweep</c> runs every mode over widths 32…2048 and writes a CSV and a
/// PNG like the seed's graph; the first call's compile time is printed by phase.
/// <code>dotnet run -c Release --project samples/Benchmarks -- simple --mode auto|manual|raw|eager|all --width W --depth D
///     --batch B --steps S [--device cpu|cuda|cuda:N] [--cuda-graphs] [--sweep] [--out DIR]</code>
/// <c>--compute</c> (implied by <c>--sweep</c>) compares the step's GFLOP/s with one 2048×2048 MatMul's on the same threads;
/// without <c>--sweep</c> it then also alternates runs of the step with the MatMul in rounds and prints the median ratio.
/// <c>--profile DIR</c> prints ONNX Runtime's per-operator profile of the exported step instead (<see cref="StepProfile"/>).
/// <c>--ort-config KEY=VALUE</c> (repeatable) adds an ONNX Runtime session config entry to the raw mode's and the profile's
/// training session (an experiment: <c>session.dynamic_block_base=4</c>, <c>session.intra_op.allow_spinning=0</c>).
/// <c>--threads N</c> sets every mode's intra-op threads, the raw mode's included (which runs 1 thread without it);
/// <c>--threads auto</c> (the default) lets the jitted modes choose by the graph's size.
/// <c>--cuda-graphs</c> runs the auto mode's jitted steps as captured CUDA graphs (CudaOptions.CudaGraphs).
/// <c>--elementwise interpreted|compiled</c> runs the fused elementwise clusters interpreted, or compiled from their first
/// run, instead of tiered (interpreted for a few runs, then compiled in the background: CpuKernels.ElementwiseCompiler.cs).
/// <c>--times FILE</c> writes every timed step's µs, one a line (to see the first steps' warm-up against the rest).
/// </summary>
public static class SimpleCommand
{
    private static readonly int[] SweepWidths = [32, 64, 128, 256, 512, 1024, 2048];

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var o = Options.Parse(args);
        Device device;
        try
        {
            device = o.CudaGraphs ? CudaDevice(o.Device) : Device.Parse(o.Device);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        using var scope = device;
        RawStep.ConfigEntries = o.OrtConfig ?? [];
        NnxSharp.Onnx.CpuKernels.Compilation = o.Elementwise switch
        {
            "tiered" => NnxSharp.Onnx.CpuKernels.ElementwiseCompilation.Tiered,
            "interpreted" => NnxSharp.Onnx.CpuKernels.ElementwiseCompilation.Never,
            "compiled" => NnxSharp.Onnx.CpuKernels.ElementwiseCompilation.AtFirstRun,
            _ => throw new ArgumentException($"simple: --elementwise is tiered, interpreted or compiled, not {o.Elementwise}"),
        };
        if (o.Profile is { } dir)
        {
            StepProfile.Run(o.Width, o.Depth, o.Batch, o.Steps, o.Threads ?? 1, dir);
            return 0;
        }
        device.IntraOpThreads = o.Threads;
        SeedModes.Donate = o.Donate;
        SeedModes.RawThreads = o.Threads ?? 1;
        SeedModes.TimesFile = o.Times;
        string[] modes = o.Mode == "all" ? ["auto", "manual", "raw"] : [o.Mode];
        if (device.Kind != "cpu" && modes.Contains("raw"))
        {
            // The raw floor binds host OrtValues; on CUDA it would measure copies, not the step.
            Console.WriteLine("# raw mode runs on the CPU only; measuring auto and manual on the GPU");
            modes = [.. modes.Where(m => m != "raw")];
        }
        Console.WriteLine($"# simple training: depth {o.Depth}, batch {o.Batch}, device {device}{(o.CudaGraphs ? " with CUDA graphs" : "")}, {Environment.ProcessorCount} cores, intra-op threads {(o.Threads is { } t ? t.ToString(CultureInfo.InvariantCulture) : "by graph size")}");
        var rows = new List<(int Width, int Steps, ModeResult Result)>();
        foreach (var width in o.Sweep ? SweepWidths : [o.Width])
        {
            var steps = o.Sweep ? StepsFor(width, o.Steps) : o.Steps;
            var data = SeedData.Create(steps, o.Batch);
            foreach (var mode in modes)
            {
                var r = SeedModes.Run(mode, data, width, o.Depth);
                rows.Add((width, steps, r));
                Report(r, width, o, steps);
            }
            if (modes.Length == 3) Ratios(rows.Where(r => r.Width == width).Select(r => r.Result).ToArray(), width);
        }
        if (o.Sweep)
        {
            Directory.CreateDirectory(o.Out);
            var suffix = device.Kind == "cpu" ? "" : $"_{device.Kind}{(o.CudaGraphs ? "_graphs" : "")}";
            var csv = Path.Combine(o.Out, $"simple_sweep{suffix}.csv");
            File.WriteAllLines(csv, ["width,mode,steps,us_per_step_median,us_per_step_mean,final_loss",
                .. rows.Select(r => string.Create(CultureInfo.InvariantCulture,
                    $"{r.Width},{r.Result.Mode},{r.Steps},{r.Result.MedianUs:F2},{r.Result.MeanUs:F2},{r.Result.FinalLoss:G6}"))]);
            var png = Path.Combine(o.Out, $"simple_sweep{suffix}.png");
            SweepPlot.Write(png, rows.Select(r => (r.Width, r.Result.Mode, r.Result.MedianUs)).ToArray(), o.Depth, o.Batch, device.ToString());
            Console.WriteLine($"wrote {csv} and {png}");
            ComputeBound(rows.Where(r => r.Result.Mode == modes[0]).Select(r => (r.Width, r.Result.MedianUs)).ToArray(), o);
        }
        else if (o.Compute)
        {
            ComputeBound(rows.Where(r => r.Result.Mode == modes[0]).Select(r => (r.Width, r.Result.MedianUs)).ToArray(), o);
            Interleaved(modes[0], o);
        }
        return 0;
    }

    /// <summary>
    /// The step's share of the square MatMul measured in one window: rounds that run the step (a fresh run of the mode,
    /// its median µs) and then time the MatMul, with the ratio taken within each round and its median printed. The
    /// machines are shared: a ratio of two figures taken seconds apart moves with the neighbours, one within a round less.
    /// </summary>
    private static void Interleaved(string mode, Options o, int rounds = 5)
    {
        var steps = Math.Max(20, Math.Min(o.Steps, 60));
        var data = SeedData.Create(steps, o.Batch);
        var flops = 3 * new SeedMlp(1, o.Width, 1, o.Depth, new Rngs(0)).ForwardFlops(o.Batch);
        var square = GemmCeiling.SquareMatMul();
        var ratios = new List<double>();
        Console.WriteLine($"  alternating rounds at width {o.Width} ({mode}, {steps} steps a round, then the MatMul):");
        for (var r = 0; r < rounds; r++)
        {
            var us = SeedModes.Run(mode, data, o.Width, o.Depth).MedianUs;
            var step = flops / (us * 1e-6) / 1e9;
            var matmul = square();
            ratios.Add(step / matmul);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    round {r + 1}: step {us,9:F1} µs = {step,7:F2} GFLOP/s, MatMul {matmul,7:F2} GFLOP/s: {100 * step / matmul,5:F1}%"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  width {o.Width,5}: median over rounds {100 * ratios.Order().ElementAt(rounds / 2),5:F1}% of the MatMul (range {100 * ratios.Min():F1}–{100 * ratios.Max():F1}%)"));
    }

    /// <summary>A CUDA device (cuda or cuda:N) whose jitted module steps run as captured CUDA graphs.</summary>
    private static Device CudaDevice(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        var id = n == "cuda" ? 0 : n.StartsWith("cuda:", StringComparison.Ordinal) ? int.Parse(n[5..], CultureInfo.InvariantCulture)
            : throw new ArgumentException($"--cuda-graphs needs a CUDA device (cuda or cuda:N), not '{name}'.");
        return Device.Cuda(id, options: new CudaOptions { CudaGraphs = true });
    }

    /// <summary>Fewer steps for the wide models (whose steps take milliseconds).</summary>
    private static int StepsFor(int width, int steps) => Math.Max(200, Math.Min(steps, (int)(steps * 64.0 * 64 / ((double)width * width))));

    private static void Report(ModeResult r, int width, Options o, int steps)
    {
        if (r.Compile is { } c) Console.WriteLine($"  first call ({r.Mode}, width {width}): {c}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {r.Mode,-6} width {width,5}: median {r.MedianUs,9:F1} µs/step, mean {r.MeanUs,9:F1} µs/step, final loss {r.FinalLoss:G5}, test loss {r.TestLoss:G5}, {r.BytesPerStep:F0} managed bytes/step, {r.BuffersPerStep:F2} live buffers/step"));
        // On a GPU the line ends with the device and whether CUDA graphs were on; the CPU line is unchanged.
        var gpu = o.Device == "cpu" ? "" : $" device={o.Device} cuda_graphs={(o.CudaGraphs ? 1 : 0)}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT mode={r.Mode} width={width} depth={o.Depth} batch={o.Batch} steps={steps} us_per_step={r.MedianUs:F2} final_loss={r.FinalLoss:G6} us_per_step_mean={r.MeanUs:F2}{gpu}"));
    }

    private static void Ratios(ModeResult[] r, int width)
    {
        var (auto, manual, raw) = (r.Single(x => x.Mode == "auto"), r.Single(x => x.Mode == "manual"), r.Single(x => x.Mode == "raw"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  width {width}: auto/manual = {auto.MedianUs / manual.MedianUs:F3}, manual/raw = {manual.MedianUs / raw.MedianUs:F3}, auto/raw = {auto.MedianUs / raw.MedianUs:F3}; " +
            $"same losses: auto {auto.FinalLoss:G7}, manual {manual.FinalLoss:G7}, raw {raw.FinalLoss:G7}"));
    }

    /// <summary>
    /// Achieved GFLOP/s of the step at each width against one 2048×2048 MatMul on the same machine, and the step's
    /// own products alone at the widest width (<see cref="GemmCeiling"/>).
    /// </summary>
    private static void ComputeBound((int Width, double Us)[] rows, Options o)
    {
        var peak = GemmCeiling.Run(rows.Max(r => r.Width), o.Batch);
        foreach (var (width, us) in rows)
        {
            var model = new SeedMlp(1, width, 1, o.Depth, new Rngs(0));
            var flops = 3 * model.ForwardFlops(o.Batch);
            var achieved = flops / (us * 1e-6) / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  width {width,5}: {flops / 1e6,9:F2} MFLOP/step, {achieved,7:F2} GFLOP/s = {100 * achieved / peak,5:F1}% of the MatMul"));
        }
    }

    /// <summary>The command line.</summary>
    private sealed record Options(string Mode, int Width, int Depth, int Batch, int Steps, string Device, bool Sweep, string Out, bool CudaGraphs = false, int? Threads = null, bool Donate = true, bool Compute = false, string? Profile = null, IReadOnlyList<KeyValuePair<string, string>>? OrtConfig = null, string? Times = null, string Elementwise = "tiered")
    {
        /// <summary>A session config entry written KEY=VALUE.</summary>
        private static KeyValuePair<string, string> ConfigEntry(string text) => text.IndexOf('=', StringComparison.Ordinal) is var k and > 0
            ? new(text[..k], text[(k + 1)..])
            : throw new ArgumentException($"simple: --ort-config takes KEY=VALUE, not {text}");

        public static Options Parse(string[] args)
        {
            var o = new Options("all", 32, 5, 32, 10_000, "cpu", false, "benchmark-results");
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                o = args[i] switch
                {
                    "--mode" => o with { Mode = Next() },
                    "--width" => o with { Width = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--depth" => o with { Depth = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--batch" => o with { Batch = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--steps" => o with { Steps = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--device" => o with { Device = Next() },
                    "--sweep" => o with { Sweep = true },
                    "--cuda-graphs" => o with { CudaGraphs = true },
                    "--compute" => o with { Compute = true },
                    "--out" => o with { Out = Next() },
                    "--profile" => o with { Profile = Next() },
                    "--times" => o with { Times = Next() },
                    "--donate" => o with { Donate = Next() != "off" },
                    "--elementwise" => o with { Elementwise = Next() },
                    "--ort-config" => o with { OrtConfig = [.. o.OrtConfig ?? [], ConfigEntry(Next())] },
                    "--threads" => o with { Threads = Next() is var n && n == "auto" ? null : int.Parse(n, CultureInfo.InvariantCulture) },
                    _ => throw new ArgumentException($"simple: unknown option {args[i]}"),
                };
            }
            if (o.Mode is not ("auto" or "manual" or "raw" or "eager" or "all")) throw new ArgumentException($"simple: --mode is auto, manual, raw, eager or all, not {o.Mode}");
            if (o.Depth < 2) throw new ArgumentException("simple: --depth must be at least 2");
            return o;
        }
    }
}
