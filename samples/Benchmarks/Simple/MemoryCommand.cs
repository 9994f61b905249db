using System.Diagnostics;
using System.Globalization;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>memory</c>: the memory of training the seed's model eagerly (every operation run at once) or with Nnx.Jit,
/// for issue 12's figure. Run each mode in its own process and compare the peaks:
/// <code>dotnet run -c Release --project samples/Benchmarks -- memory --mode eager|jit [--steps 20000] [--width 64]</code>
/// Prints the largest working set seen (sampled every 500 steps), the process's peak, the managed heap and the
/// live ONNX Runtime buffers at the end.
/// </summary>
public static class MemoryCommand
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var mode = Arg(args, "--mode", "jit");
        var steps = int.Parse(Arg(args, "--steps", "20000"), CultureInfo.InvariantCulture);
        var width = int.Parse(Arg(args, "--width", "64"), CultureInfo.InvariantCulture);
        if (mode is not ("eager" or "jit"))
        {
            Console.Error.WriteLine("usage: memory --mode eager|jit [--steps N] [--width W]");
            return 1;
        }
        var data = SeedData.Create(Math.Min(steps, 1000), 32);
        var batches = data.Tensors();
        var (model, optimizer) = SeedModes.Create(width, 1);
        var step = mode == "jit"
            ? Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep)
            : SeedMlp.TrainStep;
        long largest = 0;
        var watch = Stopwatch.StartNew();
        Tensor loss = null!;
        for (var k = 0; k < steps; k++)
        {
            var (x, y) = batches[k % batches.Length];
            loss = step(model, optimizer, x, y);
            if (k % 500 == 0) largest = Math.Max(largest, Environment.WorkingSet);
        }
        var final = loss.Item<float>();
        largest = Math.Max(largest, Environment.WorkingSet);
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT memory mode={mode} steps={steps} width={width} largest_working_set_mib={largest / 1048576.0:F1} " +
            $"peak_working_set_mib={self.PeakWorkingSet64 / 1048576.0:F1} managed_heap_kib={GC.GetTotalMemory(false) / 1024} " +
            $"live_buffers={Onnx.OrtBackend.LiveBuffers} final_loss={final:G6} seconds={watch.Elapsed.TotalSeconds:F1}"));
        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
