using System.Text;

namespace NnxSharp;

/// <summary>
/// The structure of an object graph without its state values: the node types, static attributes, variable
/// kinds and avals, and the sharing pattern (a node reached twice is stored once and then referenced by index;
/// cycles are references too). Immutable and flat; equality compares by value (static attributes with
/// <c>Equals</c>, so two models built the same way have equal GraphDefs) and the hash is computed once, so a
/// GraphDef is a cheap, exact cache key and a static leaf of a <see cref="Tree"/>.
/// </summary>
public sealed record GraphDef : IStaticValue
{
    private readonly int _hash;

    internal GraphDef(NodeDef[] nodes, SlotDef[] slots, StateDef stateDef)
    {
        Nodes = nodes;
        Slots = slots;
        StateDef = stateDef;
        var h = new HashCode();
        foreach (var n in nodes) h.Add(n.Hash());
        foreach (var s in slots) h.Add(s.Hash());
        _hash = h.ToHashCode();
    }

    /// <summary>The nodes in first-visit order; node 0 is the root (the tuple of roots when there are several).</summary>
    internal NodeDef[] Nodes { get; }

    /// <summary>Every node's slots (fields, elements or entries), node after node.</summary>
    internal SlotDef[] Slots { get; }

    /// <summary>The paths and kinds of the variables, in state order.</summary>
    internal StateDef StateDef { get; }

    /// <summary>The number of distinct nodes (modules, variables, containers).</summary>
    public int NodeCount => Nodes.Length;

    /// <summary>The number of distinct variables: the length of the State that goes with this GraphDef.</summary>
    public int VariableCount => StateDef.Count;

    /// <summary>The number of roots the GraphDef was split from (several roots make a tuple).</summary>
    public int RootCount => Nodes[0].Kind == NodeKind.Tuple ? Nodes[0].SlotCount : 1;

    /// <summary>The variables' paths in state order.</summary>
    public IReadOnlyList<string> Paths => StateDef.Paths;

    /// <inheritdoc/>
    public bool Equals(GraphDef? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._hash != _hash || other.Nodes.Length != Nodes.Length || other.Slots.Length != Slots.Length) return false;
        for (var i = 0; i < Nodes.Length; i++)
            if (!Nodes[i].Equals(other.Nodes[i])) return false;
        for (var i = 0; i < Slots.Length; i++)
            if (!Slots[i].Equals(other.Slots[i])) return false;
        return true;
    }

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>
    /// Lists the nodes: <c>#0 Model training=true</c>, then one line per slot (<c>linear → #1</c>,
    /// <c>rate = 0.5</c>); a variable prints its kind, aval and state path.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("GraphDef(").Append(Nodes.Length).Append(" nodes, ").Append(StateDef.Count).Append(" variables)");
        for (var i = 0; i < Nodes.Length; i++)
        {
            var n = Nodes[i];
            sb.AppendLine().Append("  #").Append(i).Append(' ');
            switch (n.Kind)
            {
                case NodeKind.Variable:
                    sb.Append(n.Type.Name).Append(' ').Append(n.Aval).Append("  ").Append(StateDef.Paths[n.VariableIndex]);
                    foreach (var (k, v) in n.Metadata) sb.Append(' ').Append(k).Append('=').Append(StaticValue.Format(v));
                    continue;
                case NodeKind.Tuple:
                    sb.Append("roots");
                    break;
                default:
                    sb.Append(NodeType.Describe(n.Type));
                    break;
            }
            for (var j = n.SlotStart; j < n.SlotStart + n.SlotCount; j++)
            {
                var s = Slots[j];
                sb.AppendLine().Append("      ").Append(s.Name);
                if (s.Node >= 0) sb.Append(" → #").Append(s.Node);
                else sb.Append(" = ").Append(StaticValue.Format(s.Static));
            }
        }
        return sb.ToString();
    }
}

/// <summary>One node of a <see cref="GraphDef"/>: its kind and type, where its slots are, and for a variable its aval and state index.</summary>
internal readonly struct NodeDef(NodeKind kind, NodeType type, int slotStart, int slotCount, Aval? aval = null, IReadOnlyDictionary<string, object>? metadata = null, int variableIndex = -1)
{
    public NodeKind Kind { get; } = kind;

    /// <summary>The compiled accessors of the node's type (derived from the type; not part of equality beyond it).</summary>
    public NodeType NodeType { get; } = type;

    public Type Type => NodeType.Type;

    public int SlotStart { get; } = slotStart;

    public int SlotCount { get; } = slotCount;

    /// <summary>A variable's aval.</summary>
    public Aval? Aval { get; } = aval;

    /// <summary>A variable's metadata (immutable).</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; } = metadata ?? EmptyMetadata;

    /// <summary>A variable's index in the state.</summary>
    public int VariableIndex { get; } = variableIndex;

    private static readonly IReadOnlyDictionary<string, object> EmptyMetadata = new Dictionary<string, object>();

    public bool Equals(in NodeDef o) =>
        Kind == o.Kind && Type == o.Type && SlotCount == o.SlotCount && VariableIndex == o.VariableIndex
        && Equals(Aval, o.Aval) && SameMetadata(Metadata, o.Metadata);

    public int Hash() => HashCode.Combine(Kind, Type, SlotCount, Aval, Metadata.Count);

    private static bool SameMetadata(IReadOnlyDictionary<string, object> a, IReadOnlyDictionary<string, object> b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Count != b.Count) return false;
        foreach (var (k, v) in a)
            if (!b.TryGetValue(k, out var w) || !StaticValue.Equals(v, w)) return false;
        return true;
    }
}

/// <summary>One slot of a node: a field, element or entry, named by its path segment; either a child node (<see cref="Node"/> ≥ 0) or a static value.</summary>
internal readonly struct SlotDef(string name, int node, object? value)
{
    /// <summary>The path segment (field name in snake_case, list index, dictionary key); a C# field name for an inlined field.</summary>
    public string Name { get; } = name;

    /// <summary>The child node's index, or −1 for a static value.</summary>
    public int Node { get; } = node;

    /// <summary>The static value as captured (see <see cref="StaticValue"/>).</summary>
    public object? Static { get; } = value;

    public bool Equals(in SlotDef o) =>
        Node == o.Node && (ReferenceEquals(Name, o.Name) || string.Equals(Name, o.Name, StringComparison.Ordinal)) && StaticValue.Equals(Static, o.Static);

    public int Hash() => HashCode.Combine(Node, StringComparer.Ordinal.GetHashCode(Name), StaticValue.Hash(Static));
}
