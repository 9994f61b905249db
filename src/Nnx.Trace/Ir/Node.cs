using System.Collections.Immutable;
using NnxSharp.Primitives;

namespace NnxSharp.Ir;

/// <summary>One application of a primitive: <c>Output = Op(Inputs)</c>. Immutable.</summary>
public sealed class Node
{
    internal Node(Primitive op, ImmutableArray<Value> inputs, Value output)
    {
        Op = op;
        Inputs = inputs;
        Output = output;
    }

    /// <summary>Creates a node, inferring and checking the output aval with the primitive's shape rule.</summary>
    public static Node Create(Primitive op, ImmutableArray<Value> inputs) =>
        new(op, inputs, new Value(op.InferChecked(inputs.Select(v => v.Aval).ToArray())));

    /// <summary>The primitive, with its attributes.</summary>
    public Primitive Op { get; }

    /// <summary>The operands.</summary>
    public ImmutableArray<Value> Inputs { get; }

    /// <summary>The result.</summary>
    public Value Output { get; }

    /// <summary>This node with other inputs (the same instance when they are the same).</summary>
    public Node WithInputs(ImmutableArray<Value> inputs) =>
        inputs.SequenceEqual(Inputs) ? this : new Node(Op, inputs, Output);
}
