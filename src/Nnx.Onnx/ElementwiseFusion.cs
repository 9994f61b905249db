using NnxSharp.Onnx.Schema;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// Fuses, in a model lowered for this process's CPU, clusters of float32 elementwise nodes of one result shape into
/// one <see cref="NnxCpuOps.Elementwise"/> node each (CpuKernels.Elementwise.cs), which makes one pass where the nodes
/// made one each and keeps the temporaries in L1. ONNX Runtime's elementwise kernels took 7–9 µs per [32, 512] node on
/// one thread (notes/compiler.md): a BatchNorm's forward and backward pass were a dozen of them.
/// <para>
/// Nodes are taken in order; each joins the clusters that compute its operands when the result stays convex (no path
/// leaves it and comes back, so the fused node can be placed) and its operands fit the kernel's layouts (the result's
/// shape, a row, a column, a scalar). A comparison is not a member but is inlined into each cluster that reads its mask
/// (it is recomputed there, and kept as a node only if something else reads it), so no bool tensor is written. A lone
/// node moves into the kernel only from <see cref="MinLoneElements"/> elements. Each operation rounds as ONNX Runtime's
/// kernel does, so the fused model gives the same bits; exported files never contain the op.
/// </para>
/// </summary>
internal static class ElementwiseFusion
{
    /// <summary>The smallest result for which a single node is run by the kernel (below it ORT's own kernel is as fast).</summary>
    public const int MinLoneElements = 2048;

    /// <summary>What one ONNX node computes, when the kernel can compute it.</summary>
    private sealed record Op(ElementwiseOp Code, bool IsCompare, string[] Operands, string Output, Shape Shape);

    private sealed record Cluster(Shape Shape, SortedSet<int> Members, SortedSet<int> Compares);

    /// <summary>Fuses the clusters among <paramref name="graph"/>'s nodes; avals are read with <paramref name="avalOf"/>, programs made with <paramref name="constant"/>.</summary>
    public static void Fuse(GraphProto graph, Func<string, Aval?> avalOf, Func<HostArray, string> constant)
    {
        var nodes = graph.Node.ToList();
        var producer = new Dictionary<string, int>();
        var readers = new Dictionary<string, List<int>>();
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var o in nodes[i].Output) producer[o] = i;
            foreach (var v in nodes[i].Input)
                if (readers.TryGetValue(v, out var list)) { if (list[^1] != i) list.Add(i); }
                else readers[v] = [i];
        }
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet();
        // A lowering that emits two nodes (rsqrt as Sqrt, Reciprocal) leaves the first one's aval unknown: derive it.
        var derived = new Dictionary<string, Aval>();
        Aval? AvalOf(string v) => derived.TryGetValue(v, out var a) ? a : avalOf(v);
        var ops = new Op?[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
            if ((ops[i] = Classify(nodes[i], AvalOf)) is { } known && avalOf(known.Output) is null)
                derived[known.Output] = new Aval(known.Shape, known.IsCompare ? DType.Bool : DType.Float32);
        int Producer(string v) => producer.TryGetValue(v, out var p) ? p : -1;

        var clusterOf = Enumerable.Repeat(-1, nodes.Count).ToArray();
        var clusters = new List<Cluster?>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (ops[i] is not { IsCompare: false } op) continue;
            // A mask must come from a comparison that the cluster can compute itself.
            var compares = new SortedSet<int>();
            var inlinable = true;
            for (var s = 0; s < op.Operands.Length; s++)
                if (IsMaskOperand(op.Code, s))
                {
                    var p = Producer(op.Operands[s]);
                    if (p >= 0 && ops[p] is { IsCompare: true }) compares.Add(p);
                    else inlinable = false;
                }
            if (!inlinable) continue;
            var near = op.Operands.Concat(compares.SelectMany(c => ops[c]!.Operands))
                .Select(v => Producer(v) is var p && p >= 0 ? clusterOf[p] : -1)
                .Where(c => c >= 0 && clusters[c]!.Shape.Equals(op.Shape)).Distinct().ToList();
            // Join all the neighbouring clusters if that stays valid, else the first one that does, else start one.
            List<List<int>> choices = near.Count > 1 ? [near, .. near.Select(c => new List<int> { c })] : [near];
            if (near.Count > 0) choices.Add([]);
            foreach (var choice in choices)
            {
                var candidate = new Cluster(op.Shape, new SortedSet<int>(choice.SelectMany(c => clusters[c]!.Members)) { i },
                    new SortedSet<int>(choice.SelectMany(c => clusters[c]!.Compares).Concat(compares)));
                if (!Valid(candidate)) continue;
                foreach (var c in choice) clusters[c] = null;
                foreach (var m in candidate.Members) clusterOf[m] = clusters.Count;
                clusters.Add(candidate);
                break;
            }
        }

        var fused = clusters.OfType<Cluster>().Where(c => c.Members.Count > 1 || c.Compares.Count > 0 || c.Shape.Size >= MinLoneElements).ToList();
        if (fused.Count == 0) return;

        // A comparison goes when every reader of its mask is a fused member that computes it.
        var fusedMember = new Dictionary<int, Cluster>();
        foreach (var c in fused) foreach (var m in c.Members) fusedMember[m] = c;
        var removedCompares = fused.SelectMany(c => c.Compares).Distinct()
            .Where(k => !graphOutputs.Contains(ops[k]!.Output)
                        && readers[ops[k]!.Output].All(r => fusedMember.TryGetValue(r, out var c) && c.Compares.Contains(k)))
            .ToHashSet();

        var replacement = new Dictionary<int, NodeProto>(); // a cluster's first member → its fused node
        foreach (var c in fused)
        {
            if (Build(c) is not { } node) return; // no value of it is read: not a live graph's cluster
            replacement[c.Members.Min] = node;
        }
        var removed = new HashSet<int>(fused.SelectMany(c => c.Members).Concat(removedCompares));
        var kept = new List<(int Key, NodeProto Node)>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (replacement.TryGetValue(i, out var node)) kept.Add((i, node));
            if (!removed.Contains(i)) kept.Add((i, nodes[i]));
        }
        if (TopologicalOrder(kept) is not { } order) return; // clusters that wait on each other: leave the graph as it is
        graph.Node.Clear();
        graph.Node.AddRange(order);

        // Whether the cluster stays convex and its operands fit the kernel's layouts and limits.
        bool Valid(Cluster c)
        {
            var all = new HashSet<int>(c.Members.Concat(c.Compares));
            if (all.Count > CpuKernels.MaxFusedInstructions || Externals(c).Count > CpuKernels.MaxFusedInputs) return false;
            if (Layout(c.Shape, Externals(c).Select(v => AvalOf(v)!.Shape)) is null) return false;
            var seen = new HashSet<int>();
            var stack = new Stack<int>();
            foreach (var n in all)
                foreach (var v in nodes[n].Input)
                    if (Producer(v) is var p && p >= 0 && !all.Contains(p) && seen.Add(p)) stack.Push(p);
            while (stack.Count > 0)
            {
                var n = stack.Pop();
                if (all.Contains(n)) return false;
                foreach (var v in nodes[n].Input)
                    if (Producer(v) is var p && p >= 0 && seen.Add(p)) stack.Push(p);
            }
            return true;
        }

        // Whether a member's value is read by anything but the cluster (a graph output, a node, another cluster's comparison).
        bool ReadOutside(string value, Cluster c) => graphOutputs.Contains(value) || readers.GetValueOrDefault(value, []).Any(r =>
            !c.Members.Contains(r) && !(c.Compares.Contains(r) && removedCompares.Contains(r) && readers[ops[r]!.Output].All(c.Members.Contains)));

        // The values the cluster reads from outside it, in order of first reading.
        List<string> Externals(Cluster c)
        {
            var all = new SortedSet<int>(c.Members.Concat(c.Compares));
            var list = new List<string>();
            foreach (var n in all)
                foreach (var v in ops[n]!.Operands)
                    if (!all.Contains(Producer(v)) && !list.Contains(v)) list.Add(v);
            return list;
        }

        NodeProto? Build(Cluster c)
        {
            var all = new SortedSet<int>(c.Members.Concat(c.Compares)).ToList();
            var externals = Externals(c);
            var (split, modes) = Layout(c.Shape, externals.Select(v => AvalOf(v)!.Shape))!.Value;
            var register = new Dictionary<string, int>();
            for (var i = 0; i < externals.Count; i++) register[externals[i]] = i;
            var code = new List<long>();
            for (var j = 0; j < all.Count; j++)
            {
                var op = ops[all[j]]!;
                code.Add((long)op.Code);
                for (var s = 0; s < 3; s++) code.Add(s < op.Operands.Length ? register[op.Operands[s]] : -1);
                register[op.Output] = externals.Count + j;
            }
            var outputs = c.Members.Select(m => ops[m]!.Output).Where(v => ReadOutside(v, c)).ToList();
            if (outputs.Count == 0) return null;
            var dims = c.Shape.ToLongArray();
            long rows = 1;
            for (var d = 0; d < split; d++) rows *= dims[d];
            long[] program =
            [
                1, externals.Count, outputs.Count, all.Count, dims.Length, .. dims, rows, c.Shape.Size / Math.Max(rows, 1),
                .. modes, .. code, .. outputs.Select(o => (long)register[o]),
            ];
            var node = new NodeProto
            {
                OpType = NnxCpuOps.Elementwise,
                Domain = NnxCpuOps.Domain,
                Name = $"{NnxCpuOps.Elementwise}_{nodes[all[0]].Name}",
                DocString = string.Join("; ", all.Select(n => nodes[n].DocString).Where(d => d.Length > 0).Distinct()),
            };
            node.Input.Add(constant(HostArray.Create(program, Shape.Of(program.Length))));
            node.Input.AddRange(externals);
            node.Output.AddRange(outputs);
            return node;
        }
    }

    /// <summary>Whether operand <paramref name="slot"/> of <paramref name="code"/> is a mask (the condition of a selection).</summary>
    private static bool IsMaskOperand(ElementwiseOp code, int slot) => slot == 0 && code is ElementwiseOp.SelectOrZero or ElementwiseOp.Where;

    /// <summary>
    /// The node as a kernel instruction: float32 operands (a bool mask for a selection) of known avals, and a result that is
    /// their broadcast (or of unknown aval); null otherwise.
    /// </summary>
    private static Op? Classify(NodeProto node, Func<string, Aval?> avalOf)
    {
        if (node.Output.Count != 1 || node.Attribute.Count > 0) return null;
        ElementwiseOp? code = node.Domain switch
        {
            "" => node.OpType switch
            {
                "Add" => ElementwiseOp.Add, "Sub" => ElementwiseOp.Sub, "Mul" => ElementwiseOp.Mul, "Div" => ElementwiseOp.Div,
                "Neg" => ElementwiseOp.Neg, "Abs" => ElementwiseOp.Abs, "Sqrt" => ElementwiseOp.Sqrt,
                "Reciprocal" => ElementwiseOp.Reciprocal, "Relu" => ElementwiseOp.Relu,
                "Greater" => ElementwiseOp.Greater, "Less" => ElementwiseOp.Less, "GreaterOrEqual" => ElementwiseOp.GreaterOrEqual,
                "LessOrEqual" => ElementwiseOp.LessOrEqual, "Equal" => ElementwiseOp.Equal, "Where" => ElementwiseOp.Where,
                _ => null,
            },
            NnxCpuOps.Domain when node.OpType == NnxCpuOps.SelectOrZero => ElementwiseOp.SelectOrZero,
            _ => null,
        };
        if (code is not { } c) return null;
        var arity = c switch
        {
            ElementwiseOp.Neg or ElementwiseOp.Abs or ElementwiseOp.Sqrt or ElementwiseOp.Reciprocal or ElementwiseOp.Relu => 1,
            ElementwiseOp.Where => 3,
            _ => 2,
        };
        if (node.Input.Count != arity) return null;
        var isCompare = c is >= ElementwiseOp.Greater and <= ElementwiseOp.Equal;
        var dtype = isCompare ? DType.Bool : DType.Float32;
        var shapes = new List<Shape>();
        for (var s = 0; s < arity; s++)
        {
            if (avalOf(node.Input[s]) is not { } a || a.DType != (IsMaskOperand(c, s) ? DType.Bool : DType.Float32)) return null;
            shapes.Add(a.Shape);
        }
        if (Broadcast(shapes) is not { } shape || avalOf(node.Output[0]) is { } output && output != new Aval(shape, dtype)) return null;
        if (c == ElementwiseOp.SelectOrZero && !shapes[0].Equals(shapes[1])) return null;
        return new Op(c, isCompare, [.. node.Input], node.Output[0], shape);
    }

    /// <summary>The broadcast of <paramref name="shapes"/> (numpy's rule), or null when they do not broadcast.</summary>
    private static Shape? Broadcast(List<Shape> shapes)
    {
        var rank = shapes.Max(s => s.Rank);
        var dims = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            dims[d] = 1;
            foreach (var s in shapes)
            {
                var k = d - (rank - s.Rank);
                if (k < 0 || s[k] == 1) continue;
                if (dims[d] != 1 && dims[d] != s[k]) return null;
                dims[d] = s[k];
            }
        }
        return Shape.Of(dims);
    }

    /// <summary>
    /// The first axis split of <paramref name="result"/> into [rows, columns] at which every operand is the whole result, a
    /// row, a column or a scalar (<see cref="ElementwiseProgram"/>'s modes), with each operand's mode; null when none fits.
    /// </summary>
    internal static (int Split, long[] Modes)? Layout(Shape result, IEnumerable<Shape> operands)
    {
        var list = operands.ToList();
        for (var split = 0; split <= result.Rank; split++)
        {
            var modes = new long[list.Count];
            var fits = true;
            for (var i = 0; i < list.Count && fits; i++)
            {
                var s = list[i];
                if (s.Rank > result.Rank) { fits = false; break; }
                var dims = Enumerable.Repeat(1, result.Rank - s.Rank).Concat(s).ToArray();
                bool Ones(int from, int to) => dims[from..to].All(d => d == 1);
                bool Same(int from, int to) => dims[from..to].SequenceEqual(result.ToArray()[from..to]);
                modes[i] = Same(0, result.Rank) ? ElementwiseProgram.Full
                    : Ones(0, result.Rank) ? ElementwiseProgram.Scalar
                    : Ones(0, split) && Same(split, result.Rank) ? ElementwiseProgram.Row
                    : Same(0, split) && Ones(split, result.Rank) ? ElementwiseProgram.Column
                    : -1;
                fits = modes[i] >= 0;
            }
            if (fits) return (split, modes);
        }
        return null;
    }

    /// <summary>The nodes in an order where each comes after the producers of its inputs, as close to <c>Key</c> order as that allows; null on a cycle.</summary>
    private static List<NodeProto>? TopologicalOrder(List<(int Key, NodeProto Node)> nodes)
    {
        var producer = new Dictionary<string, int>();
        for (var i = 0; i < nodes.Count; i++)
            foreach (var o in nodes[i].Node.Output) producer[o] = i;
        var waiting = new int[nodes.Count];
        var consumers = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++) consumers[i] = [];
        for (var i = 0; i < nodes.Count; i++)
            foreach (var p in nodes[i].Node.Input.Where(producer.ContainsKey).Select(v => producer[v]).Distinct())
            {
                waiting[i]++;
                consumers[p].Add(i);
            }
        var ready = new PriorityQueue<int, (int, int)>();
        for (var i = 0; i < nodes.Count; i++) if (waiting[i] == 0) ready.Enqueue(i, (nodes[i].Key, i));
        var order = new List<NodeProto>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(nodes[i].Node);
            foreach (var c in consumers[i])
                if (--waiting[c] == 0) ready.Enqueue(c, (nodes[c].Key, c));
        }
        return order.Count == nodes.Count ? order : null;
    }
}
