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
/// node moves into the kernel only from <see cref="MinLoneElements"/> elements. A <see cref="NnxCpuOps.ColumnSums"/> into a
/// vector joins the cluster that computes its operand (summed as each row is computed, so an operand only summed is never
/// written), when no member of that cluster reads the sum. Each operation rounds as ONNX Runtime's
/// kernel does, so the fused model gives the same bits; exported files never contain the op.
/// </para>
/// </summary>
internal static class ElementwiseFusion
{
    /// <summary>The smallest result for which a single node is run by the kernel (below it ORT's own kernel is as fast).</summary>
    public const int MinLoneElements = 2048;

    /// <summary>What one ONNX node computes, when the kernel can compute it; a column sum's <c>Shape</c> is its operand's, of its <c>SumColumns</c> columns.</summary>
    private sealed record Op(ElementwiseOp Code, bool IsCompare, string[] Operands, string Output, Shape Shape, long SumColumns = 0)
    {
        /// <summary>A scaled weighted sum's α and β, as the names of the scalar operands that the fused node gets (<see cref="ScaleName"/>).</summary>
        public string[] Scales { get; init; } = [];

        /// <summary>What the program reads: the operands, then the scales.</summary>
        public IEnumerable<string> Reads => Scales.Length == 0 ? Operands : Operands.Concat(Scales);
    }

    // A scale's operand before the fused node makes it a constant (only a fused sum's scales become initializers).
    private const string ScalePrefix = "\u0001scale:";

    private static string ScaleName(float value) => ScalePrefix + BitConverter.SingleToInt32Bits(value).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A cluster: its result shape, its members and the comparisons it computes, each by node index, ascending.</summary>
    private sealed class Cluster(Shape shape, List<int> members, List<int> compares)
    {
        public Shape Shape { get; } = shape;
        public List<int> Members { get; } = members;
        public List<int> Compares { get; } = compares;

        /// <summary>Members and comparisons, ascending: the order the program computes them in.</summary>
        public List<int> All() => Sorted([.. Members, .. Compares]);
    }

    /// <summary>
    /// Fuses the clusters among <paramref name="graph"/>'s nodes; avals are read with <paramref name="avalOf"/>, programs made
    /// with <paramref name="constant"/>. A lone node is fused from <paramref name="minLoneElements"/> elements (the eager path
    /// asks for every size: <see cref="ElementwiseExecutable"/>).
    /// </summary>
    public static void Fuse(GraphProto graph, Func<string, Aval?> avalOf, Func<HostArray, string> constant, int minLoneElements = MinLoneElements)
    {
        var nodes = new List<NodeProto>(graph.Node);
        var producer = new Dictionary<string, int>();
        var readers = new Dictionary<string, List<int>>();
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var o in nodes[i].Output) producer[o] = i;
            foreach (var v in nodes[i].Input)
                if (readers.TryGetValue(v, out var list)) { if (list[^1] != i) list.Add(i); }
                else readers[v] = [i];
        }
        var graphOutputs = new HashSet<string>();
        foreach (var o in graph.Output) graphOutputs.Add(o.Name);
        // A lowering that emits two nodes (rsqrt as Sqrt, Reciprocal) leaves the first one's aval unknown: derive it.
        var derived = new Dictionary<string, Aval>();
        Aval? AvalOf(string v) => derived.TryGetValue(v, out var a) ? a : avalOf(v);
        var ops = new Op?[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            if ((ops[i] = Classify(nodes[i], AvalOf)) is { SumColumns: 0 } known && avalOf(known.Output) is null)
                derived[known.Output] = new Aval(known.Shape, known.IsCompare ? DType.Bool : DType.Float32);
            foreach (var scale in ops[i]?.Scales ?? []) derived[scale] = new Aval(Shape.Scalar, DType.Float32);
        }
        int Producer(string v) => producer.TryGetValue(v, out var p) ? p : -1;
        // A weighted sum's Gemm of [1, n] is fused with the Reshape to [n] that reads it (and only then): the fused node
        // writes the vector, so the Reshape goes too, and its result counts as the Gemm's.
        var reshapeOf = new Dictionary<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (ops[i] is not { Code: ElementwiseOp.WeightedColumnSum or ElementwiseOp.ScaledWeightedColumnSum } gemm) continue;
            ops[i] = null;
            var gemmOutput = nodes[i].Output[0];
            if (graphOutputs.Contains(gemmOutput) || readers.GetValueOrDefault(gemmOutput) is not [var r]
                || nodes[r] is not { Domain: "", OpType: "Reshape" } reshape || reshape.Input[0] != gemmOutput
                || avalOf(reshape.Output[0]) is not { DType: DType.Float32, Shape.Rank: 1 } vector || vector.Shape.Size != gemm.SumColumns)
                continue;
            ops[i] = gemm with { Output = reshape.Output[0] };
            reshapeOf[i] = r;
            producer[reshape.Output[0]] = i;
        }

        var clusterOf = new int[nodes.Count];
        Array.Fill(clusterOf, -1);
        var clusters = new List<Cluster?>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (ops[i] is not { IsCompare: false } op) continue;
            if (op.SumColumns > 0)
            {
                // A column sum joins the cluster that computes its operand, or stays ColumnSums.
                var from = Producer(op.Operands[0]);
                if (from < 0 || clusterOf[from] is var k && k < 0 || !clusters[k]!.Shape.Equals(op.Shape)) continue;
                var with = new Cluster(op.Shape, Sorted([.. clusters[k]!.Members, i]), clusters[k]!.Compares);
                if (!Valid(with)) continue;
                clusters[k] = with;
                clusterOf[i] = k;
                continue;
            }
            // A mask must come from a comparison that the cluster can compute itself.
            var compares = new List<int>();
            var inlinable = true;
            for (var s = 0; s < op.Operands.Length; s++)
                if (IsMaskOperand(op.Code, s))
                {
                    var p = Producer(op.Operands[s]);
                    if (p >= 0 && ops[p] is { IsCompare: true }) compares.Add(p);
                    else inlinable = false;
                }
            if (!inlinable) continue;
            // The clusters of the same shape that compute an operand (or an operand of a comparison read).
            var near = new List<int>();
            void Near(string v)
            {
                var p = Producer(v);
                if (p >= 0 && clusterOf[p] is var c && c >= 0 && !near.Contains(c) && clusters[c]!.Shape.Equals(op.Shape)) near.Add(c);
            }
            foreach (var v in op.Operands) Near(v);
            foreach (var k in compares) foreach (var v in ops[k]!.Operands) Near(v);
            // Join all the neighbouring clusters if that stays valid, else the first one that does, else start one.
            var choices = new List<List<int>> { near };
            if (near.Count > 1) foreach (var c in near) choices.Add([c]);
            if (near.Count > 0) choices.Add([]);
            foreach (var choice in choices)
            {
                List<int> members = [i], all = [.. compares];
                foreach (var c in choice)
                {
                    members.AddRange(clusters[c]!.Members);
                    all.AddRange(clusters[c]!.Compares);
                }
                var candidate = new Cluster(op.Shape, Sorted(members), Sorted(all));
                if (!Valid(candidate)) continue;
                foreach (var c in choice) clusters[c] = null;
                foreach (var m in candidate.Members) clusterOf[m] = clusters.Count;
                clusters.Add(candidate);
                break;
            }
        }

        // A sum whose operand no cluster computes joins a cluster of its shape that reads the operand (the operand of a
        // BatchNorm's batch statistics and of its running average is the layer's product, which the normalisation reads).
        for (var i = 0; i < nodes.Count; i++)
        {
            if (ops[i] is not { SumColumns: > 0 } op || clusterOf[i] >= 0) continue;
            foreach (var r in readers.GetValueOrDefault(op.Operands[0], []))
            {
                if (clusterOf[r] is var k && k < 0 || !clusters[k]!.Shape.Equals(op.Shape)) continue;
                var with = new Cluster(op.Shape, Sorted([.. clusters[k]!.Members, i]), clusters[k]!.Compares);
                if (!Valid(with)) continue;
                clusters[k] = with;
                clusterOf[i] = k;
                break;
            }
        }

        var fused = new List<Cluster>();
        foreach (var c in clusters)
            if (c is not null && (c.Members.Count > 1 || c.Compares.Count > 0 || c.Shape.Size >= minLoneElements)) fused.Add(c);
        if (fused.Count == 0) return;

        // A comparison goes when every reader of its mask is a fused member that computes it.
        var fusedMember = new Dictionary<int, Cluster>();
        foreach (var c in fused) foreach (var m in c.Members) fusedMember[m] = c;
        var removedCompares = new HashSet<int>();
        foreach (var c in fused)
            foreach (var k in c.Compares)
            {
                var gone = !graphOutputs.Contains(ops[k]!.Output);
                foreach (var r in readers[ops[k]!.Output]) gone &= fusedMember.TryGetValue(r, out var by) && by.Compares.BinarySearch(k) >= 0;
                if (gone) removedCompares.Add(k);
            }

        var replacement = new Dictionary<int, NodeProto>(); // a cluster's first member → its fused node
        var removed = new HashSet<int>(removedCompares);
        foreach (var c in fused)
        {
            if (Build(c) is not { } node) return; // no value of it is read: not a live graph's cluster
            replacement[c.Members[0]] = node;
            foreach (var m in c.Members)
            {
                removed.Add(m);
                if (reshapeOf.TryGetValue(m, out var r)) removed.Add(r);
            }
        }
        var kept = new List<(int Key, NodeProto Node)>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (replacement.TryGetValue(i, out var node)) kept.Add((i, node));
            if (!removed.Contains(i)) kept.Add((i, nodes[i]));
        }
        if (TopologicalOrder(kept) is not { } order) return; // clusters that wait on each other: leave the graph as it is
        graph.Node.Clear();
        graph.Node.AddRange(order);

        // Whether the cluster stays convex and its operands fit the kernel's layouts and limits. A path that leaves the
        // cluster and comes back runs through nodes after its first one (the nodes are in topological order), so the
        // search back from its operands stops at that node.
        bool Valid(Cluster c)
        {
            var all = c.All();
            var externals = Externals(all);
            if (Instructions(all) > CpuKernels.MaxFusedInstructions || externals.Count > CpuKernels.MaxFusedInputs) return false;
            if (SumColumns(c) is not { } columns || Layout(c.Shape, ShapesOf(externals, c), columns) is null) return false;
            // A column sum is complete only after the last row: nothing in its program reads it.
            foreach (var n in all)
                foreach (var v in ops[n]!.Operands)
                    if (Producer(v) is var p && p >= 0 && ops[p] is { SumColumns: > 0 } && all.BinarySearch(p) >= 0) return false;
            var first = all[0];
            var seen = new HashSet<int>();
            var stack = new Stack<int>();
            foreach (var n in all)
                foreach (var v in nodes[n].Input)
                    if (Producer(v) is var p && p >= first && all.BinarySearch(p) < 0 && seen.Add(p)) stack.Push(p);
            while (stack.Count > 0)
            {
                var n = stack.Pop();
                if (all.BinarySearch(n) >= 0) return false;
                foreach (var v in nodes[n].Input)
                    if (Producer(v) is var p && p >= first && seen.Add(p)) stack.Push(p);
            }
            return true;
        }

        // The columns the cluster's sums are over (0 for none), or null when two of them differ.
        long? SumColumns(Cluster c)
        {
            long columns = 0;
            foreach (var m in c.Members)
                if (ops[m]!.SumColumns is > 0 and var n)
                {
                    if (columns != 0 && columns != n) return null;
                    columns = n;
                }
            return columns;
        }

        // Whether a member's value is read by anything but the cluster (a graph output, a node, another cluster's comparison).
        bool ReadOutside(string value, Cluster c)
        {
            if (graphOutputs.Contains(value)) return true;
            foreach (var r in readers.GetValueOrDefault(value, []))
            {
                if (c.Members.BinarySearch(r) >= 0) continue;
                var computedHere = c.Compares.BinarySearch(r) >= 0 && removedCompares.Contains(r);
                if (computedHere) foreach (var x in readers[ops[r]!.Output]) computedHere &= c.Members.BinarySearch(x) >= 0;
                if (!computedHere) return true;
            }
            return false;
        }

        // The operands' shapes as the layout sees them: a weighted sum's [1, rows] weights as the column [rows, 1] they are
        // read as. Null when a weight is also read as a plain operand.
        Shape[]? ShapesOf(List<string> values, Cluster c)
        {
            var weights = new HashSet<string>();
            foreach (var m in c.Members)
                if (ops[m] is { Code: ElementwiseOp.WeightedColumnSum or ElementwiseOp.ScaledWeightedColumnSum } w) weights.Add(w.Operands[1]);
            foreach (var n in c.All())
                for (var s = 0; s < ops[n]!.Operands.Length; s++)
                    if (weights.Contains(ops[n]!.Operands[s]) && !(ops[n]!.Code is ElementwiseOp.WeightedColumnSum or ElementwiseOp.ScaledWeightedColumnSum && s == 1)) return null;
            var shapes = new Shape[values.Count];
            for (var i = 0; i < shapes.Length; i++)
                shapes[i] = weights.Contains(values[i]) ? Shape.Of(AvalOf(values[i])!.Shape.Size, 1) : AvalOf(values[i])!.Shape;
            return shapes;
        }

        // The program's instructions: one per node, and a SumScales after each scaled weighted sum.
        int Instructions(List<int> all)
        {
            var count = all.Count;
            foreach (var n in all) if (ops[n]!.Scales.Length > 0) count++;
            return count;
        }

        // The values the nodes read from outside them, in order of first reading.
        List<string> Externals(List<int> all)
        {
            var list = new List<string>();
            foreach (var n in all)
                foreach (var v in ops[n]!.Reads)
                    if (all.BinarySearch(Producer(v)) < 0 && !list.Contains(v)) list.Add(v);
            return list;
        }

        NodeProto? Build(Cluster c)
        {
            var all = c.All();
            var externals = Externals(all);
            var (split, modes) = Layout(c.Shape, ShapesOf(externals, c), SumColumns(c)!.Value)!.Value;
            var register = new Dictionary<string, int>();
            for (var i = 0; i < externals.Count; i++) register[externals[i]] = i;
            var code = new List<long>();
            foreach (var n in all)
            {
                var op = ops[n]!;
                code.Add((long)op.Code);
                for (var s = 0; s < 3; s++) code.Add(s < op.Operands.Length ? register[op.Operands[s]] : -1);
                register[op.Output] = externals.Count + code.Count / 4 - 1;
                if (op.Scales.Length == 0) continue;
                code.AddRange([(long)ElementwiseOp.SumScales, register[op.Scales[0]], register[op.Scales[1]], -1]);
            }
            var outputs = new List<string>();
            foreach (var m in c.Members)
                if (ReadOutside(ops[m]!.Output, c)) outputs.Add(ops[m]!.Output);
            if (outputs.Count == 0) return null;
            var dims = c.Shape.ToLongArray();
            long rows = 1;
            for (var d = 0; d < split; d++) rows *= dims[d];
            var program = new List<long> { 1, externals.Count, outputs.Count, code.Count / 4, dims.Length };
            program.AddRange(dims);
            program.Add(rows);
            program.Add(c.Shape.Size / Math.Max(rows, 1));
            program.AddRange(modes);
            program.AddRange(code);
            foreach (var o in outputs) program.Add(register[o]);
            var sources = new List<string>();
            foreach (var n in all)
                if (nodes[n].DocString.Length > 0 && !sources.Contains(nodes[n].DocString)) sources.Add(nodes[n].DocString);
            var node = new NodeProto
            {
                OpType = NnxCpuOps.Elementwise,
                Domain = NnxCpuOps.Domain,
                // After its first member, which is in no other cluster: a compare that several clusters read is in each of them.
                Name = $"{NnxCpuOps.Elementwise}_{nodes[c.Members[0]].Name}",
                DocString = string.Join("; ", sources),
            };
            node.Input.Add(constant(HostArray.Create(program.ToArray(), Shape.Of(program.Count))));
            foreach (var v in externals)
                node.Input.Add(v.StartsWith(ScalePrefix, StringComparison.Ordinal)
                    ? constant(HostArray.Scalar(DType.Float32, BitConverter.Int32BitsToSingle(int.Parse(v[ScalePrefix.Length..], System.Globalization.CultureInfo.InvariantCulture))))
                    : v);
            node.Output.AddRange(outputs);
            return node;
        }
    }

    /// <summary><paramref name="list"/> sorted, without repeats.</summary>
    private static List<int> Sorted(List<int> list)
    {
        list.Sort();
        var k = 0;
        for (var i = 0; i < list.Count; i++)
            if (i == 0 || list[i] != list[k - 1]) list[k++] = list[i];
        list.RemoveRange(k, list.Count - k);
        return list;
    }

    /// <summary>Whether operand <paramref name="slot"/> of <paramref name="code"/> is a mask (the condition of a selection).</summary>
    private static bool IsMaskOperand(ElementwiseOp code, int slot) => slot == 0 && code is ElementwiseOp.SelectOrZero or ElementwiseOp.Where;

    /// <summary>
    /// The node as a kernel instruction: float32 operands (a bool mask for a selection) of known avals, and a result that is
    /// their broadcast (or of unknown aval); null otherwise.
    /// </summary>
    private static Op? Classify(NodeProto node, Func<string, Aval?> avalOf)
    {
        if (node is { Domain: "", OpType: "Gemm" } && node.Output.Count == 1) return ClassifyGemm(node, avalOf);
        if (node.Output.Count != 1 || node.Attribute.Count > 0) return null;
        if (node is { Domain: NnxCpuOps.Domain, OpType: NnxCpuOps.ColumnSums })
        {
            // A float32 sum into a vector, scaled by a float32 scalar: the kernel's ColumnSum, when its operand is fused.
            if (node.Input.Count != 3 || avalOf(node.Input[0]) is not { DType: DType.Float32 } x || avalOf(node.Output[0]) is not { DType: DType.Float32, Shape.Rank: 1 } sum
                || avalOf(node.Input[2]) is not { DType: DType.Float32, Shape.Size: 1 } || sum.Shape.Size == 0 || x.Shape.Size % sum.Shape.Size != 0)
                return null;
            return new Op(ElementwiseOp.ColumnSum, false, [node.Input[0], node.Input[2]], node.Output[0], x.Shape, sum.Shape.Size);
        }
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
        var arity = ElementwiseOps.Arity(c);
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

    /// <summary>
    /// A Gemm of a float32 row [1, k] with a [k, n] matrix, onto C when it has one (β = 1), with α = 1 and neither operand
    /// transposed: the product MLAS runs with its M = 1 kernel, as a weighted column sum (of [1, n]; the caller checks the
    /// Reshape to [n] that it needs).
    /// </summary>
    private static Op? ClassifyGemm(NodeProto node, Func<string, Aval?> avalOf)
    {
        float alpha = 1f, beta = 1f;
        foreach (var a in node.Attribute)
        {
            if (a.Name is "transA" or "transB" && a.I == 0) continue;
            if (a.Name == "alpha") alpha = a.F;
            else if (a.Name == "beta") beta = a.F;
            else return null;
        }
        if (node.Input.Count is not (2 or 3) || avalOf(node.Input[0]) is not { DType: DType.Float32, Shape: [1, var k] }
            || avalOf(node.Input[1]) is not { DType: DType.Float32, Shape: [var rows, var n] } matrix || rows != k || k == 0
            || avalOf(node.Output[0]) is not { DType: DType.Float32, Shape: [1, var columns] } || columns != n)
            return null;
        if (node.Input.Count == 3 && (avalOf(node.Input[2]) is not { DType: DType.Float32, Shape: var c } || !(c.Size == 1 || c.Equals(Shape.Of(n)) || c.Equals(Shape.Of(1, n)))))
            return null;
        string[] operands = node.Input.Count == 2 ? [node.Input[1], node.Input[0]] : [node.Input[1], node.Input[0], node.Input[2]];
        if (alpha == 1f && (beta == 1f || node.Input.Count == 2))
            return new Op(ElementwiseOp.WeightedColumnSum, false, operands, node.Output[0], matrix.Shape, n);
        // Another α or β: MLAS's general kernel, whose fused multiply-adds the kernel copies where the CPU has them, for
        // the contractions it does in one block. (α = 1 with another β is its M = 1 kernel onto β·C: left to ORT.)
        if (alpha == 1f || !float.IsFinite(alpha) || !float.IsFinite(beta) || k > ElementwiseProgram.MaxScaledSumRows
            || !System.Runtime.Intrinsics.X86.Fma.IsSupported)
            return null;
        return new Op(ElementwiseOp.ScaledWeightedColumnSum, false, operands, node.Output[0], matrix.Shape, n) { Scales = [ScaleName(alpha), ScaleName(beta)] };
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
    /// With <paramref name="columns"/> above 0, only a split into rows of that many columns (those of a column sum).
    /// </summary>
    internal static (int Split, long[] Modes)? Layout(Shape result, IEnumerable<Shape>? operands, long columns = 0)
    {
        if (operands is null) return null;
        var list = operands as IReadOnlyList<Shape> ?? [.. operands];
        for (var split = 0; split <= result.Rank; split++)
        {
            long trailing = 1;
            for (var d = split; d < result.Rank; d++) trailing *= result[d];
            if (columns > 0 && trailing != columns) continue;
            var modes = new long[list.Count];
            var fits = true;
            for (var i = 0; i < list.Count && fits; i++) fits = (modes[i] = ModeOf(result, list[i], split)) >= 0;
            if (fits) return (split, modes);
        }
        return null;
    }

    /// <summary>
    /// How <paramref name="operand"/> (right-aligned, as broadcasting aligns it) reads into <paramref name="result"/> split at
    /// <paramref name="split"/>; −1 for no mode. An operand of one element is a scalar even when the result has one element
    /// too (then it is also the whole result): the instructions that take scalars only, a running average's α and β, read it
    /// so (a batch of one, a layer of width one).
    /// </summary>
    private static long ModeOf(Shape result, Shape operand, int split)
    {
        var offset = result.Rank - operand.Rank;
        if (offset < 0) return -1;
        bool full = true, ones = true, row = true, column = true;
        for (var d = 0; d < result.Rank; d++)
        {
            var k = d < offset ? 1 : operand[d - offset];
            var same = k == result[d];
            full &= same;
            ones &= k == 1;
            if (d < split) { row &= k == 1; column &= same; }
            else { row &= same; column &= k == 1; }
        }
        return ones ? ElementwiseProgram.Scalar : full ? ElementwiseProgram.Full : row ? ElementwiseProgram.Row : column ? ElementwiseProgram.Column : -1;
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
        {
            var from = new List<int>();
            foreach (var v in nodes[i].Node.Input)
                if (producer.TryGetValue(v, out var p) && !from.Contains(p)) from.Add(p);
            waiting[i] = from.Count;
            foreach (var p in from) consumers[p].Add(i);
        }
        // The ready node of the smallest key goes next (nodes are in key order, so the smallest index).
        var order = new List<NodeProto>(nodes.Count);
        var ready = new List<int>();
        for (var i = 0; i < nodes.Count; i++) if (waiting[i] == 0) ready.Add(i);
        while (ready.Count > 0)
        {
            var next = 0;
            for (var j = 1; j < ready.Count; j++) if (ready[j] < ready[next]) next = j;
            var i = ready[next];
            ready.RemoveAt(next);
            order.Add(nodes[i].Node);
            foreach (var c in consumers[i])
                if (--waiting[c] == 0) ready.Add(c);
        }
        return order.Count == nodes.Count ? order : null;
    }
}
