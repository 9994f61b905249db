using System.Collections.Immutable;

namespace NnxSharp.Ir;

/// <summary>
/// An immutable SSA graph: inputs, nodes in a topological order, and outputs (which may repeat a value
/// or name an input). Print it with <see cref="ToString"/>; check it with <see cref="Verify"/>.
/// </summary>
public sealed class Graph
{
    /// <summary>Creates a graph; when <see cref="Invariants.Checked"/> (Debug builds, and the tests) it is verified.</summary>
    public Graph(ImmutableArray<Value> inputs, ImmutableArray<Node> nodes, ImmutableArray<Value> outputs)
    {
        Inputs = inputs;
        Nodes = nodes;
        Outputs = outputs;
        if (Invariants.Checked) Verify();
    }

    /// <summary>The graph's parameters.</summary>
    public ImmutableArray<Value> Inputs { get; }

    /// <summary>The nodes, each after the nodes that define its inputs.</summary>
    public ImmutableArray<Node> Nodes { get; }

    /// <summary>The results.</summary>
    public ImmutableArray<Value> Outputs { get; }

    /// <summary>This graph with other nodes and outputs (the same instance when nothing changed).</summary>
    public Graph With(ImmutableArray<Node> nodes, ImmutableArray<Value> outputs) =>
        nodes.SequenceEqual(Nodes) && outputs.SequenceEqual(Outputs) ? this : new Graph(Inputs, nodes, outputs);

    /// <summary>
    /// Traces <paramref name="f"/> on symbolic tensors of the given avals and returns its graph.
    /// Every operation on the symbolic tensors is recorded as a node; nothing is computed.
    /// </summary>
    public static Graph Trace(Func<Tensor[], Tensor[]> f, params Aval[] inputs)
    {
        using var scope = TraceBuilder.Begin();
        var args = inputs.Select(scope.Builder.AddInput).ToArray();
        var results = f(args);
        return scope.Builder.Finish(results);
    }

    /// <summary>Traces a function of one tensor.</summary>
    public static Graph Trace(Func<Tensor, Tensor> f, Aval x) => Trace(a => [f(a[0])], x);

    /// <summary>Traces a function of two tensors.</summary>
    public static Graph Trace(Func<Tensor, Tensor, Tensor> f, Aval x, Aval y) => Trace(a => [f(a[0], a[1])], x, y);

    /// <summary>Traces a function of three tensors.</summary>
    public static Graph Trace(Func<Tensor, Tensor, Tensor, Tensor> f, Aval x, Aval y, Aval z) =>
        Trace(a => [f(a[0], a[1], a[2])], x, y, z);

    /// <summary>
    /// Checks the invariants: every operand is defined before use, every value is defined once, and each
    /// node's output aval is what its primitive's shape rule gives. Throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public void Verify()
    {
        var defined = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        foreach (var v in Inputs)
            if (!defined.Add(v)) throw new InvalidOperationException("IR verifier: a graph input is listed twice.");
        for (var n = 0; n < Nodes.Length; n++)
        {
            var node = Nodes[n];
            for (var i = 0; i < node.Inputs.Length; i++)
                if (!defined.Contains(node.Inputs[i]))
                    throw new InvalidOperationException($"IR verifier: node {n} ({node.Op}) uses operand {i} before it is defined.");
            var aval = node.Op.InferChecked(node.Inputs.Select(v => v.Aval).ToArray());
            if (aval != node.Output.Aval)
                throw new InvalidOperationException($"IR verifier: node {n} ({node.Op}) has output {node.Output.Aval} but its shape rule gives {aval}.");
            if (!defined.Add(node.Output))
                throw new InvalidOperationException($"IR verifier: node {n} ({node.Op}) redefines a value.");
        }
        for (var i = 0; i < Outputs.Length; i++)
            if (!defined.Contains(Outputs[i]))
                throw new InvalidOperationException($"IR verifier: output {i} is not defined in the graph.");
    }

    /// <summary>Prints the graph like a jaxpr, one line per node with avals.</summary>
    public override string ToString() => GraphPrinter.Print(this);
}
