namespace NnxSharp;

/// <summary>Says why a call missed the trace cache, as JAX's <c>explain_cache_misses</c>: which argument's structure, static value or leaf shape changed.</summary>
internal static class CacheMiss
{
    /// <summary>The first difference between the last call's key and this one's, per argument.</summary>
    public static string Explain(IReadOnlyList<TreeDef?> oldDefs, IReadOnlyList<Aval> oldAvals, IReadOnlyList<TreeDef?> newDefs, IReadOnlyList<Aval> newAvals,
        IReadOnlyList<string> names)
    {
        if (oldDefs.Count != newDefs.Count) return $"the number of arguments changed ({oldDefs.Count} → {newDefs.Count})";
        int oldLeaf = 0, newLeaf = 0;
        for (var i = 0; i < newDefs.Count; i++)
        {
            var name = i < names.Count ? names[i] : $"arg{i}";
            var (o, n) = (oldDefs[i], newDefs[i]);
            if (o is null || n is null)
            {
                if (o is null != n is null) return $"argument '{name}' changed between a module and a tree";
                continue;
            }
            if (!o.Equals(n)) return $"argument '{name}' changed structure or static value: {o} → {n}";
            for (var j = 0; j < n.LeafCount; j++)
                if (!oldAvals[oldLeaf + j].Equals(newAvals[newLeaf + j]))
                    return $"argument '{name}'{(n.LeafCount == 1 && n.Kind == TreeKind.Leaf ? "" : " leaf " + n.LeafPath(j))} changed from {oldAvals[oldLeaf + j]} to {newAvals[newLeaf + j]}";
            oldLeaf += o.LeafCount;
            newLeaf += n.LeafCount;
        }
        return "the arguments are equal to the last call's (the device changed, or the entry was evicted from the cache)";
    }
}
