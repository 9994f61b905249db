using System.Runtime.CompilerServices;

namespace NnxSharp;

// The object-graph half of the front door: Split, Merge, Update, State, GraphDef.
public static partial class Nnx
{
    /// <summary>
    /// Splits modules into their structure and their values. Several nodes (<c>Split(model, optimizer)</c>, or
    /// one tuple <c>Split((model, optimizer))</c>) are split together as one tuple of roots: a node they share
    /// (the optimizer's model) is stored once, and paths start with the root's index (<c>0/linear/kernel</c>).
    /// The structure of the same roots is cached and reused while it is unchanged.
    /// </summary>
    public static (GraphDef GraphDef, State State) Split(params object[] nodes)
    {
        var snapshot = Snapshot(nodes, nameof(Split));
        return (snapshot.GraphDef, snapshot.State());
    }

    /// <summary>Splits <paramref name="node"/> into its structure and its state, which <paramref name="filter"/> must select entirely.</summary>
    public static (GraphDef GraphDef, State State) Split(object node, Filter filter)
    {
        var (def, states) = SplitBy(node, filter);
        return (def, states[0]);
    }

    /// <summary>
    /// Splits <paramref name="node"/> into its structure and two states: each variable goes to the first filter
    /// that selects it (<c>Split(model, Filter.Of&lt;Param&gt;(), Filter.Everything)</c>); every variable must be selected.
    /// </summary>
    public static (GraphDef GraphDef, State First, State Second) Split(object node, Filter first, Filter second)
    {
        var (def, states) = SplitBy(node, first, second);
        return (def, states[0], states[1]);
    }

    /// <summary>Splits <paramref name="node"/> into its structure and three states, as <see cref="Split(object, Filter, Filter)"/>.</summary>
    public static (GraphDef GraphDef, State First, State Second, State Third) Split(object node, Filter first, Filter second, Filter third)
    {
        var (def, states) = SplitBy(node, first, second, third);
        return (def, states[0], states[1], states[2]);
    }

    /// <summary>The structure of the nodes (as <see cref="Split(object[])"/> gives it), from the cache when unchanged.</summary>
    public static GraphDef GraphDef(params object[] nodes) => Snapshot(nodes, nameof(GraphDef)).GraphDef;

    /// <summary>The current values of every variable of the nodes, by path.</summary>
    public static State State(params object[] nodes) => Snapshot(nodes, nameof(State)).State();

    /// <summary>The current values of the variables of <paramref name="node"/> that <paramref name="filter"/> selects (possibly none).</summary>
    public static State State(object node, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Snapshot([node], nameof(State)).State().Filter(filter);
    }

    /// <summary>
    /// A new object graph of structure <paramref name="graphdef"/> holding the values of <paramref name="states"/>
    /// (their union; together they must give exactly the GraphDef's variables, of the recorded kinds and avals).
    /// Shared nodes stay shared. Modules are created without running their constructors: every field gets the
    /// value the GraphDef recorded (static attributes) or a new node (submodules, variables, containers).
    /// </summary>
    public static T Merge<T>(GraphDef graphdef, params State[] states)
    {
        var root = MergeRoot(graphdef, states, 1);
        return root is T t ? t : throw new InvalidCastException($"Merge<{typeof(T).Name}>: the GraphDef's root is a {NodeType.Describe(root.GetType())}.");
    }

    /// <summary>Merges a GraphDef of two roots (from <c>Split(a, b)</c>) into two new roots.</summary>
    public static (T1, T2) Merge<T1, T2>(GraphDef graphdef, params State[] states)
    {
        var roots = (object[])MergeRoot(graphdef, states, 2);
        return (Root<T1>(roots, 0, 2), Root<T2>(roots, 1, 2));
    }

    /// <summary>Merges a GraphDef of three roots (from <c>Split(a, b, c)</c>) into three new roots.</summary>
    public static (T1, T2, T3) Merge<T1, T2, T3>(GraphDef graphdef, params State[] states)
    {
        var roots = (object[])MergeRoot(graphdef, states, 3);
        return (Root<T1>(roots, 0, 3), Root<T2>(roots, 1, 3), Root<T3>(roots, 2, 3));
    }

    /// <summary>
    /// Writes the values of <paramref name="states"/> into the variables of <paramref name="node"/> (a module,
    /// or a tuple of roots such as <c>(model, optimizer)</c>), by path. Every path must exist, with the same kind
    /// and aval; all are checked before any is written, so a failed update changes nothing.
    /// </summary>
    public static void Update(object node, params State[] states)
    {
        ArgumentNullException.ThrowIfNull(states);
        GraphMerge.Update(Snapshot([node], nameof(Update)), states);
    }

    /// <summary>The current snapshot of the roots (cached per root object while its structure is unchanged).</summary>
    internal static GraphSnapshot Snapshot(object[] nodes, string op)
    {
        var (roots, tupleRoot) = Roots(nodes, op);
        return GraphSnapshot.For(roots, tupleRoot);
    }

    /// <summary>
    /// The roots of a call: one node, or several as a tuple. Several arguments, an explicit <c>object[]</c> or
    /// one ValueTuple are several roots; a typed array (<c>Linear[]</c>) passed alone is one root.
    /// </summary>
    internal static (object[] Roots, bool TupleRoot) Roots(object[] nodes, string op)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.GetType() != typeof(object[])) return ([nodes], false);
        if (nodes.Length == 0) throw new ArgumentException($"{op}: give at least one module.");
        if (nodes.Length == 1 && nodes[0] is ITuple tuple && nodes[0].GetType().FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal))
        {
            var items = new object[tuple.Length];
            for (var i = 0; i < items.Length; i++) items[i] = tuple[i] ?? throw new ArgumentNullException(nameof(nodes), $"{op}: root {i} is null.");
            return (items, true);
        }
        for (var i = 0; i < nodes.Length; i++)
        {
            if (nodes[i] is null) throw new ArgumentNullException(nameof(nodes), $"{op}: root {i} is null.");
            if (nodes[i] is Filter)
                throw new ArgumentException($"{op}: filters follow a single node; split several roots with filters as a tuple: {op}((a, b), filter1, filter2).");
        }
        return (nodes, nodes.Length > 1);
    }

    private static (GraphDef, State[]) SplitBy(object node, params Filter[] filters)
    {
        foreach (var f in filters) ArgumentNullException.ThrowIfNull(f, nameof(filters));
        var snapshot = Snapshot([node], nameof(Split));
        return (snapshot.GraphDef, snapshot.State().Split(filters));
    }

    private static object MergeRoot(GraphDef graphdef, State[] states, int roots)
    {
        ArgumentNullException.ThrowIfNull(graphdef);
        ArgumentNullException.ThrowIfNull(states);
        foreach (var s in states) ArgumentNullException.ThrowIfNull(s, nameof(states));
        if (graphdef.RootCount != roots || (roots > 1) != (graphdef.Nodes[0].Kind == NodeKind.Tuple))
            throw new ArgumentException(
                $"Merge: the GraphDef has {graphdef.RootCount} root(s) but {roots} type argument(s) were given" +
                (graphdef.RootCount > 1 ? $"; use Merge<{string.Join(", ", Enumerable.Range(1, graphdef.RootCount).Select(i => $"T{i}"))}>." : "."));
        return GraphMerge.Merge(graphdef, states);
    }

    private static T Root<T>(object[] roots, int i, int n) => roots[i] is T t
        ? t
        : throw new InvalidCastException($"Merge: root {i} of {n} is a {NodeType.Describe(roots[i].GetType())}, not a {typeof(T).Name}.");
}
