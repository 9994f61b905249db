using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

internal sealed partial class Simplify
{
    /// <summary>
    /// Scalar factors of float products: a constant goes second (c·x = x·c, so equal products compare equal),
    /// x + x = x·2, two constant factors become one ((x·c₁)·c₂ = x·(c₁c₂)), a constant factor moves out of a
    /// product or quotient to meet the next one ((a·c)·b = (a·b)·c, (a·c)/b = (a/b)·c), and a sum times 1/n
    /// is a mean. Reassociating constants rounds differently in the last bit; nothing else changes.
    /// </summary>
    private Value? Scalars(Node node)
    {
        if (!IsFloat(node.Output)) return null;
        var x = node.Inputs;
        switch (node.Op)
        {
            // Σa ± Σb = Σ(a ± b): one reduction, and often a ± b already exists (the reverse pass sums both).
            case Add or Sub when OpOf(x[0]) is ReduceSum r0 && OpOf(x[1]) is ReduceSum r1 && r0 == r1 && SingleUse(x[0]) && SingleUse(x[1])
                                 && In(x[0], 0).Aval == In(x[1], 0).Aval:
                return Replace(node, r0, Emit(node.Op, In(x[0], 0), In(x[1], 0)));
            case Add when ReferenceEquals(x[0], x[1]):
                return Replace(node, new Mul(), x[0], Scalar(x[0], 2));
            case Mul when IsScalarConstant(x[0]) && !IsScalarConstant(x[1]):
                return Replace(node, new Mul(), x[1], x[0]);
            case Mul when IsScalarConstant(x[1]) && Mean(node) is { } mean:
                return mean;
            case Mul when IsScalarConstant(x[1]) && OpOf(x[0]) is Mul && SingleUse(x[0]) && IsScalarConstant(In(x[0], 1)):
                return Replace(node, new Mul(), In(x[0], 0), Scalar(x[1], Uniform(x[1])!.Value * Uniform(In(x[0], 1))!.Value));
            // Only from an operand as large as the product: a factor of a smaller (broadcast) operand stays there
            // (Reductions moves it there: a pass over the vector, not over the product).
            case Mul when !IsScalarConstant(x[1]) && x[0].Shape.Size == node.Output.Shape.Size && ScaledOperand(x[0]) is { } left:
                return Rescaled(node, new Mul(), left.Value, x[1], left.Scale);
            case Mul when !IsScalarConstant(x[0]) && x[1].Shape.Size == node.Output.Shape.Size && ScaledOperand(x[1]) is { } right:
                return Rescaled(node, new Mul(), x[0], right.Value, right.Scale);
            case Div when !IsScalarConstant(x[1]) && ScaledOperand(x[0]) is { } num:
                return Rescaled(node, new Div(), num.Value, x[1], num.Scale);
            // A scalar divisor computed in the graph (Adam's bias correction 1 − β₁ᵗ) moves outward as a constant
            // factor does, (a/s)/b = (a/b)/s, until it meets a constant factor: (a/s)·k = a·(k/s), k/s being one
            // scalar node that every parameter's update shares.
            case Div when x[1].Shape.Rank > 0 && DividedByScalar(x[0]) is { } q:
                return Replace(node, new Div(), Emit(new Div(), q.Value, x[1]), q.Divisor);
            case Mul when IsScalarConstant(x[1]) && DividedByScalar(x[0]) is { } q:
                return Replace(node, new Mul(), q.Value, Emit(new Div(), x[1], q.Divisor));
            // Decoupled weight decay (AdamW's step): x ∓ k·(y + c·x) = x·(1 ∓ k·c) ∓ y·k, one node less, and the
            // product y·k can meet y's own scalar factor.
            case Add or Sub when Decay(x[0], x[1]) is { } d:
            {
                var sign = node.Op is Add ? 1.0 : -1.0;
                var kept = Emit(new Mul(), x[0], Scalar(x[0], 1 + sign * d.K * d.C));
                return Replace(node, node.Op, kept, Emit(new Mul(), d.Y, Scalar(x[0], d.K)));
            }
            default:
                return null;
        }
    }

    /// <summary>(y, k, c) when <paramref name="term"/> = (y + x·c)·k with k and c scalar constants, each value used once.</summary>
    private (Value Y, double K, double C)? Decay(Value x, Value term)
    {
        if (OpOf(term) is not Mul || !SingleUse(term) || !IsScalarConstant(In(term, 1))) return null;
        var sum = In(term, 0);
        if (OpOf(sum) is not Add || !SingleUse(sum) || sum.Aval != x.Aval) return null;
        for (var i = 0; i < 2; i++)
        {
            var scaled = In(sum, i);
            if (OpOf(scaled) is Mul && SingleUse(scaled) && ReferenceEquals(In(scaled, 0), x) && IsScalarConstant(In(scaled, 1)))
                return (In(sum, 1 - i), Uniform(In(term, 1))!.Value, Uniform(In(scaled, 1))!.Value);
        }
        return null;
    }

    private bool IsScalarConstant(Value v) => v.Shape.Rank == 0 && Uniform(v) is not null;

    /// <summary>(a, c) when <paramref name="v"/> = a·c with c a scalar constant and no other use of v.</summary>
    private (Value Value, Value Scale)? ScaledOperand(Value v) =>
        OpOf(v) is Mul && SingleUse(v) && IsScalarConstant(In(v, 1)) && !IsScalarConstant(In(v, 0)) ? (In(v, 0), In(v, 1)) : null;

    /// <summary>(a, s) when <paramref name="v"/> = a/s with s a rank-0 value that is not a constant, a not rank 0, and no other use of v.</summary>
    private (Value Value, Value Divisor)? DividedByScalar(Value v) =>
        OpOf(v) is Div && SingleUse(v) && In(v, 1).Shape.Rank == 0 && !IsScalarConstant(In(v, 1)) && In(v, 0).Shape.Rank > 0 ? (In(v, 0), In(v, 1)) : null;

    /// <summary>op(a, b)·scale, when op(a, b) has the node's aval.</summary>
    private Value? Rescaled(Node node, Primitive op, Value a, Value b, Value scale)
    {
        var inner = Replace(node, op, a, b);
        return inner is null ? null : Emit(new Mul(), inner, scale);
    }

    /// <summary>ReduceSum(x)·(1/n), n the count of elements summed into each result, as one ReduceMean.</summary>
    private Value? Mean(Node node) =>
        AsMean(node.Inputs[0], Uniform(node.Inputs[1])!.Value) is { } mean ? Replace(node, mean, In(node.Inputs[0], 0)) : null;

    /// <summary>
    /// The mean that <paramref name="sum"/>, a ReduceSum used once, becomes when multiplied by <paramref name="factor"/> =
    /// <paramref name="sign"/>/n (n the count of elements summed into each result): sign 1 for the mean itself, −1 for
    /// its negation; null otherwise.
    /// </summary>
    private ReduceMean? AsMean(Value sum, double factor, int sign = 1)
    {
        if (OpOf(sum) is not ReduceSum r || !SingleUse(sum) || r.Axes.Count == 0) return null;
        var n = ReduceMean.Count(In(sum, 0).Shape, r.Axes);
        return n > 0 && Math.Abs(factor * n - sign) <= 1e-6 ? new ReduceMean(r.Axes, r.KeepDims) : null;
    }
}
