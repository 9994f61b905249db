using System.Text;

namespace NnxSharp.Ir;

/// <summary>Prints a graph in the style of a jaxpr.</summary>
internal static class GraphPrinter
{
    /// <summary>
    /// <code>
    /// { lambda a:f32[32,2] b:f32[2,64]. let
    ///     c:f32[32,64] = mat_mul a b
    ///   in (c) }
    /// </code>
    /// </summary>
    public static string Print(Graph g)
    {
        var names = new Dictionary<Value, string>(ReferenceEqualityComparer.Instance);
        string Name(Value v)
        {
            if (names.TryGetValue(v, out var n)) return n;
            n = VarName(names.Count);
            names[v] = n;
            return n;
        }

        var sb = new StringBuilder("{ lambda ");
        sb.Append(string.Join(" ", g.Inputs.Select(v => $"{Name(v)}:{v.Aval}")));
        sb.Append(". let\n");
        foreach (var node in g.Nodes)
        {
            var args = string.Join(" ", node.Inputs.Select(v => names.TryGetValue(v, out var s) ? s : "?"));
            sb.Append("    ").Append(Name(node.Output)).Append(':').Append(node.Output.Aval)
              .Append(" = ").Append(node.Op);
            if (args.Length > 0) sb.Append(' ').Append(args);
            sb.Append('\n');
        }
        sb.Append("  in (").Append(string.Join(", ", g.Outputs.Select(v => names.TryGetValue(v, out var s) ? s : "?"))).Append(") }");
        return sb.ToString();
    }

    /// <summary>a, b, …, z, ba, bb, … as JAX names its variables.</summary>
    internal static string VarName(int i)
    {
        var s = "";
        do { s = (char)('a' + i % 26) + s; i /= 26; } while (i > 0);
        return s;
    }
}
