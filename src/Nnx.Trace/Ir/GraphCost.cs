using NnxSharp.Primitives;

namespace NnxSharp.Ir;

/// <summary>How much arithmetic one run of a graph does: what the backends' thread choice is based on.</summary>
internal static class GraphCost
{
    /// <summary>
    /// Floating-point operations of one run: 2·m·n·k per matrix product (MatMul, Gemm), one per output element
    /// of every other node. A rough count; only its order of magnitude matters.
    /// </summary>
    public static double Flops(Graph graph)
    {
        double total = 0;
        foreach (var n in graph.Nodes)
        {
            var size = (double)n.Output.Shape.Size;
            total += n.Op switch
            {
                MatMul when n.Inputs[0].Shape.Rank > 0 => 2 * size * n.Inputs[0].Shape[^1],
                Gemm g => 2 * size * (g.TransA ? n.Inputs[0].Shape[0] : n.Inputs[0].Shape[1]),
                _ => size,
            };
        }
        return total;
    }
}
