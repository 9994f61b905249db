namespace NnxSharp;

/// <summary>Why a module jit's call missed its cache: the module structure (a variable's shape, a static attribute, a node), a tree or leaf, or the device.</summary>
internal static class StepMiss
{
    /// <summary>The first difference between the previous key and this one.</summary>
    public static string Explain(StepKey previous, StepKey now, string[] names)
    {
        if (previous.Backend != now.Backend) return "the state is on another device";
        if (!Equals(previous.Graph, now.Graph))
            return previous.Graph is null || now.Graph is null ? "the module arguments changed" : GraphChange(previous.Graph, now.Graph);
        return CacheMiss.Explain(previous.Trees, previous.LeafAvals, now.Trees, now.LeafAvals, names);
    }

    /// <summary>The first node or slot that differs, by state path or type and attribute name.</summary>
    public static string GraphChange(GraphDef before, GraphDef after)
    {
        var n = Math.Min(before.Nodes.Length, after.Nodes.Length);
        for (var i = 0; i < n; i++)
        {
            var (a, b) = (before.Nodes[i], after.Nodes[i]);
            if (a.Type != b.Type) return $"node {i} changed from a {NodeType.Describe(a.Type)} to a {NodeType.Describe(b.Type)}";
            if (a.Kind == NodeKind.Variable && b.Kind == NodeKind.Variable && !Equals(a.Aval, b.Aval))
                return $"variable '{after.StateDef.Paths[b.VariableIndex]}' changed from {a.Aval} to {b.Aval}";
            if (a.SlotCount != b.SlotCount) return $"the {NodeType.Describe(a.Type)} at node {i} went from {a.SlotCount} to {b.SlotCount} entries";
            for (var j = 0; j < a.SlotCount; j++)
            {
                var (sa, sb) = (before.Slots[a.SlotStart + j], after.Slots[b.SlotStart + j]);
                if (sa.Equals(sb)) continue;
                if (sa.Node < 0 && sb.Node < 0)
                    return $"static attribute '{sb.Name}' of the {NodeType.Describe(b.Type)} changed from {StaticValue.Format(sa.Static)} to {StaticValue.Format(sb.Static)}";
                return $"'{sb.Name}' of the {NodeType.Describe(b.Type)} was replaced";
            }
            if (!a.Equals(b)) return $"the metadata of node {i} ({NodeType.Describe(a.Type)}) changed";
        }
        return $"the graph went from {before.Nodes.Length} to {after.Nodes.Length} nodes";
    }
}
