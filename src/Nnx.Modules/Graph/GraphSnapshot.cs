using System.Collections;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// One traversal of an object graph, kept for reuse: the <see cref="GraphDef"/>, the node objects by index,
/// and the variables in state order. <see cref="IsCurrent"/> proves the structure unchanged without
/// rebuilding it: it walks the nodes and compares each field with what the GraphDef recorded (children by
/// reference, static attributes with Equals, variables' avals), allocating nothing. Split, State and
/// Update reuse the snapshot of the same roots while it is current (a per-root cache).
/// </summary>
internal sealed class GraphSnapshot(GraphDef def, object?[] objects, string[] nodePaths, Variable[] variables, object[] roots, bool tupleRoot)
{
    private static readonly ConditionalWeakTable<object, GraphSnapshot[]> ByRoot = new();

    /// <summary>The node objects, by node index.</summary>
    private readonly object?[] _objects = objects;

    /// <summary>Each node's path (where it was first reached).</summary>
    private readonly string[] _nodePaths = nodePaths;

    public GraphDef GraphDef { get; } = def;

    /// <summary>The variables, in state order (each once).</summary>
    public Variable[] Variables { get; } = variables;

    public object[] Roots { get; } = roots;

    public bool TupleRoot { get; } = tupleRoot;

    /// <summary>
    /// The current snapshot of these roots: a cached one when it is current, else a new traversal, then cached.
    /// The cache is keyed by the first root and keeps the last few root sets seen with it (<c>Split(model)</c>
    /// and <c>Split(model, optimizer)</c> do not evict each other).
    /// </summary>
    public static GraphSnapshot For(object[] roots, bool tupleRoot)
    {
        var key = roots[0];
        var recent = ByRoot.TryGetValue(key, out var r) ? r : [];
        for (var i = 0; i < recent.Length; i++)
            if (recent[i].SameRoots(roots, tupleRoot))
            {
                if (recent[i].IsCurrent()) return recent[i];
                recent = [.. recent[..i], .. recent[(i + 1)..]];
                break;
            }
        var fresh = Capture(roots, tupleRoot);
        // Replaced whole, never mutated: a racing caller at worst drops an entry.
        ByRoot.AddOrUpdate(key, [fresh, .. recent.Take(CachePerRoot - 1)]);
        return fresh;
    }

    /// <summary>How many root sets the cache keeps per first root.</summary>
    private const int CachePerRoot = 4;

    /// <summary>Traverses the graph from the roots (no cache).</summary>
    public static GraphSnapshot Capture(object[] roots, bool tupleRoot) => new Builder().Build(roots, tupleRoot);

    /// <summary>True when these are the roots the snapshot was taken from (by reference).</summary>
    public bool SameRoots(object[] roots, bool tupleRoot)
    {
        if (tupleRoot != TupleRoot || roots.Length != Roots.Length) return false;
        for (var i = 0; i < roots.Length; i++)
            if (!ReferenceEquals(roots[i], Roots[i])) return false;
        return true;
    }

    /// <summary>True when a traversal now would give the same GraphDef and the same variable objects.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool IsCurrent()
    {
        var nodes = GraphDef.Nodes;
        var slots = GraphDef.Slots;
        for (var i = 0; i < nodes.Length; i++)
        {
            ref readonly var node = ref nodes[i];
            var obj = _objects[i];
            switch (node.Kind)
            {
                case NodeKind.Module:
                    if (!node.NodeType.Check!(obj!, slots, node.SlotStart, _objects)) return false;
                    break;
                case NodeKind.Variable:
                {
                    var v = (Variable)obj!;
                    var aval = v.RawValue.Aval;
                    var want = node.Aval!;
                    if (!ReferenceEquals(aval, want) && (aval.DType != want.DType || !aval.Shape.Equals(want.Shape))) return false;
                    if (!ReferenceEquals(v.Metadata, node.Metadata)) return false;
                    break;
                }
                case NodeKind.List or NodeKind.Array:
                {
                    var list = (IList)obj!;
                    if (list.Count != node.SlotCount) return false;
                    for (var j = 0; j < node.SlotCount; j++)
                        if (!SameSlot(list[j], slots[node.SlotStart + j])) return false;
                    break;
                }
                case NodeKind.Dictionary:
                {
                    var dict = (IDictionary)obj!;
                    if (dict.Count != node.SlotCount) return false;
                    for (var j = 0; j < node.SlotCount; j++)
                    {
                        ref readonly var slot = ref slots[node.SlotStart + j];
                        if (!dict.Contains(slot.Name) || !SameSlot(dict[slot.Name], slot)) return false;
                    }
                    break;
                }
            }
        }
        return true;
    }

    private bool SameSlot(object? current, in SlotDef slot) =>
        slot.Node >= 0 ? ReferenceEquals(current, _objects[slot.Node]) : StaticValue.Matches(current, slot.Static);

    /// <summary>The current values of the variables, as a State.</summary>
    public State State()
    {
        var values = new Tensor[Variables.Length];
        for (var i = 0; i < values.Length; i++) values[i] = Variables[i].Value;
        return new State(GraphDef.StateDef, values);
    }

    /// <summary>
    /// Records every node's contents now (a module's fields, a list's, array's or dictionary's entries, a
    /// variable's tensor and metadata) and returns the action that puts them back exactly: a failed trace
    /// undoes what the step did to the objects (a submodule added, a static attribute changed, Training flipped).
    /// </summary>
    public Action SaveForRestore()
    {
        var saved = new object?[_objects.Length];
        for (var i = 0; i < _objects.Length; i++)
        {
            var node = GraphDef.Nodes[i];
            saved[i] = node.Kind switch
            {
                NodeKind.Module => node.NodeType.Fields.Select(f => f.Get(_objects[i]!)).ToArray(),
                NodeKind.Variable => ((Variable)_objects[i]!).Save(),
                NodeKind.List or NodeKind.Array => ((IList)_objects[i]!).Cast<object?>().ToArray(),
                NodeKind.Dictionary => Entries((IDictionary)_objects[i]!),
                _ => null,
            };
        }
        return () =>
        {
            for (var i = 0; i < _objects.Length; i++)
            {
                var obj = _objects[i];
                switch (GraphDef.Nodes[i].Kind)
                {
                    case NodeKind.Module:
                        GraphDef.Nodes[i].NodeType.SetFields!(obj!, (object?[])saved[i]!);
                        break;
                    case NodeKind.Variable:
                        ((Variable)obj!).Restore(saved[i]!);
                        break;
                    case NodeKind.Array:
                    {
                        var items = (object?[])saved[i]!;
                        for (var j = 0; j < items.Length; j++) ((IList)obj!)[j] = items[j];
                        break;
                    }
                    case NodeKind.List:
                    {
                        var list = (IList)obj!;
                        list.Clear();
                        foreach (var x in (object?[])saved[i]!) list.Add(x);
                        break;
                    }
                    case NodeKind.Dictionary:
                    {
                        var dict = (IDictionary)obj!;
                        dict.Clear();
                        foreach (var e in (DictionaryEntry[])saved[i]!) dict.Add(e.Key, e.Value);
                        break;
                    }
                }
            }
        };
    }

    private static DictionaryEntry[] Entries(IDictionary dict)
    {
        var entries = new List<DictionaryEntry>(dict.Count);
        var e = dict.GetEnumerator();
        while (e.MoveNext()) entries.Add(e.Entry);
        return [.. entries];
    }

    /// <summary>The modules of the graph with their paths, in traversal order.</summary>
    public IEnumerable<(string Path, Module Module)> Modules()
    {
        for (var i = 0; i < _objects.Length; i++)
            if (_objects[i] is Module m) yield return (_nodePaths[i], m);
    }

    /// <summary>Builds a snapshot by one depth-first traversal; a node's index is fixed on first visit, so sharing and cycles become references.</summary>
    private sealed class Builder
    {
        private readonly Dictionary<object, int> _index = new(ReferenceEqualityComparer.Instance);
        private readonly List<NodeDef> _nodes = [];
        private readonly List<SlotDef> _slots = [];
        private readonly List<object?> _objects = [];
        private readonly List<string> _nodePaths = [];
        private readonly List<Variable> _variables = [];
        private readonly List<string> _paths = [];
        private readonly List<Type> _kinds = [];

        public GraphSnapshot Build(object[] roots, bool tupleRoot)
        {
            if (tupleRoot)
            {
                _objects.Add(roots);
                _nodePaths.Add("");
                _nodes.Add(new NodeDef(NodeKind.Tuple, NodeType.RootTuple, 0, roots.Length));
                for (var i = 0; i < roots.Length; i++) _slots.Add(default);
                for (var i = 0; i < roots.Length; i++)
                {
                    _slots[i] = Slot(PathNames.Index(i), roots[i], PathNames.Index(i));
                    if (_slots[i].Node < 0) throw NotANode(roots[i], $"root {i}");
                }
            }
            else
            {
                var nt = NodeType.Of(roots[0].GetType());
                if (nt is null || nt.Kind == NodeKind.Tensor) throw NotANode(roots[0], "the root");
                Visit(roots[0], nt, "");
            }
            var def = new GraphDef([.. _nodes], [.. _slots], new StateDef([.. _paths], [.. _kinds]));
            return new GraphSnapshot(def, [.. _objects], [.. _nodePaths], [.. _variables], (object[])roots.Clone(), tupleRoot);
        }

        private static ArgumentException NotANode(object value, string where) => new(
            $"Nnx: {where} is a {NodeType.Describe(value.GetType())}, which is not a graph node (a Module, a Variable, or a List, array or " +
            "string-keyed Dictionary of them).");

        /// <summary>The slot for a field, element or entry value: a child node (visited now unless seen before) or a static value.</summary>
        private SlotDef Slot(string name, object? value, string childPath)
        {
            if (value is null) return new SlotDef(name, -1, null);
            var nt = NodeType.Of(value.GetType());
            if (nt is null) return new SlotDef(name, -1, StaticValue.Capture(value, childPath));
            if (nt.Kind == NodeKind.Tensor)
                throw new ArgumentException(
                    $"Nnx: '{childPath}' holds a bare Tensor {((Tensor)value).Aval}; wrap it in a Variable (Param, BatchStat, Cache, …) so that it is state.");
            return new SlotDef(name, Visit(value, nt, childPath), null);
        }

        private int Visit(object obj, NodeType nt, string path)
        {
            if (_index.TryGetValue(obj, out var seen)) return seen;
            var id = _nodes.Count;
            _index.Add(obj, id);
            _objects.Add(obj);
            _nodePaths.Add(path);
            switch (nt.Kind)
            {
                case NodeKind.Variable:
                {
                    var v = (Variable)obj;
                    v.KnownPath = path;
                    _nodes.Add(new NodeDef(NodeKind.Variable, nt, _slots.Count, 0, v.RawValue.Aval, v.Metadata, _variables.Count));
                    _variables.Add(v);
                    _paths.Add(path);
                    _kinds.Add(nt.Type);
                    return id;
                }
                case NodeKind.Module:
                {
                    var fields = nt.Fields;
                    var start = Reserve(nt, fields.Length);
                    for (var j = 0; j < fields.Length; j++)
                    {
                        var f = fields[j];
                        var value = f.Get(obj);
                        _slots[start + j] = f.IsValueType
                            ? new SlotDef(f.Segment ?? f.Name, -1, value)
                            : Slot(f.Segment ?? f.Name, value, PathNames.Join(path, f.Segment));
                    }
                    return id;
                }
                case NodeKind.List or NodeKind.Array:
                {
                    var list = (IList)obj;
                    var start = Reserve(nt, list.Count);
                    for (var j = 0; j < list.Count; j++)
                    {
                        var name = PathNames.Index(j);
                        _slots[start + j] = Slot(name, list[j], PathNames.Join(path, name));
                    }
                    return id;
                }
                default:
                {
                    var dict = (IDictionary)obj;
                    var keys = new string[dict.Count];
                    dict.Keys.CopyTo(keys, 0);
                    Array.Sort(keys, StringComparer.Ordinal);
                    var start = Reserve(nt, keys.Length);
                    for (var j = 0; j < keys.Length; j++)
                        _slots[start + j] = Slot(keys[j], dict[keys[j]], PathNames.Join(path, keys[j]));
                    return id;
                }
            }
        }

        /// <summary>Adds the node with room for its slots, which are filled as its children are visited.</summary>
        private int Reserve(NodeType nt, int count)
        {
            var start = _slots.Count;
            _nodes.Add(new NodeDef(nt.Kind, nt, start, count));
            for (var i = 0; i < count; i++) _slots.Add(default);
            return start;
        }
    }
}
