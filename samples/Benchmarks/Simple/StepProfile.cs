using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>simple --profile DIR</c>: where the seed's training step spends its time. The auto mode's step as this process
/// lowers it (with Nnx's own CPU kernels, as the auto mode runs it; the state file comes from an export) is run as the
/// raw mode runs it (two IOBindings, the state swapped in place) on <c>--threads</c> intra-op threads with
/// ONNX Runtime's profiler on, and the profile is summed per operator type and per node; matrix products also get
/// their GFLOP/s (2·m·n·k from the shapes the profile records). ONNX Runtime's optimised graph is written next to
/// the profile (<c>DIR/train_wW_opt.onnx</c>), so one can see which nodes it really runs.
/// </summary>
public static class StepProfile
{
    /// <summary>Profiles <paramref name="steps"/> steps after 3 warm-up steps (profiled too, left out of the sums).</summary>
    public static void Run(int width, int depth, int batch, int steps, int threads, string dir)
    {
        Directory.CreateDirectory(dir);
        var data = SeedData.Create(steps + 3, batch);
        var (model, optimizer) = SeedModes.Create(width, depth);
        var batches = data.Tensors();
        var (allX, allY) = data.All();
        var name = $"train_w{width}_t{threads}";
        var trainPath = Path.Combine(dir, $"{name}.onnx");
        var testPath = Path.Combine(dir, $"test_w{width}.onnx");
        var step = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
        step.Export(trainPath, model, optimizer, batches[0].X, batches[0].Y);
        File.WriteAllBytes(trainPath, step.InProcessModel(model, optimizer, batches[0].X, batches[0].Y));
        Nnx.Jit<SeedMlp, Tensor, Tensor, Tensor>(SeedMlp.TestStep).Export(testPath, model, allX, allY);
        using var options = RawStep.Options(threads);
        NnxSharp.Onnx.CpuKernels.Register(options);
        options.OptimizedModelFilePath = Path.Combine(dir, $"{name}_opt.onnx");
        options.ProfileOutputPathPrefix = Path.Combine(dir, name);
        options.EnableProfiling = true; // after the prefix, which it reads
        using var raw = new RawStep(trainPath, testPath, model, optimizer, options);
        var bx = data.BatchX.Select(a => OrtValue.CreateTensorValueFromMemory(a, [a.Length, 1])).ToArray();
        var by = data.BatchY.Select(a => OrtValue.CreateTensorValueFromMemory(a, [a.Length, 1])).ToArray();
        for (var k = 0; k < bx.Length; k++) raw.Train(bx[k], by[k]);
        var file = raw.EndProfiling();
        foreach (var v in bx.Concat(by)) v.Dispose();
        Summarize(file, threads, skipRuns: 3);
    }

    /// <summary>Sums a profile's kernel times per op type and per node, leaving out the first runs (warm-up).</summary>
    private static void Summarize(string file, int threads, int skipRuns)
    {
        var perOp = new Dictionary<string, (double Us, double Flops, int Calls)>();
        var perNode = new Dictionary<string, (string Op, double Us, double Flops, string Shapes)>();
        var runUs = new List<double>();
        using (var json = JsonDocument.Parse(File.ReadAllText(file)))
        {
            // Node events of a run come before its model_run event; count runs as they end.
            var runs = 0;
            foreach (var e in json.RootElement.EnumerateArray())
            {
                var evName = e.GetProperty("name").GetString() ?? "";
                if (evName == "model_run")
                {
                    if (runs++ >= skipRuns) runUs.Add(e.GetProperty("dur").GetDouble());
                    continue;
                }
                if (runs < skipRuns || e.GetProperty("cat").GetString() != "Node" || !evName.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                var args = e.GetProperty("args");
                var op = args.GetProperty("op_name").GetString() ?? "?";
                var us = e.GetProperty("dur").GetDouble();
                var (flops, shapes) = Flops(op, args);
                var p = perOp.GetValueOrDefault(op);
                perOp[op] = (p.Us + us, p.Flops + flops, p.Calls + 1);
                var node = evName[..^"_kernel_time".Length];
                var q = perNode.GetValueOrDefault(node);
                perNode[node] = (op, q.Us + us, q.Flops + flops, shapes);
            }
        }
        var n = runUs.Count;
        var kernels = perOp.Values.Sum(p => p.Us) / n;
        var run = runUs.Average();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"profile: {n} runs, {threads} thread(s): model_run {run:F0} µs (median {runUs.Order().ElementAt(n / 2):F0}), kernels {kernels:F0} µs, outside kernels {run - kernels:F0} µs; {file}"));
        foreach (var (op, (us, flops, calls)) in perOp.OrderByDescending(p => p.Value.Us))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {op,-22} {calls / n,4} nodes {us / n,10:F0} µs {100 * us / n / kernels,6:F1} %{(flops > 0 ? $"  {flops / us / 1e3,6:F1} GFLOP/s" : "")}"));
        Console.WriteLine("  slowest nodes:");
        foreach (var (node, (op, us, flops, shapes)) in perNode.OrderByDescending(p => p.Value.Us).Take(24))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {op,-18} {us / n,9:F0} µs{(flops > 0 ? $" {flops / us / 1e3,6:F1} GFLOP/s" : "               ")}  {shapes,-44} {node}"));
    }

    /// <summary>2·m·n·k of a matrix product from its recorded shapes (k = the first input's size ÷ the output's rows); 0 for other ops.</summary>
    private static (double Flops, string Shapes) Flops(string op, JsonElement args)
    {
        var inputs = args.TryGetProperty("input_type_shape", out var i) ? Shapes(i) : [];
        var outputs = args.TryGetProperty("output_type_shape", out var o) ? Shapes(o) : [];
        var text = string.Join(",", inputs.Select(s => $"[{string.Join("x", s)}]")) + "→" + string.Join(",", outputs.Select(s => $"[{string.Join("x", s)}]"));
        if (op is not ("Gemm" or "MatMul" or "FusedMatMul" or "FusedGemm" or "PackedGemm") || inputs.Count < 2 || outputs.Count < 1 || outputs[0].Length < 2) return (0, text);
        var y = outputs[0];
        double rows = y[^2], cols = y[^1];
        var a = inputs[0].Aggregate(1.0, (p, d) => p * d);
        var batch = y.Length > 2 ? y[..^2].Aggregate(1.0, (p, d) => p * d) : 1;
        return (2 * batch * rows * cols * (a / batch / rows), text);
    }

    private static List<long[]> Shapes(JsonElement list) =>
        [.. list.EnumerateArray().Select(t => t.EnumerateObject().First().Value.EnumerateArray().Select(d => d.GetInt64()).ToArray())];
}
