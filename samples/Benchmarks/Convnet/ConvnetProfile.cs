using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace NnxSharp.Benchmarks;

/// <summary>
/// Where the convnet's training step spends its time: the step is exported (<see cref="JitExport"/>), loaded into an
/// ONNX Runtime session with profiling on (same optimisation level and thread count as Nnx's), run on its exported
/// state and the first batches, and the profile's kernel times are summed per operator type and per node.
/// </summary>
public static class ConvnetProfile
{
    /// <summary>Prints the profile of <paramref name="steps"/> runs of the step as lowered in this process (after a warm-up).</summary>
    public static void Run(Delegate step, object[] args, string name, int steps, int threads, string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"{name}.onnx");
        step.Export(path, args); // for the state file; the graph is then the in-process one, with the machine's kernels
        File.WriteAllBytes(path, step.InProcessModel(args));
        var state = SafeTensors.Load(Path.ChangeExtension(path, ".safetensors")).Tensors.ToDictionary(t => t.Key, t => t.Value);
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ProfileOutputPathPrefix = Path.Combine(dir, name),
            EnableProfiling = true, // after the prefix, which it reads
        };
        NnxSharp.Onnx.CpuKernels.Register(options); // the in-process graph may use Nnx's own CPU kernels
        using var session = new InferenceSession(path, options);
        var data = args.OfType<Tensor>().ToArray();
        var names = session.InputNames.ToArray();
        var dataIndex = 0;
        var values = names.Select(n => ToOrt(state.TryGetValue(n, out var v) ? v : data[dataIndex++].ToHost())).ToArray();
        var outputs = session.OutputNames.ToArray();
        using var runOptions = new RunOptions();
        for (var i = 0; i < 3 + steps; i++)
            foreach (var o in session.Run(runOptions, names, values, outputs)) o.Dispose();
        var file = session.EndProfiling();
        foreach (var v in values) v.Dispose();

        var perOp = new Dictionary<string, double>();
        var perNode = new Dictionary<string, (string Op, double Us)>();
        var runs = 0;
        using (var json = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var e in json.RootElement.EnumerateArray())
            {
                var evName = e.GetProperty("name").GetString() ?? "";
                if (evName == "model_run") runs++;
                if (e.GetProperty("cat").GetString() != "Node" || !evName.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                var op = e.GetProperty("args").GetProperty("op_name").GetString() ?? "?";
                var us = e.GetProperty("dur").GetDouble();
                perOp[op] = perOp.GetValueOrDefault(op) + us;
                var node = evName[..^"_kernel_time".Length];
                perNode[node] = (op, perNode.GetValueOrDefault(node).Us + us);
            }
        var total = perOp.Values.Sum() / runs;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile {name}: {runs} runs, {total:F0} µs of kernels per run, {threads} thread(s); {file}"));
        foreach (var (op, us) in perOp.OrderByDescending(p => p.Value).Take(14))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {op,-28} {us / runs,9:F0} µs  {100 * us / runs / total,5:F1} %"));
        Console.WriteLine("  slowest nodes:");
        foreach (var (node, (op, us)) in perNode.OrderByDescending(p => p.Value.Us).Take(16))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {op,-20} {us / runs,9:F0} µs  {node}"));
    }

    private static OrtValue ToOrt(HostArray a)
    {
        var type = a.DType switch
        {
            DType.Float32 => TensorElementType.Float,
            DType.Float64 => TensorElementType.Double,
            DType.Int32 => TensorElementType.Int32,
            DType.Int64 => TensorElementType.Int64,
            DType.UInt32 => TensorElementType.UInt32,
            DType.UInt64 => TensorElementType.UInt64,
            DType.Bool => TensorElementType.Bool,
            _ => throw new NotSupportedException($"profile: input dtype {a.DType}"),
        };
        var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, a.Shape.ToLongArray());
        a.WriteBytes(v.GetTensorMutableRawData());
        return v;
    }
}
