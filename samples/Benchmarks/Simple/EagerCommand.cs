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
/// <code>dotnet run -c Release --project samples/Benchmarks -- eager [--calls N] [--rounds R] [--size S]</code>
/// </summary>
public static class EagerCommand
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var (calls, rounds, size) = (20_000, 7, 32);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--calls": calls = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--size": size = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"eager: unknown option {args[i]}");
            }
        }
        var x = Prng.Uniform(Prng.Key(1), [size]);
        var y = Prng.Uniform(Prng.Key(2), [size]);
        var m = Prng.Uniform(Prng.Key(3), [size, size]);
        Console.WriteLine($"# eager cached primitive calls, f32[{size}] operands, {calls} calls per round, median of {rounds} rounds, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Measure("add", () => x + y, calls, rounds);
        Measure("relu", () => x.Relu(), calls, rounds);
        Measure("mul by scalar", () => x * 2.0, calls, rounds);
        Measure($"matmul [{size},{size}]·[{size}]", () => m.MatMul(y), calls, rounds);
        Measure("add, result disposed", () => { (x + y).Dispose(); return x; }, calls, rounds);
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

    private static void Measure(string name, Func<Tensor> call, int calls, int rounds)
    {
        for (var k = 0; k < 1000; k++) call();
        var perCall = new List<double>();
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < rounds; r++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var k = 0; k < calls; k++) call();
            perCall.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls);
        }
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - bytes) / (double)(calls * rounds);
        perCall.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-24} median {perCall[perCall.Count / 2],6:F2} µs/call (min {perCall[0]:F2}), {allocated:F0} managed bytes/call"));
    }
}
