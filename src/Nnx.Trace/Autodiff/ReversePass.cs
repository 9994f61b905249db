using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// The reverse pass over a <see cref="GradTape"/>: walks its entries backwards from the output and applies
/// each primitive's VJP rule. Cotangents are null until set and accumulate by addition; a cotangent with
/// the output's broadcast shape is summed down to its operand's shape here, once, not in each rule.
/// Only entries whose output has a cotangent run (dead-code elimination: an entry off the path to the
/// output costs nothing), and only operands the tape tracks receive cotangents: a float operand that needs
/// none is cut out of the rule before anything is computed or recorded (see <see cref="Vjp"/>).
/// Because rules use public <see cref="Tensor"/> operations, the pass runs eagerly on concrete tensors, is
/// recorded as IR inside a trace, and is itself recorded by any enclosing tape (higher-order gradients).
/// </summary>
internal static class ReversePass
{
    /// <summary>The gradients of the scalar <paramref name="output"/> with respect to each of <paramref name="wrt"/>.</summary>
    public static Tensor[] Run(GradTape tape, Tensor output, IReadOnlyList<Tensor> wrt)
    {
        // Eager, and recorded by no enclosing tape (whose own reverse pass would read them): the pass's intermediates are
        // freed once the gradients are known.
        if (output.IsSymbolic || TraceBuilder.Current is not null || GradTape.ActiveOnThisThread) return Gradients(tape, output, wrt);
        var temporaries = Temporaries.Open();
        Tensor[]? grads = null;
        try
        {
            return grads = Gradients(tape, output, wrt);
        }
        finally
        {
            temporaries.Close(grads);
        }
    }

    private static Tensor[] Gradients(GradTape tape, Tensor output, IReadOnlyList<Tensor> wrt)
    {
        var cts = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        if (tape.IsTracked(output)) cts[output] = Tensor.OnesLike(output);
        var entries = tape.Entries;
        for (var k = entries.Count - 1; k >= 0 && cts.Count > 0; k--)
        {
            var e = entries[k];
            if (!cts.Remove(e.Output, out var g)) continue;
            var needed = new bool[e.Inputs.Length];
            var any = false;
            for (var i = 0; i < needed.Length; i++)
                any |= needed[i] = e.Inputs[i].DType.IsFloat() && tape.IsTracked(e.Inputs[i]);
            if (!any) continue;
            var rule = e.Op is null ? [g] : Vjp(e.Op, e.Inputs, e.Output, g, needed);
            if (rule.Length != e.Inputs.Length)
                throw new InvalidOperationException($"{e.Op}: its VJP rule returned {rule.Length} cotangent(s) for {e.Inputs.Length} operand(s).");
            for (var i = 0; i < needed.Length; i++)
            {
                if (!needed[i] || rule[i] is not { } c) continue;
                var x = e.Inputs[i];
                c = Fit(c, x.Aval, e.Op, i);
                cts[x] = cts.TryGetValue(x, out var acc) ? acc + c : c;
            }
        }
        var grads = new Tensor[wrt.Count];
        for (var i = 0; i < grads.Length; i++)
            grads[i] = cts.TryGetValue(wrt[i], out var c) ? c : Tensor.ZerosLike(wrt[i]);
        return grads;
    }

    /// <summary>
    /// The cotangent summed down to the operand's shape (over leading extra axes and over axes where the
    /// operand has size 1) and cast to its dtype.
    /// </summary>
    internal static Tensor Fit(Tensor c, Aval operand, Primitive? op, int index)
    {
        if (c.DType != operand.DType) c = c.Cast(operand.DType);
        if (c.Shape == operand.Shape) return c;
        var lead = c.Rank - operand.Shape.Rank;
        if (lead < 0 || Shape.TryBroadcast(c.Shape, operand.Shape) != c.Shape)
            throw new InvalidOperationException($"{op?.Name ?? "alias"}: the cotangent {c.Aval} of operand {index} cannot be summed down to {operand}.");
        var axes = new List<int>();
        for (var d = 0; d < c.Rank; d++)
            if (d < lead || (operand.Shape[d - lead] == 1 && c.Shape[d] != 1)) axes.Add(d);
        if (axes.Count > 0) c = c.Sum([.. axes], keepDims: true);
        return c.Reshape(operand.Shape.ToArray());
    }

    /// <summary>
    /// Applies <paramref name="op"/>'s VJP rule. When every float operand needs a cotangent the rule is
    /// called directly. Otherwise it is first recorded into a scratch trace on stand-in values, the nodes
    /// that only the unneeded cotangents use are dropped, and the rest is replayed on the real tensors
    /// (eagerly, or into the enclosing trace): a branch nobody asked for is never computed.
    /// </summary>
    private static Tensor?[] Vjp(Primitive op, Tensor[] inputs, Tensor output, Tensor g, bool[] needed)
    {
        var all = true;
        for (var i = 0; i < inputs.Length; i++) all &= needed[i] || !inputs[i].DType.IsFloat();
        if (all) return op.Vjp(inputs, output, g);

        Tensor?[] staged;
        IReadOnlyList<Node> nodes;
        var env = new Dictionary<Value, Tensor>(ReferenceEqualityComparer.Instance);
        using (var scope = TraceBuilder.Begin())
        {
            var b = scope.Builder;
            var xs = new Tensor[inputs.Length];
            for (var i = 0; i < xs.Length; i++) env[(xs[i] = b.AddInput(inputs[i].Aval)).Value!] = inputs[i];
            var y = b.AddInput(output.Aval);
            var gs = b.AddInput(g.Aval);
            env[y.Value!] = output;
            env[gs.Value!] = g;
            staged = op.Vjp(xs, y, gs);
            nodes = b.Nodes;
        }

        var live = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < staged.Length && i < needed.Length; i++)
            if (needed[i] && staged[i] is { } t) live.Add(t.Value!);
        var keep = new bool[nodes.Count];
        for (var n = nodes.Count - 1; n >= 0; n--)
        {
            if (!live.Contains(nodes[n].Output)) continue;
            keep[n] = true;
            foreach (var v in nodes[n].Inputs) live.Add(v);
        }
        for (var n = 0; n < nodes.Count; n++)
        {
            if (!keep[n]) continue;
            var node = nodes[n];
            var args = new Tensor[node.Inputs.Length];
            for (var i = 0; i < args.Length; i++) args[i] = env[node.Inputs[i]];
            env[node.Output] = Tensor.Apply(node.Op, args);
        }
        var result = new Tensor?[staged.Length];
        for (var i = 0; i < result.Length; i++)
            result[i] = i < needed.Length && needed[i] && staged[i] is { } t ? env[t.Value!] : null;
        return result;
    }
}
