using System.Reflection;
using NnxSharp.Backends;

namespace NnxSharp;

/// <summary>
/// The cache key of a module jit: the GraphDef of the module arguments (split together), each other
/// argument's tree structure (static values included) and the avals of their tensors.
/// </summary>
internal sealed class StepKey(GraphDef? graph, TreeDef?[] trees, Aval[] leafAvals, IBackend backend) : IEquatable<StepKey>
{
    private readonly int _hash = Hash(graph, trees, leafAvals, backend);

    /// <summary>Where the state lives: the step runs there (moving a model to another device retraces).</summary>
    public IBackend Backend { get; } = backend;

    public GraphDef? Graph { get; } = graph;

    /// <summary>Per argument: its tree structure, or null for a module argument.</summary>
    public TreeDef?[] Trees { get; } = trees;

    public Aval[] LeafAvals { get; } = leafAvals;

    public bool Equals(StepKey? other) =>
        other is not null && _hash == other._hash && Backend == other.Backend && Equals(Graph, other.Graph)
        && Enumerable.SequenceEqual(Trees, other.Trees) && LeafAvals.AsSpan().SequenceEqual(other.LeafAvals);

    public override bool Equals(object? obj) => Equals(obj as StepKey);

    public override int GetHashCode() => _hash;

    private static int Hash(GraphDef? graph, TreeDef?[] trees, Aval[] avals, IBackend backend)
    {
        var h = new HashCode();
        h.Add(backend);
        h.Add(graph);
        foreach (var t in trees) h.Add(t);
        foreach (var a in avals) h.Add(a);
        return h.ToHashCode();
    }
}
