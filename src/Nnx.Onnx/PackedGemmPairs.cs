using NnxSharp.Onnx.Schema;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// Fuses, in a model lowered for this process's CPU, a dense layer's input gradient <c>α₁·g·Wᵀ</c> and its weight's
/// update <c>β·W + α₂·xᵀ·g</c> (two <see cref="NnxCpuOps.PackedGemm"/> nodes reading the same g and W) into one
/// <see cref="NnxCpuOps.PackedGemmPair"/>, which reads W once. The IR has one output per node, so this is done on the
/// ONNX nodes, after lowering. The fused node stands where the earlier of the two stood; a pair whose x is computed
/// after that is left alone.
/// </summary>
internal static class PackedGemmPairs
{
    /// <summary>Fuses the pairs among <paramref name="graph"/>'s nodes; flags are read with <paramref name="constantValue"/>, new ones made with <paramref name="constant"/>.</summary>
    public static void Fuse(GraphProto graph, Func<string, HostArray?> constantValue, Func<HostArray, string> constant)
    {
        var nodes = graph.Node;
        var producer = new Dictionary<string, int>();
        for (var i = 0; i < nodes.Count; i++)
            foreach (var o in nodes[i].Output) producer[o] = i;
        int Producer(string value) => producer.TryGetValue(value, out var i) ? i : -1;

        // The input gradients g·Wᵀ (transB, no C), by their (g, W).
        var gradients = new Dictionary<(string G, string W), int>();
        for (var i = 0; i < nodes.Count; i++)
            if (Flags(nodes[i], constantValue) is [0, 1, _, 0]) gradients.TryAdd((nodes[i].Input[0], nodes[i].Input[1]), i);
        if (gradients.Count == 0) return;

        var replaced = new Dictionary<int, NodeProto>(); // the earlier position of a pair → its fused node
        var removed = new HashSet<int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            // An update xᵀ·g with C = the same W (transA, β ≠ 0).
            if (Flags(nodes[i], constantValue) is not [1, 0, var alpha2, var beta] || beta == 0) continue;
            var (x, g, w) = (nodes[i].Input[0], nodes[i].Input[1], nodes[i].Input[2]);
            if (!gradients.TryGetValue((g, w), out var j) || removed.Contains(j)) continue;
            var first = Math.Min(i, j);
            if (Producer(x) >= first || Producer(g) >= first || Producer(w) >= first) continue;
            var alpha1 = Flags(nodes[j], constantValue)![2];
            var fused = new NodeProto
            {
                OpType = NnxCpuOps.PackedGemmPair,
                Domain = NnxCpuOps.Domain,
                Name = $"{NnxCpuOps.PackedGemmPair}_{nodes[j].Name}",
                DocString = $"{nodes[j].DocString}; {nodes[i].DocString}",
            };
            fused.Input.AddRange([g, w, x, constant(HostArray.Create([(float)alpha1, (float)alpha2, (float)beta], Shape.Of(3)))]);
            fused.Output.AddRange([nodes[j].Output[0], nodes[i].Output[0]]);
            replaced[first] = fused;
            removed.Add(i);
            removed.Add(j);
        }
        if (replaced.Count == 0) return;
        var kept = new List<NodeProto>(nodes.Count - replaced.Count);
        for (var i = 0; i < nodes.Count; i++)
            if (replaced.TryGetValue(i, out var fused)) kept.Add(fused);
            else if (!removed.Contains(i)) kept.Add(nodes[i]);
        nodes.Clear();
        nodes.AddRange(kept);
    }

    /// <summary>A PackedGemm node's [transA, transB, α, β]; null for any other node.</summary>
    private static double[]? Flags(NodeProto node, Func<string, HostArray?> constantValue) =>
        node.Domain == NnxCpuOps.Domain && node.OpType == NnxCpuOps.PackedGemm && constantValue(node.Input[3]) is { Size: 4 } flags
            ? flags.ToDoubles()
            : null;
}
