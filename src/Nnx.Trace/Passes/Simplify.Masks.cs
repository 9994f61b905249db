using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

internal sealed partial class Simplify
{
    /// <summary>
    /// A ReLU's gradient mask applied at a max pool's reduced size. Max pooling after a ReLU differentiates to
    /// where(y &gt; 0, reshape(mask · q), 0) with mask = cast(x = e), x the pooled elements (y reshaped), e each window's
    /// maximum broadcast from the reduced shape and q the cotangent over the tie count, also at the reduced size.
    /// Where the mask is 1, x = e, so y &gt; 0 exactly where e &gt; 0, and the whole is
    /// reshape(mask · where(e &gt; 0, q, 0)): the comparison and the Where run over the windows, not over every element
    /// (the convnet's first block: [128, 14, 1, 14, 1, 32] instead of [128, 28, 28, 32]; notes/layers.md). y may be
    /// the ReLU's output or its input (reshaped or not): both are positive at the same elements.
    /// It holds for any e, not only a maximum. Equal for finite q (up to the sign of a zero); where q is infinite or
    /// NaN, 0 · q makes the window's other elements NaN in the rewritten form also where y ≤ 0 (the gradient of that
    /// window is not finite either way). Fires only when the product and its reshape have no other use and the mask
    /// runs over fewer elements, so the graph does not grow.
    /// </summary>
    private Value? Masks(Node node)
    {
        var x = node.Inputs;
        if (node.Op is not Where || !IsFloat(node.Output) || OpOf(x[0]) is not Greater || !IsConstant(In(x[0], 1), 0) || !IsConstant(x[2], 0)) return null;
        var y = In(x[0], 0);
        if (!SingleUse(x[1]) || y.Shape != node.Output.Shape || x[1].Shape != node.Output.Shape) return null;
        var product = x[1];
        while (OpOf(product) is Reshape && SingleUse(product)) product = In(product, 0);
        if (OpOf(product) is not Mul || !SingleUse(product) || product.Shape.Size != node.Output.Shape.Size) return null;
        for (var i = 0; i < 2; i++)
        {
            var (mask, q) = (In(product, i), In(product, 1 - i));
            if (OpOf(mask) is not Cast || OpOf(In(mask, 0)) is not Equal || mask.Shape != product.Shape) continue;
            var equal = In(mask, 0);
            for (var j = 0; j < 2; j++)
            {
                var (elements, e) = (In(equal, j), In(equal, 1 - j));
                if (elements.Shape != product.Shape || !ReferenceEquals(SignSource(elements), SignSource(y)) || e.DType != y.DType) continue;
                var zero = In(x[0], 1);
                if (AvalOf(new Greater(), [e.Aval, zero.Aval]) is not { } positive
                    || AvalOf(new Where(), [positive, q.Aval, x[2].Aval]) is not { } masked || masked.Shape.Size >= product.Shape.Size
                    || AvalOf(new Mul(), i == 0 ? [mask.Aval, masked] : [masked, mask.Aval]) != product.Aval) continue;
                var w = Emit(new Where(), Emit(new Greater(), e, zero), q, x[2]);
                var result = Emit(new Mul(), i == 0 ? [mask, w] : [w, mask]);
                return result.Aval == node.Output.Aval ? result : Replace(node, new Reshape(node.Output.Shape), result);
            }
        }
        return null;
    }

    /// <summary>
    /// A value with its reshapes and relus stripped: v &gt; 0 at each row-major position exactly where the result
    /// is &gt; 0 (a reshape keeps the elements in order; relu(a) &gt; 0 exactly where a &gt; 0, which the relu rule of
    /// <see cref="Identity"/> uses when the comparison reads the relu directly).
    /// </summary>
    private Value SignSource(Value v)
    {
        while (OpOf(v) is Reshape or Relu) v = In(v, 0);
        return v;
    }
}
