using Google.Protobuf;
using NnxSharp.Ir;
using NnxSharp.Onnx.Schema;

namespace NnxSharp.Onnx;

/// <summary>
/// An inference model from a traced forward pass whose first inputs are the model's variables: those the graph
/// uses become initializers named by state path, the unused ones disappear, and the data input and the output may
/// get a symbolic batch axis. The lowering is checked to be the same at two batch sizes before the axis is
/// declared symbolic, so the file is right at every batch size.
/// </summary>
internal static class InferenceModel
{
    /// <summary>The name of the symbolic first dimension.</summary>
    public const string BatchAxis = "batch";

    /// <param name="graph">The forward pass at the example's batch size: inputs are the variables, then the data input; one output.</param>
    /// <param name="other">The same forward pass at another batch size (null: keep the batch size fixed).</param>
    /// <param name="stateNames">The variables' state paths, in input order.</param>
    /// <param name="stateValues">The variables' values, in input order.</param>
    /// <param name="inputName">The data input's name.</param>
    /// <param name="outputName">The output's name.</param>
    /// <param name="docs">Doc strings: the graph's, the input's, the output's.</param>
    /// <param name="graphName">The graph's name (the model's type).</param>
    public static byte[] Build(Graph graph, Graph? other, IReadOnlyList<string> stateNames, IReadOnlyList<HostArray> stateValues,
        string inputName, string outputName, (string Graph, string Input, string Output) docs, string graphName)
    {
        var model = Lower(graph, stateNames, inputName, outputName);
        if (other is not null)
        {
            var check = Lower(other, stateNames, inputName, outputName);
            if (FirstDifference(model.Graph, check.Graph) is { } where)
                throw new InvalidOperationException(
                    $"ExportInference: the graph depends on the batch size ({where} differs between batch {graph.Inputs[^1].Aval.Shape[0]} and " +
                    $"{other.Inputs[^1].Aval.Shape[0]}), so its first axis cannot be symbolic. Export with dynamicBatch: false for a fixed batch size.");
        }
        var g = model.Graph;
        var used = new HashSet<string>(g.Node.SelectMany(n => n.Input), StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < stateNames.Count; i++) state[stateNames[i]] = i;
        foreach (var input in g.Input.ToArray())
        {
            if (!state.TryGetValue(input.Name, out var i)) continue;
            g.Input.Remove(input);
            if (used.Contains(input.Name)) g.Initializer.Add(OnnxLowering.Tensor(input.Name, stateValues[i]));
        }
        var x = g.Input.Single(v => v.Name == inputName);
        var y = g.Output.Single(v => v.Name == outputName);
        if (other is not null)
        {
            Symbolic(x);
            if (graph.Outputs[0].Aval.Shape is { Rank: > 0 } s && s[0] == graph.Inputs[^1].Aval.Shape[0]
                && other.Outputs[0].Aval.Shape[0] == other.Inputs[^1].Aval.Shape[0])
                Symbolic(y);
        }
        x.DocString = docs.Input;
        y.DocString = docs.Output;
        g.DocString = docs.Graph;
        g.Name = graphName;
        model.DocString = docs.Graph;
        return model.ToByteArray();
    }

    private static ModelProto Lower(Graph graph, IReadOnlyList<string> stateNames, string inputName, string outputName) =>
        OnnxLowering.ToModel(graph, [.. stateNames, inputName], [outputName]);

    private static void Symbolic(ValueInfoProto v) =>
        v.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = BatchAxis };

    /// <summary>Two nodes equal but for their doc strings (which name the traced avals, batch size included).</summary>
    private static bool SameIgnoringDoc(NodeProto a, NodeProto b)
    {
        if (a.DocString == b.DocString) return a.Equals(b);
        var (x, y) = (a.Clone(), b.Clone());
        x.DocString = y.DocString = "";
        return x.Equals(y);
    }

    /// <summary>The first node or initializer that differs between two lowerings (input and output shapes aside), or null.</summary>
    private static string? FirstDifference(GraphProto a, GraphProto b)
    {
        for (var i = 0; i < Math.Max(a.Node.Count, b.Node.Count); i++)
            if (i >= a.Node.Count || i >= b.Node.Count || !SameIgnoringDoc(a.Node[i], b.Node[i]))
                return $"node {i} ({(i < a.Node.Count ? a.Node[i].OpType : b.Node[i].OpType)})";
        for (var i = 0; i < Math.Max(a.Initializer.Count, b.Initializer.Count); i++)
            if (i >= a.Initializer.Count || i >= b.Initializer.Count || !a.Initializer[i].Equals(b.Initializer[i]))
            {
                var name = i < a.Initializer.Count ? a.Initializer[i].Name : b.Initializer[i].Name;
                var user = a.Node.FirstOrDefault(n => n.Input.Contains(name));
                return user is null ? $"constant {name}" : $"the constant input of node {a.Node.IndexOf(user)} ({user.OpType})";
            }
        return null;
    }
}
