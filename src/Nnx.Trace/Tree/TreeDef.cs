using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace NnxSharp;

/// <summary>
/// The structure of a tree of tensors without its tensors: the containers, their types, dictionary keys,
/// node auxiliary data and static (non-tensor) leaves, which compare by value. Immutable; equality and
/// hash are exact and cheap (the hash is computed once), so a def can be a cache key.
/// </summary>
public sealed record TreeDef
{
    private readonly int _hash;

    internal TreeDef(TreeKind kind, Type? type, object? aux, ImmutableArray<TreeDef> children, ITreeNode? factory = null)
    {
        Kind = kind;
        Type = type;
        Aux = aux;
        Children = children;
        Factory = factory;
        LeafCount = kind == TreeKind.Leaf ? 1 : children.Sum(c => c.LeafCount);
        var h = new HashCode();
        h.Add(kind);
        h.Add(type);
        if (aux is ImmutableArray<string> keys) foreach (var k in keys) h.Add(k, StringComparer.Ordinal);
        else h.Add(StaticEquality.Hash(aux));
        foreach (var c in children) h.Add(c._hash);
        _hash = h.ToHashCode();
    }

    /// <summary>The one def of a tensor leaf.</summary>
    internal static readonly TreeDef Leaf = new(TreeKind.Leaf, null, null, []);

    /// <summary>The one def of null.</summary>
    internal static readonly TreeDef Null = new(TreeKind.Null, null, null, []);

    /// <summary>The number of tensor leaves.</summary>
    public int LeafCount { get; }

    internal TreeKind Kind { get; }

    /// <summary>The container type (tuple, array, list, dictionary, node) or the static value's type.</summary>
    internal Type? Type { get; }

    /// <summary>A static value, the sorted dictionary keys, or a node's auxiliary data.</summary>
    internal object? Aux { get; }

    internal ImmutableArray<TreeDef> Children { get; }

    /// <summary>For a node: an instance whose <see cref="ITreeNode.TreeUnflatten"/> rebuilds it (not part of equality).</summary>
    internal ITreeNode? Factory { get; }

    /// <inheritdoc/>
    public bool Equals(TreeDef? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || _hash != other._hash || Kind != other.Kind || Type != other.Type || Children.Length != other.Children.Length)
            return false;
        if (!SameAux(Aux, other.Aux)) return false;
        for (var i = 0; i < Children.Length; i++)
            if (!Children[i].Equals(other.Children[i])) return false;
        return true;
    }

    /// <summary>Equality of auxiliary data: dictionary keys ordinally, static values and node data as <see cref="StaticEquality.Same(object?, object?)"/>.</summary>
    internal static bool SameAux(object? a, object? b) => a is ImmutableArray<string> x && b is ImmutableArray<string> y
        ? x.AsSpan().SequenceEqual(y.AsSpan())
        : StaticEquality.Same(a, b);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Prints the structure with <c>*</c> for each tensor: <c>(*, [*, *], {'b': *, 'w': *}, 3)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Print(sb);
        return sb.ToString();
    }

    /// <summary>The path of tensor leaf <paramref name="index"/>, as <c>[1]['w']</c> (for error messages).</summary>
    internal string LeafPath(int index)
    {
        var sb = new StringBuilder();
        var def = this;
        while (def.Kind != TreeKind.Leaf)
        {
            var i = 0;
            while (index >= def.Children[i].LeafCount) index -= def.Children[i++].LeafCount;
            sb.Append(def.Aux is ImmutableArray<string> keys ? $"['{keys[i]}']" : $"[{i}]");
            def = def.Children[i];
        }
        return sb.Length == 0 ? "(root)" : sb.ToString();
    }

    /// <summary>
    /// Every tensor leaf's path as names joined by <c>/</c> under <paramref name="prefix"/>: dictionary keys,
    /// a node's child names (a State's variable paths) and positions, e.g. <c>s/linear/kernel</c>, <c>out1/0</c>.
    /// </summary>
    internal IReadOnlyList<string> LeafNames(string prefix)
    {
        var names = new List<string>(LeafCount);
        CollectNames(prefix, names);
        return names;
    }

    private void CollectNames(string prefix, List<string> names)
    {
        if (Kind == TreeKind.Leaf)
        {
            names.Add(prefix);
            return;
        }
        for (var i = 0; i < Children.Length; i++)
        {
            var name = Aux is ImmutableArray<string> keys ? keys[i]
                : Kind == TreeKind.Node ? Factory!.ChildName(Aux, i)
                : i.ToString(CultureInfo.InvariantCulture);
            Children[i].CollectNames(prefix.Length == 0 ? name : $"{prefix}/{name}", names);
        }
    }

    private void Print(StringBuilder sb)
    {
        switch (Kind)
        {
            case TreeKind.Leaf: sb.Append('*'); return;
            case TreeKind.Null: sb.Append("null"); return;
            case TreeKind.Static:
                sb.Append(Aux is string s ? $"\"{s}\"" : Convert.ToString(Aux, CultureInfo.InvariantCulture));
                return;
            case TreeKind.Dictionary:
                var keys = (ImmutableArray<string>)Aux!;
                sb.Append('{');
                for (var i = 0; i < Children.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    sb.Append('\'').Append(keys[i]).Append("': ");
                    Children[i].Print(sb);
                }
                sb.Append('}');
                return;
            default:
                var (open, close) = Kind switch
                {
                    TreeKind.Tuple => ("(", ")"),
                    TreeKind.Array => ("[", "]"),
                    TreeKind.List => ("List[", "]"),
                    _ => ($"{Type!.Name}({Aux})[", "]"),
                };
                sb.Append(open);
                for (var i = 0; i < Children.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Children[i].Print(sb);
                }
                sb.Append(close);
                return;
        }
    }
}

/// <summary>What a <see cref="TreeDef"/> node is.</summary>
internal enum TreeKind : byte
{
    /// <summary>A tensor.</summary>
    Leaf,
    /// <summary>null.</summary>
    Null,
    /// <summary>A static value (number, bool, string, enum) held in the def.</summary>
    Static,
    /// <summary>A ValueTuple.</summary>
    Tuple,
    /// <summary>An array, or an IReadOnlyList that is rebuilt as an array.</summary>
    Array,
    /// <summary>A List&lt;T&gt;.</summary>
    List,
    /// <summary>A Dictionary&lt;string, T&gt;, keys sorted ordinally.</summary>
    Dictionary,
    /// <summary>An <see cref="ITreeNode"/>.</summary>
    Node,
}
