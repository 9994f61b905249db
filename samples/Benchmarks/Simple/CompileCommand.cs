using System.Diagnostics;
using System.Globalization;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>compile</c>: where the first call of the seed's training step spends its time (BENCHMARKS.md §3). Round 1
/// is the process's first call (the .NET JIT compiles Nnx's own code meanwhile); later rounds jit a fresh step
/// of a fresh model, so they show what tracing, the passes, lowering and session creation cost by themselves.
/// Also counts the exceptions thrown and caught inside the compiler (each costs tens of µs).
/// <code>dotnet run -c Release --project samples/Benchmarks -- compile [--width W] [--depth D] [--rounds R] [--threads T]</code>
/// </summary>
public static class CompileCommand
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var (width, depth, rounds, threads) = (32, 5, 5, (int?)1);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--width": width = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--depth": depth = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = Next() is var t && t == "auto" ? null : int.Parse(t, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"compile: unknown option {args[i]}");
            }
        }
        Device.Cpu.IntraOpThreads = threads;
        var exceptions = 0;
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => Interlocked.Increment(ref exceptions);
        var data = SeedData.Create(1, 32);
        var batch = data.Tensors()[0];
        Console.WriteLine($"# first call of the seed's train step, width {width}, depth {depth}, {Environment.ProcessorCount} cores, load {LoadAverage()}");
        for (var r = 1; r <= rounds; r++)
        {
            var (model, optimizer) = SeedModes.Create(width, depth);
            var step = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
            var before = exceptions;
            var start = Stopwatch.GetTimestamp();
            step(model, optimizer, batch.X, batch.Y).Item<float>();
            var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var second = Stopwatch.GetTimestamp();
            step(model, optimizer, batch.X, batch.Y).Item<float>();
            var cached = Stopwatch.GetElapsedTime(second).TotalMicroseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  round {r}: first call {wall:F1} ms wall ({step.CompileStats()}), {exceptions - before} exceptions; next call {cached:F0} µs"));
        }
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
