using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

/// <summary>
/// Algebraic simplifications that cut node count, one local rewrite per rule, run to a fixed point by
/// <see cref="PassPipeline"/>: identities (x+0, x·1, x/1, a reshape or broadcast to the same shape, a
/// stop-gradient after differentiation, relu of a relu), negations folded into subtractions and constants
/// (<see cref="Negation"/>), scalar constants combined and a sum with its 1/n made a mean (<see cref="Scalars"/>),
/// reshapes and broadcasts that a broadcasting consumer makes unnecessary (<see cref="Shapes"/>), factors that
/// move out of sums and onto the smaller operand of a product (<see cref="Reductions"/>), the MatMul/Gemm
/// fusions: transposed operands, the bias, and a weight's update (<see cref="Gemms"/>), and a ReLU's gradient
/// mask moved to the reduced size of the max pool after it (<see cref="Masks"/>).
/// Rules that move work (a negation, a scale) only fire when the value moved has no other use, so no rule
/// grows the graph by more than a pass over a smaller operand (<see cref="Reductions"/>: a vector product in
/// place of a pass over the tensor).
/// </summary>
internal sealed partial class Simplify
{
    private readonly Dictionary<Value, int> _uses = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Value, Node> _producer = new(ReferenceEqualityComparer.Instance);
    private Func<Primitive, Value[], Node> _emit = null!;

    private Simplify(Graph g)
    {
        foreach (var n in g.Nodes)
        {
            _producer[n.Output] = n;
            foreach (var v in n.Inputs) _uses[v] = _uses.GetValueOrDefault(v) + 1;
        }
        foreach (var v in g.Outputs) _uses[v] = _uses.GetValueOrDefault(v) + 1;
    }

    /// <summary>One sweep of every rule over the graph (the same instance when none fired).</summary>
    public static Graph Run(Graph g)
    {
        var s = new Simplify(g);
        return PassPipeline.Rewrite(g, s.Visit);
    }

    private Value? Visit(Node node, Func<Primitive, Value[], Node> emit)
    {
        _emit = emit;
        var result = Rule(node);
        if (result is null) { _producer[node.Output] = node; Remember(node); }
        else _uses[result] = _uses.GetValueOrDefault(result) + _uses.GetValueOrDefault(node.Output);
        return result;
    }

    private Value? Rule(Node node) =>
        Identity(node) ?? Negation(node) ?? Scalars(node) ?? Shapes(node) ?? Reductions(node) ?? Gemms(node) ?? Masks(node);

    // ---- helpers ----

    private Node? Producer(Value v) => _producer.GetValueOrDefault(v);

    private Primitive? OpOf(Value v) => Producer(v)?.Op;

    private Value In(Value v, int i) => Producer(v)!.Inputs[i];

    private bool SingleUse(Value v) => _uses.GetValueOrDefault(v) <= 1;

    /// <summary>Adds a node (its operands gain a use) and returns its value.</summary>
    private Value Emit(Primitive op, params Value[] inputs)
    {
        var n = _emit(op, inputs);
        _producer[n.Output] = n;
        Remember(n);
        foreach (var v in inputs) _uses[v] = _uses.GetValueOrDefault(v) + 1;
        return n.Output;
    }

    /// <summary>
    /// <paramref name="op"/> applied to <paramref name="inputs"/> as the replacement of <paramref name="node"/>,
    /// or null (nothing emitted) when its aval would differ from the node's.
    /// </summary>
    private Value? Replace(Node node, Primitive op, params Value[] inputs)
    {
        Aval aval;
        try
        {
            aval = op.InferChecked([.. inputs.Select(v => v.Aval)]);
        }
        catch (ArgumentException)
        {
            return null;
        }
        return aval == node.Output.Aval ? Emit(op, inputs) : null;
    }

    /// <summary>The value of a constant whose elements are all equal (a Full, or a Literal up to the fold limit), else null.</summary>
    private double? Uniform(Value v)
    {
        switch (OpOf(v))
        {
            case Full f: return f.Value;
            case Literal { Value: var l } when l.Size > 0 && l.Size <= PassPipeline.FoldLimit:
                var first = l.GetDouble(0);
                for (var k = 1; k < l.Size; k++)
                    if (!l.GetDouble(k).Equals(first)) return null;
                return first;
            default: return null;
        }
    }

    /// <summary>Whether <paramref name="v"/> is a concatenation along <paramref name="axis"/> that nothing else reads.</summary>
    private bool IsInnerConcat(Value v, int axis) => OpOf(v) is Concat inner && inner.Axis == axis && SingleUse(v);

    /// <summary>Whether <paramref name="to"/> is <paramref name="from"/> with only its leading axis split in two.</summary>
    private static bool SplitsLeadingAxis(Shape from, Shape to) =>
        to.Rank == from.Rank + 1 && from.Rank > 0 && to[0] * to[1] == from[0] && to.Skip(2).SequenceEqual(from.Skip(1));

    private bool IsConstant(Value v, double value) => Uniform(v) is { } u && u == value;

    private static bool IsFloat(Value v) => v.DType is DType.Float32 or DType.Float64;

    /// <summary>A rank-0 constant of <paramref name="like"/>'s dtype.</summary>
    private Value Scalar(Value like, double value) => Emit(new Full(Shape.Scalar, like.DType, value));

    // ---- identities ----

    private Value? Identity(Node node)
    {
        var x = node.Inputs;
        bool Same(int i) => x[i].Aval == node.Output.Aval;
        switch (node.Op)
        {
            case StopGradient:
                return x[0];
            case Add when IsConstant(x[1], 0) && Same(0):
            case Sub when IsConstant(x[1], 0) && Same(0):
            case Mul when IsConstant(x[1], 1) && Same(0):
            case Div when IsConstant(x[1], 1) && Same(0):
                return x[0];
            case Add when IsConstant(x[0], 0) && Same(1):
            case Mul when IsConstant(x[0], 1) && Same(1):
                return x[1];
            case Reshape or BroadcastTo when Same(0):
                return x[0];
            case Reshape r when OpOf(x[0]) is Reshape:
                return Emit(r, In(x[0], 0));
            case Transpose t when OpOf(x[0]) is Transpose inner:
            {
                var composed = t.Perm.Select(p => inner.Perm[p]).ToArray();
                var source = In(x[0], 0);
                return composed.SequenceEqual(Enumerable.Range(0, composed.Length)) ? source : Emit(new Transpose(new Ints(composed)), source);
            }
            // transpose(reshape(transpose(v))) where the reshape only splits the leading axis, which the inner transpose
            // keeps first: one transpose of v split the same way (a kernel gradient's halves of gᵀ, ConvGeneral).
            case Transpose t when OpOf(x[0]) is Reshape && OpOf(In(x[0], 0)) is Transpose { Perm: var inner } && inner[0] == 0
                                  && SplitsLeadingAxis(In(x[0], 0).Shape, x[0].Shape):
            {
                var source = In(In(x[0], 0), 0);
                int[] lifted = [0, 1, .. inner.Skip(1).Select(p => p + 1)];
                var split = Emit(new Reshape(Shape.Of([x[0].Shape[0], x[0].Shape[1], .. source.Shape.Skip(1)])), source);
                return Emit(new Transpose(new Ints(t.Perm.Select(p => lifted[p]).ToArray())), split);
            }
            // A concatenation of concatenations along the same axis is one (every input copied once, not twice).
            case Concat c when x.Any(v => IsInnerConcat(v, c.Axis)):
                return Emit(c, [.. x.SelectMany(v => IsInnerConcat(v, c.Axis) ? Producer(v)!.Inputs : [v])]);
            case Neg when OpOf(x[0]) is Neg:
                return In(x[0], 0);
            // relu is idempotent, and relu(x) > 0 exactly where x > 0 (NaN and −0 included).
            case Relu when OpOf(x[0]) is Relu:
                return x[0];
            case Greater when OpOf(x[0]) is Relu && IsConstant(x[1], 0):
                return Replace(node, node.Op, In(x[0], 0), x[1]);
            // where(m, where(m, a, _), z) = where(m, a, z).
            case Where when OpOf(x[1]) is Where && ReferenceEquals(In(x[1], 0), x[0]):
                return Replace(node, node.Op, x[0], In(x[1], 1), x[2]);
            default:
                return null;
        }
    }
}
