using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

internal sealed partial class Simplify
{
    /// <summary>
    /// Negations, as the reverse pass makes them (the cotangent of a subtrahend, of an update): folded into
    /// a subtraction (a + (−b) = a − b), into a constant factor (−(x·c) = x·(−c)), or moved out of a
    /// product, a quotient or a sum to where one of those folds (−a·b = −(a·b), Σ(−x) = −Σx). Exact in IEEE
    /// arithmetic. A negation is moved only when nothing else uses it, so the count never grows.
    /// </summary>
    private Value? Negation(Node node)
    {
        var x = node.Inputs;
        switch (node.Op)
        {
            case Add when OpOf(x[1]) is Neg:
                return Replace(node, new Sub(), x[0], In(x[1], 0));
            case Add when OpOf(x[0]) is Neg:
                return Replace(node, new Sub(), x[1], In(x[0], 0));
            case Sub when OpOf(x[1]) is Neg:
                return Replace(node, new Add(), x[0], In(x[1], 0));
            case Sub when OpOf(x[0]) is Neg && SingleUse(x[0]):
                return Negated(node, new Add(), In(x[0], 0), x[1]);
            case Neg when OpOf(x[0]) is Sub && SingleUse(x[0]):
                return Replace(node, new Sub(), In(x[0], 1), In(x[0], 0));
            case Neg when OpOf(x[0]) is Mul && SingleUse(x[0]) && IsFloat(x[0]):
            {
                var (a, b) = (In(x[0], 0), In(x[0], 1));
                if (Uniform(b) is { } cb && b.Shape.Rank == 0) return Replace(node, new Mul(), a, Scalar(b, -cb));
                if (Uniform(a) is { } ca && a.Shape.Rank == 0) return Replace(node, new Mul(), b, Scalar(a, -ca));
                return null;
            }
            case Mul when IsFloat(node.Output) && OpOf(x[0]) is Neg && Uniform(x[1]) is { } c1 && x[1].Shape.Rank == 0:
                return Replace(node, new Mul(), In(x[0], 0), Scalar(x[1], -c1));
            case Mul when IsFloat(node.Output) && OpOf(x[1]) is Neg && Uniform(x[0]) is { } c0 && x[0].Shape.Rank == 0:
                return Replace(node, new Mul(), In(x[1], 0), Scalar(x[0], -c0));
            case Mul or Div when IsFloat(node.Output) && OpOf(x[0]) is Neg && SingleUse(x[0]):
                return Negated(node, node.Op, In(x[0], 0), x[1]);
            case Mul or Div when IsFloat(node.Output) && OpOf(x[1]) is Neg && SingleUse(x[1]):
                return Negated(node, node.Op, x[0], In(x[1], 0));
            case ReduceSum when IsFloat(node.Output) && OpOf(x[0]) is Neg && SingleUse(x[0]):
                return Negated(node, node.Op, In(x[0], 0));
            default:
                return null;
        }
    }

    /// <summary>−op(inputs), when op(inputs) has the node's aval.</summary>
    private Value? Negated(Node node, Primitive op, params Value[] inputs)
    {
        var inner = Replace(node, op, inputs);
        return inner is null ? null : Emit(new Neg(), inner);
    }
}
