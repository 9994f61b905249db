using System.Globalization;
using Google.Protobuf;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>nodes</c>: how big the seed's training step is at each stage, by operator. Exports the step (the graph
/// after the passes, lowered to ONNX) and counts the nodes of the file by ONNX op type, so a change to the
/// passes or the lowerings can be judged by its effect on the step that the benchmark times.
/// <code>dotnet run -c Release --project samples/Benchmarks -- nodes [--width W] [--depth D] [--batch B] [--ir FILE]
///     [--optimizer sgd|momentum|nesterov|adam|adamw|rmsprop] [--in-process] [--onnx FILE]</code>
/// <c>--in-process</c> counts the model this process's CPU session runs instead of the exported file: with Nnx's own
/// kernels (<c>ai.nnx.cpu</c>) where they replace ONNX operators. <c>--onnx FILE</c> keeps the counted model there, to read
/// it node by node (for example with the <c>onnx</c> Python package).
/// The seed uses SGD 1e-3; the other optimizers (learning rate 1e-3, momentum 0.9) show what the fused updates do for them.
/// </summary>
public static class NodeCounts
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var (width, depth, batch, irPath, optimizerName, inProcess) = (32, 5, 32, (string?)null, "sgd", false);
        string? onnxPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--width": width = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--depth": depth = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--ir": irPath = Next(); break;
                case "--optimizer": optimizerName = Next(); break;
                case "--in-process": inProcess = true; break;
                case "--onnx": onnxPath = Next(); break;
                default: throw new ArgumentException($"nodes: unknown option {args[i]}");
            }
        }
        var (model, _) = SeedModes.Create(width, depth);
        var optimizer = new Optimizer(model, Transformation(optimizerName));
        var data = SeedData.Create(1, batch);
        var batches = data.Tensors();
        var step = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
        var ir = step.Lower(model, optimizer, batches[0].X, batches[0].Y);
        if (irPath is not null) File.WriteAllText(irPath, ir);
        var path = Path.GetTempFileName();
        try
        {
            if (inProcess) File.WriteAllBytes(path, step.InProcessModel(model, optimizer, batches[0].X, batches[0].Y));
            else step.Export(path, model, optimizer, batches[0].X, batches[0].Y);
            if (onnxPath is not null) File.Copy(path, onnxPath, overwrite: true);
            var ops = OnnxOpTypes(File.ReadAllBytes(path));
            Console.WriteLine(ir[..ir.IndexOf('\n')]);
            Console.WriteLine($"# ONNX nodes of the step{(inProcess ? " as this process runs it" : "")} (width {width}, depth {depth}, batch {batch}, {optimizerName}): {ops.Count}");
            foreach (var (op, n) in ops.GroupBy(o => o).Select(g => (g.Key, g.Count())).OrderByDescending(p => p.Item2).ThenBy(p => p.Key, StringComparer.Ordinal))
                Console.WriteLine($"  {op,-28} {n,4}");
        }
        finally
        {
            File.Delete(path);
        }
        return 0;
    }

    /// <summary>The optimizer named on the command line.</summary>
    private static GradientTransformation Transformation(string name) => name switch
    {
        "sgd" => Optax.Sgd(1e-3),
        "momentum" => Optax.Sgd(1e-3, momentum: 0.9),
        "nesterov" => Optax.Sgd(1e-3, momentum: 0.9, nesterov: true),
        "adam" => Optax.Adam(1e-3),
        "adamw" => Optax.AdamW(1e-3),
        "rmsprop" => Optax.RmsProp(1e-3),
        _ => throw new ArgumentException($"nodes: --optimizer is sgd, momentum, nesterov, adam, adamw or rmsprop, not {name}"),
    };

    /// <summary>The op type of every node of an ONNX model's main graph (ModelProto.graph = 7, GraphProto.node = 1, NodeProto.op_type = 4).</summary>
    private static List<string> OnnxOpTypes(byte[] model)
    {
        var graph = Field(ByteString.CopyFrom(model), 7).Single();
        var ops = new List<string>();
        foreach (var node in Field(graph, 1))
        {
            var op = Field(node, 4).Single();
            var domain = Field(node, 7).SingleOrDefault();
            var name = op.ToStringUtf8();
            ops.Add(domain is null || domain.IsEmpty ? name : $"{domain.ToStringUtf8()}:{name}");
        }
        return ops;
    }

    /// <summary>The length-delimited occurrences of one field of a message.</summary>
    private static List<ByteString> Field(ByteString message, int number)
    {
        var found = new List<ByteString>();
        var input = new CodedInputStream(message.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes());
            else input.SkipLastField();
        }
        return found;
    }
}
