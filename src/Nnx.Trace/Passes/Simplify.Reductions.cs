using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

internal sealed partial class Simplify
{
    /// <summary>
    /// Products with a smaller, broadcast factor (a per-feature vector times a [batch, features] tensor, as BatchNorm
    /// makes them). A factor that is constant along the reduced axes moves out of a sum or mean,
    /// <c>Σᵢ(M ⊙ v) = v ⊙ ΣᵢM</c>, also from one level down, <c>Σᵢ((M ⊙ v) ⊙ N) = v ⊙ Σᵢ(M ⊙ N)</c>, so that the
    /// reverse pass's sums of <c>∂y ⊙ x̂</c> (the scale's gradient) and of <c>∂x̂ ⊙ (x − μ)</c> become one sum
    /// after CSE. Scalar and vector factors of a product gather on the smaller operand,
    /// <c>(M ⊙ v)·c = M ⊙ (v·c)</c> and <c>(M ⊙ v₁) ⊙ v₂ = M ⊙ (v₁ ⊙ v₂)</c>: a pass over the vector instead of one
    /// over the tensor. (<see cref="Scalars"/> moves a constant factor outward only from an operand as large as
    /// the product, so the two rules never undo each other.) Reassociating rounds differently in the last bit.
    /// </summary>
    private Value? Reductions(Node node)
    {
        if (!IsFloat(node.Output)) return null;
        var x = node.Inputs;
        switch (node.Op)
        {
            case ReduceSum or ReduceMean when OpOf(x[0]) is Mul && SingleUse(x[0]):
                return FactoredReduction(node, (Reduce)node.Op, In(x[0], 0), In(x[0], 1)) ?? FactoredReduction(node, (Reduce)node.Op, In(x[0], 1), In(x[0], 0));
            case Add or Sub when MinusMean(node) is { } centered:
                return centered;
            case Mul when IsScalarConstant(x[1]) && ScaledMean(node) is { } mean:
                return mean;
            case Mul when Regrouped(node) is { } shared:
                return shared;
            case Mul when IsSmallerFactor(x[1], node.Output) && !IsScalarConstant(x[0]) && Broadcast(x[0]) is { } inner:
                return Gathered(node, inner.Full, inner.Small, Squeezed(x[1]));
            case Mul when IsSmallerFactor(x[0], node.Output) && !IsScalarConstant(x[1]) && Broadcast(x[1]) is { } inner:
                return Gathered(node, inner.Full, inner.Small, Squeezed(x[0]));
            default:
                return null;
        }
    }

    /// <summary>
    /// <c>(Σx ⊙ v)·(1/n) = mean(x) ⊙ v</c>: the sum with its factor taken out still meets its 1/n, as <see cref="Mean"/>
    /// makes a mean of a sum times 1/n.
    /// </summary>
    private Value? ScaledMean(Node node)
    {
        var p = node.Inputs[0];
        if (OpOf(p) is not Mul || !SingleUse(p)) return null;
        for (var i = 0; i < 2; i++)
        {
            var (sum, v) = (In(p, i), In(p, 1 - i));
            if (AsMean(sum, Uniform(node.Inputs[1])!.Value) is { } mean) return Replace(node, new Mul(), Emit(mean, In(sum, 0)), v);
        }
        return null;
    }

    /// <summary>
    /// <c>a + Σx·(−1/n) = a − mean(x)</c> (and <c>a − Σx·(−1/n) = a + mean(x)</c>), n the count summed into each element:
    /// the reverse pass of a mean subtracted (BatchNorm's <c>x − μ</c>) then is a mean and a subtraction, one node less.
    /// </summary>
    private Value? MinusMean(Node node)
    {
        for (var i = 0; i < 2; i++)
        {
            var (a, scaled) = (node.Inputs[1 - i], node.Inputs[i]);
            if (node.Op is Sub && i == 0) continue;
            if (OpOf(scaled) is not Mul || !SingleUse(scaled) || !IsScalarConstant(In(scaled, 1))
                || AsMean(In(scaled, 0), Uniform(In(scaled, 1))!.Value, sign: -1) is not { } mean) continue;
            var source = In(In(scaled, 0), 0);
            if (AvalOf(new Sub(), [a.Aval, mean.InferChecked([source.Aval])]) != node.Output.Aval) continue;
            return Replace(node, node.Op is Add ? new Sub() : new Add(), a, Emit(mean, source));
        }
        return null;
    }

    /// <summary>Every product of the graph so far by its two operands (both orders), for <see cref="Regrouped"/>.</summary>
    private readonly Dictionary<(Value, Value), Value> _products = [];

    private void Remember(Node n)
    {
        if (n.Op is not Mul) return;
        _products.TryAdd((n.Inputs[0], n.Inputs[1]), n.Output);
        _products.TryAdd((n.Inputs[1], n.Inputs[0]), n.Output);
    }

    /// <summary>
    /// <c>(a ⊙ b) ⊙ c = (a ⊙ c) ⊙ b</c> when the graph already has <c>a ⊙ c</c> and <c>a ⊙ b</c> has no other use: one
    /// product less (the BatchNorm backward's <c>(Σ ⊙ γ) ⊙ r</c> next to the scale gradient <c>Σ ⊙ r</c>).
    /// </summary>
    private Value? Regrouped(Node node)
    {
        for (var i = 0; i < 2; i++)
        {
            var (p, c) = (node.Inputs[i], node.Inputs[1 - i]);
            if (OpOf(p) is not Mul || !SingleUse(p)) continue;
            for (var j = 0; j < 2; j++)
            {
                var (a, b) = (In(p, j), In(p, 1 - j));
                if (_products.TryGetValue((a, c), out var shared) && !ReferenceEquals(shared, p) && AvalOf(new Mul(), [shared.Aval, b.Aval]) == node.Output.Aval)
                    return Replace(node, new Mul(), shared, b);
            }
        }
        return null;
    }

    /// <summary>
    /// <c>Reduce(a ⊙ b)</c> with the factor <paramref name="b"/> (or a factor of <paramref name="a"/>) taken out:
    /// <c>b ⊙ Reduce(a)</c> when b is constant along the reduced axes, <c>v ⊙ Reduce(M ⊙ b)</c> when a = M ⊙ v
    /// with v constant along them (a may have other uses: M ⊙ b replaces a ⊙ b, one pass for another).
    /// </summary>
    private Value? FactoredReduction(Node node, Reduce reduce, Value a, Value b)
    {
        var product = node.Inputs[0];
        if (a.Aval == product.Aval && ConstantAlong(Squeezed(b), product.Shape, reduce))
            return Settled(Squeezed(b), product.Shape) ? TimesReduction(node, reduce, a, Squeezed(b)) : null;
        if (b.Aval != product.Aval || OpOf(a) is not Mul || a.Aval != product.Aval) return null;
        for (var i = 0; i < 2; i++)
        {
            var (m, v) = (In(a, i), Squeezed(In(a, 1 - i)));
            if (m.Aval != product.Aval || !ConstantAlong(v, product.Shape, reduce) || !Settled(v, product.Shape)) continue;
            if (AvalOf(new Mul(), [reduce.InferChecked([m.Aval]), new Aval(Kept(v, m.Shape, reduce), v.DType)]) != node.Output.Aval) continue;
            return TimesReduction(node, reduce, Emit(new Mul(), m, b), v);
        }
        return null;
    }

    /// <summary>
    /// Whether a reduction of <paramref name="matrix"/> is one that <see cref="FactoredReduction"/> takes a factor out of,
    /// now or once that factor's shape has settled: <see cref="ColumnSumUpdate"/> leaves it to that rule (the scale
    /// gradient of a BatchNorm, <c>Σᵢ(∂y ⊙ (x − μ) ⊙ r)</c>, is then <c>r ⊙ Σᵢ(∂y ⊙ (x − μ))</c>, a sum the reverse
    /// pass has already). A factor of shape [1, n] that never settles (a parameter declared so) keeps the sum out of
    /// the Gemm: a node more, never a wrong result.
    /// </summary>
    private bool AwaitsFactoring(Value matrix, Reduce reduce)
    {
        if (!IsFloat(matrix) || OpOf(matrix) is not Mul || !SingleUse(matrix)) return false;
        for (var i = 0; i < 2; i++)
        {
            var (a, b) = (In(matrix, i), In(matrix, 1 - i));
            if (a.Aval == matrix.Aval && ConstantAlong(Squeezed(b), matrix.Shape, reduce)) return true;
            if (a.Aval != matrix.Aval || b.Aval != matrix.Aval || OpOf(a) is not Mul) continue;
            for (var j = 0; j < 2; j++)
                if (In(a, j).Aval == matrix.Aval && ConstantAlong(Squeezed(In(a, 1 - j)), matrix.Shape, reduce)) return true;
        }
        return false;
    }

    /// <summary>
    /// v ⊙ Reduce(m), v without the reduced axes (1s) when the reduction drops them, or null (nothing emitted) when
    /// its aval would differ from the node's.
    /// </summary>
    private Value? TimesReduction(Node node, Reduce reduce, Value m, Value v)
    {
        var kept = Kept(v, m.Shape, reduce);
        if (AvalOf(new Mul(), [reduce.InferChecked([m.Aval]), new Aval(kept, v.DType)]) != node.Output.Aval) return null;
        return Replace(node, new Mul(), Emit(reduce, m), kept.Equals(v.Shape) ? v : Emit(new Reshape(kept), v));
    }

    /// <summary>The value before a reshape that only adds or drops leading 1s (a vector reshaped to [1, n] by a reverse pass).</summary>
    private Value Squeezed(Value v) => OpOf(v) is Reshape && LeadingOnesOnly(In(v, 0).Shape, v.Shape) ? In(v, 0) : v;

    /// <summary>
    /// Whether <paramref name="v"/>, broadcast against a tensor of <paramref name="shape"/>, is smaller and has the same
    /// value along every axis that <paramref name="reduce"/> reduces (its aligned axis is 1 or absent).
    /// </summary>
    private static bool ConstantAlong(Value v, Shape shape, Reduce reduce)
    {
        var offset = shape.Rank - v.Shape.Rank;
        if (offset < 0 || v.Shape.Size >= shape.Size) return false;
        foreach (var axis in reduce.Axes)
            if (axis >= offset && v.Shape[axis - offset] != 1) return false;
        return true;
    }

    /// <summary>
    /// <paramref name="v"/>'s shape as a factor of the reduction's result: as it is with KeepDims, else without its
    /// axes aligned to reduced ones (1s), so that it right-aligns with the result as it did with the operand.
    /// </summary>
    private static Shape Kept(Value v, Shape shape, Reduce reduce)
    {
        if (reduce.KeepDims) return v.Shape;
        var offset = shape.Rank - v.Shape.Rank;
        return Shape.Of([.. Enumerable.Range(0, v.Shape.Rank).Where(d => !reduce.Axes.Contains(d + offset)).Select(d => v.Shape[d])]);
    }

    /// <summary>
    /// Whether a factor <paramref name="v"/> of a tensor of <paramref name="shape"/> has its final shape: not one of the
    /// full rank that starts with a 1, which is a vector whose reshape to [1, n] has not sunk yet (<see cref="Shapes"/>
    /// drops it at a broadcasting consumer); a product or sum taken with it now would keep the [1, n] shape.
    /// </summary>
    private static bool Settled(Value v, Shape shape) => v.Shape.Rank < shape.Rank || v.Shape[0] != 1;

    /// <summary>Whether <paramref name="v"/> is a non-constant or scalar-constant factor smaller than the product <paramref name="of"/>.</summary>
    private static bool IsSmallerFactor(Value v, Value of) => v.Shape.Size < of.Shape.Size && v.Shape.Rank <= of.Shape.Rank;

    /// <summary>(M, v) when <paramref name="p"/> = M ⊙ v (either order), used once, M as large as p and v smaller.</summary>
    private (Value Full, Value Small)? Broadcast(Value p)
    {
        if (OpOf(p) is not Mul || !SingleUse(p)) return null;
        for (var i = 0; i < 2; i++)
        {
            var (m, v) = (In(p, i), In(p, 1 - i));
            if (m.Aval == p.Aval && IsSmallerFactor(v, p) && !IsScalarConstant(v)) return (m, Squeezed(v));
        }
        return null;
    }

    /// <summary>(M ⊙ v₁) ⊙ v₂ as M ⊙ (v₁ ⊙ v₂), when v₁ ⊙ v₂ is still smaller than the product.</summary>
    private Value? Gathered(Node node, Value m, Value v1, Value v2)
    {
        if (!Settled(v1, m.Shape) || !Settled(v2, m.Shape)) return null;
        var small = AvalOf(new Mul(), [v1.Aval, v2.Aval]);
        if (small is null || small.Shape.Size >= node.Output.Shape.Size) return null;
        var aval = AvalOf(new Mul(), [m.Aval, small]);
        return aval == node.Output.Aval ? Replace(node, new Mul(), m, Emit(new Mul(), v1, v2)) : null;
    }
}
