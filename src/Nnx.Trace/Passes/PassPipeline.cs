using System.Collections.Immutable;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

/// <summary>Node counts around the optimisation passes.</summary>
/// <param name="NodesBefore">Nodes in the traced graph (gradient included).</param>
/// <param name="NodesAfter">Nodes after the passes.</param>
public sealed record PassStats(int NodesBefore, int NodesAfter);

/// <summary>
/// The graph passes run before lowering: algebraic simplification and fusion (<see cref="Simplify"/>),
/// constant folding, common-subexpression elimination and dead-code elimination, to a fixed point.
/// Each pass returns the same graph instance when it changes nothing.
/// </summary>
public static class PassPipeline
{
    /// <summary>Constants larger than this many elements are not folded (they would bloat the graph).</summary>
    public const int FoldLimit = 4096;

    /// <summary>
    /// The most rounds of the passes: each rule rewrites one node from what its operands are, so a chain of
    /// rewrites (a negation moved out of a sum, then folded into a subtraction) takes a round per step.
    /// </summary>
    public const int MaxRounds = 32;

    /// <summary>Runs every pass until nothing changes; returns the optimised graph.</summary>
    public static Graph Optimize(Graph graph) => Optimize(graph, out _);

    /// <summary>Runs every pass until nothing changes, reporting node counts.</summary>
    public static Graph Optimize(Graph graph, out PassStats stats)
    {
        var g = graph;
        for (var round = 0; round < MaxRounds; round++)
        {
            // A round ends with CSE and dead-code elimination, which makes no new duplicates: only the traced graph
            // needs CSE before its first simplification.
            var merged = round == 0 ? EliminateCommonSubexpressions(g) : g;
            var next = EliminateDeadCode(EliminateCommonSubexpressions(FoldConstants(Simplify.Run(merged))));
            if (ReferenceEquals(next, g)) break;
            g = next;
        }
        if (Invariants.Checked) g.Verify();
        stats = new PassStats(graph.Nodes.Length, g.Nodes.Length);
        return g;
    }

    /// <summary>Removes nodes whose results no output needs.</summary>
    public static Graph EliminateDeadCode(Graph g)
    {
        var live = new HashSet<Value>(g.Outputs, ReferenceEqualityComparer.Instance);
        var keep = new bool[g.Nodes.Length];
        for (var i = g.Nodes.Length - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (!live.Contains(n.Output)) continue;
            keep[i] = true;
            foreach (var v in n.Inputs) live.Add(v);
        }
        if (keep.All(k => k)) return g;
        return g.With([.. g.Nodes.Where((_, i) => keep[i])], g.Outputs);
    }

    /// <summary>Merges nodes that apply an equal primitive to the same operands.</summary>
    public static Graph EliminateCommonSubexpressions(Graph g)
    {
        var seen = new Dictionary<(Primitive, ValueList), Value>();
        return Rewrite(g, (node, _) =>
        {
            var key = (node.Op, new ValueList(IsCommutative(node.Op) ? Ordered(node.Inputs) : node.Inputs));
            if (seen.TryGetValue(key, out var existing)) return existing;
            seen[key] = node.Output;
            return null;
        });
    }

    /// <summary>Operations whose two operands can swap (so a·b and b·a are one value).</summary>
    private static bool IsCommutative(Primitive op) => op is Add or Mul or Max or Min or Equal;

    /// <summary>Two operands in an order that does not depend on the order they were written in.</summary>
    private static ImmutableArray<Value> Ordered(ImmutableArray<Value> inputs) =>
        System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(inputs[0]) <= System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(inputs[1])
            ? inputs : [inputs[1], inputs[0]];

    /// <summary>Evaluates nodes whose operands are all constants (results up to <see cref="FoldLimit"/> elements).</summary>
    public static Graph FoldConstants(Graph g)
    {
        var constants = new Dictionary<Value, HostArray>(ReferenceEqualityComparer.Instance);
        return Rewrite(g, (node, emit) =>
        {
            if (node.Op is Literal lit) { constants[node.Output] = lit.Value; return null; }
            if (node.Inputs.Length == 0 || node.Output.Shape.Size > FoldLimit) return RememberSmall(node);
            var args = new HostArray[node.Inputs.Length];
            for (var i = 0; i < args.Length; i++)
                if (!constants.TryGetValue(node.Inputs[i], out args[i]!)) return null;
            var value = node.Op.Eval(args);
            var folded = emit(new Literal(value), []).Output;
            constants[folded] = value;
            return folded;
        });

        Value? RememberSmall(Node node)
        {
            if (node.Inputs.Length == 0 && node.Output.Shape.Size <= FoldLimit) constants[node.Output] = node.Op.Eval([]);
            return null;
        }
    }

    /// <summary>
    /// Rebuilds a graph node by node. <paramref name="rule"/> sees each node with its operands already
    /// rewritten and returns a replacement value (possibly built with <c>emit</c>), or null to keep the node.
    /// Returns the same graph when no rule fired.
    /// </summary>
    internal static Graph Rewrite(Graph g, Func<Node, Func<Primitive, Value[], Node>, Value?> rule)
    {
        var map = new Dictionary<Value, Value>(ReferenceEqualityComparer.Instance);
        var nodes = ImmutableArray.CreateBuilder<Node>(g.Nodes.Length);
        var changed = false;
        Value Map(Value v) => map.TryGetValue(v, out var m) ? m : v;
        Node Emit(Primitive op, Value[] inputs)
        {
            var n = Node.Create(op, [.. inputs]);
            nodes.Add(n);
            return n;
        }

        foreach (var old in g.Nodes)
        {
            var node = old.WithInputs([.. old.Inputs.Select(Map)]);
            var replacement = rule(node, Emit);
            if (replacement is null)
            {
                nodes.Add(node);
                if (!ReferenceEquals(node, old)) { map[old.Output] = node.Output; changed = true; }
                continue;
            }
            if (replacement.Aval != old.Output.Aval)
                throw new InvalidOperationException($"A rewrite replaced {old.Op} ({old.Output.Aval}) by a value of {replacement.Aval}.");
            map[old.Output] = replacement;
            changed = true;
        }
        return changed ? new Graph(g.Inputs, nodes.ToImmutable(), [.. g.Outputs.Select(Map)]) : g;
    }

    /// <summary>A list of values compared by identity, element by element.</summary>
    private readonly struct ValueList(ImmutableArray<Value> values) : IEquatable<ValueList>
    {
        private readonly ImmutableArray<Value> _values = values;

        public bool Equals(ValueList other)
        {
            if (_values.Length != other._values.Length) return false;
            for (var i = 0; i < _values.Length; i++)
                if (!ReferenceEquals(_values[i], other._values[i])) return false;
            return true;
        }

        public override bool Equals(object? obj) => obj is ValueList v && Equals(v);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var v in _values) h.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(v));
            return h.ToHashCode();
        }
    }
}
