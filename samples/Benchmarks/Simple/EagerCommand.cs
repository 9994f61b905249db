using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>eager</c>: the cost of one cached eager primitive call (issue 17's target: ≤ 3 µs), for a few primitives
/// on small float32 tensors, as the median of rounds of calls, with the managed bytes allocated per call. The
/// results are dropped, as eager code drops its intermediates (their buffers are freed by finalizers); one line
/// disposes them instead, and the last line is ONNX Runtime's own floor on this machine now: the same add, exported,
/// run through a pre-bound IOBinding (no allocation, no Nnx).
/// Each line also gives the process's CPU time per call (all threads: the finalizer's and the GC's too) and counts the garbage collections of each generation during its timed rounds. <c>--loop N</c>
/// instead runs N dropped adds and prints the largest working set and number of live ONNX Runtime buffers seen
/// (sampled every 10,000 calls), the collections and the time: a check that dropped results stay bounded.
/// <code>dotnet run -c Release --project samples/Benchmarks -- eager [--calls N] [--rounds R] [--size S] [--loop N]</code>
/// </summary>
public static class EagerCommand
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var (calls, rounds, size, loop) = (20_000, 7, 32, 0L);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--calls": calls = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--size": size = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--loop": loop = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"eager: unknown option {args[i]}");
            }
        }
        var x = Prng.Uniform(Prng.Key(1), [size]);
        var y = Prng.Uniform(Prng.Key(2), [size]);
        var m = Prng.Uniform(Prng.Key(3), [size, size]);
        if (loop > 0) return Loop(x, y, size, loop);
        Console.WriteLine($"# eager cached primitive calls, f32[{size}] operands, {calls} calls per round, median of {rounds} rounds, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        (string Name, Func<Tensor> Call)[] lines =
        [
            ("add", () => x + y),
            ("relu", () => x.Relu()),
            ("mul by scalar", () => x * 2.0),
            ($"matmul [{size},{size}]·[{size},{size}]", () => m.MatMul(m)),
            ($"matmul [{size},{size}]·[{size}]", () => m.MatMul(y)), // three primitives: a reshape, the product, a squeeze
            ("add, result disposed", () => { (x + y).Dispose(); return x; }),
        ];
        // The whole measurement runs untimed for half a second first, then the JIT's background compilation gets a
        // moment: otherwise the first line pays for the tiering of everything (its calls measured up to twice as
        // slow as the same calls timed last), and the pool is not yet filled.
        var warm = Stopwatch.StartNew();
        do
            foreach (var (name, call) in lines) Measure(name, call, calls, 1, print: false);
        while (warm.ElapsedMilliseconds < 500);
        Thread.Sleep(500);
        foreach (var (name, call) in lines) Measure(name, call, calls, rounds);
        Interleaved(lines[0].Call, lines[^1].Call, calls, 3 * rounds);
        MeasureFloor(x, y, size, calls, rounds);
        return 0;
    }

    /// <summary>The add as ONNX Runtime runs it with nothing around it: one session, inputs and output bound once.</summary>
    private static void MeasureFloor(Tensor x, Tensor y, int size, int calls, int rounds)
    {
        var dir = Directory.CreateTempSubdirectory("nnx-eager-").FullName;
        try
        {
            var add = Jit.Pure((Tensor a, Tensor b) => a + b);
            var path = Path.Combine(dir, "add.onnx");
            add.Export(path, x, y);
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            using var session = new InferenceSession(path, options);
            using var a = OrtValue.CreateTensorValueFromMemory(x.ToArray<float>(), [size]);
            using var b = OrtValue.CreateTensorValueFromMemory(y.ToArray<float>(), [size]);
            using var c = OrtValue.CreateTensorValueFromMemory(new float[size], [size]);
            using var binding = session.CreateIoBinding();
            binding.BindInput(session.InputNames[0], a);
            binding.BindInput(session.InputNames[1], b);
            binding.BindOutput(session.OutputNames[0], c);
            using var run = new RunOptions();
            Measure("ONNX Runtime floor (add)", () => { session.RunWithBinding(run, binding); return x; }, calls, rounds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The dropped add against the disposed one, a round of each in turn (so that both see the same load): the
    /// median of the per-pair ratios of wall time and of process CPU time.
    /// </summary>
    private static void Interleaved(Func<Tensor> dropped, Func<Tensor> disposed, int calls, int pairs)
    {
        var (wall, cpu) = (new List<double>(), new List<double>());
        for (var p = 0; p < pairs; p++)
        {
            var (w1, c1) = Round(dropped, calls);
            var (w2, c2) = Round(disposed, calls);
            wall.Add(w1 / w2);
            cpu.Add(c1 / c2);
        }
        wall.Sort();
        cpu.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  add dropped / disposed, {pairs} interleaved pairs of rounds: median ratio {wall[pairs / 2]:F2} wall, {cpu[pairs / 2]:F2} process CPU"));
    }

    private static (double Wall, double Cpu) Round(Func<Tensor> call, int calls)
    {
        var cpu = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        for (var k = 0; k < calls; k++) call();
        return (Stopwatch.GetElapsedTime(start).TotalMicroseconds, (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds);
    }

    /// <summary><paramref name="n"/> adds whose results are dropped, with the memory and collections they cost.</summary>
    private static int Loop(Tensor x, Tensor y, int size, long n)
    {
        long largest = 0, live = 0;
        var gcs = Collections();
        var created = Onnx.OrtBackend.CreatedValues;
        var budget = Onnx.NativeBudget.Shared;
        var asked = budget.Collections(0);
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        for (var k = 0L; k < n; k++)
        {
            _ = x + y;
            if (k % 10_000 != 0) continue;
            largest = Math.Max(largest, Environment.WorkingSet);
            live = Math.Max(live, Onnx.OrtBackend.LiveBuffers);
        }
        var seconds = watch.Elapsed.TotalSeconds;
        var cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        gcs = Collections() - gcs;
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT eager-loop size={size} calls={n} us_per_call={seconds * 1e6 / n:F2} process_cpu_us_per_call={cpuSeconds * 1e6 / n:F2} largest_working_set_mib={largest / 1048576.0:F1} " +
            $"peak_working_set_mib={self.PeakWorkingSet64 / 1048576.0:F1} most_live_buffers={live} gen0={gcs.Gen0} gen1={gcs.Gen1} gen2={gcs.Gen2} " +
            $"budget_collections={budget.Collections(0) - asked}/{budget.Collections(1)}/{budget.Collections(2)} budget_limit_mib={budget.Limit / 1048576.0:F1} values_created={Onnx.OrtBackend.CreatedValues - created} " +
            $"load={File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        return 0;
    }

    private readonly record struct Gcs(int Gen0, int Gen1, int Gen2)
    {
        public static Gcs operator -(Gcs a, Gcs b) => new(a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2);
    }

    private static Gcs Collections() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    private static void Measure(string name, Func<Tensor> call, int calls, int rounds, bool print = true)
    {
        for (var k = 0; k < 1000; k++) call();
        var perCall = new List<double>();
        var gcs = Collections();
        var cpu = Environment.CpuUsage.TotalTime;
        var paused = GC.GetTotalPauseDuration();
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < rounds; r++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var k = 0; k < calls; k++) call();
            perCall.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls);
        }
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - bytes) / (double)(calls * rounds);
        gcs = Collections() - gcs;
        var cpuPerCall = (Environment.CpuUsage.TotalTime - cpu).TotalMicroseconds / (calls * (double)rounds);
        var pausePerCall = (GC.GetTotalPauseDuration() - paused).TotalMicroseconds / (calls * (double)rounds);
        perCall.Sort();
        if (print)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-24} median {perCall[perCall.Count / 2],6:F2} µs/call (min {perCall[0]:F2}, process CPU {cpuPerCall:F2}), {allocated:F0} managed bytes/call, GCs gen0/1/2 {gcs.Gen0}/{gcs.Gen1}/{gcs.Gen2} (paused {pausePerCall:F2} µs/call)"));
    }
}
