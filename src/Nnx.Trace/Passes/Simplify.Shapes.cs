using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

internal sealed partial class Simplify
{
    /// <summary>
    /// Reshapes and broadcasts that broadcasting makes unnecessary. An operand of an elementwise op (or Where)
    /// that was broadcast, or reshaped only by adding or dropping leading 1s, or a constant tensor of one
    /// repeated value, is used as it was (or as a scalar) when the op's result keeps its aval. A reduction
    /// over leading axes that keeps them is the reduction without them, reshaped; such a reshape sinks through
    /// elementwise ops with a scalar until a broadcasting consumer absorbs it (features stay vectors: the
    /// mean of a batch is f32[n], not f32[1,n] reshaped back and forth).
    /// </summary>
    private Value? Shapes(Node node)
    {
        var x = node.Inputs;
        switch (node.Op)
        {
            case Binary or Where:
            {
                // Each operand as it was before a broadcast or reshape, or a repeated constant as a scalar, kept
                // only while the result's aval stays the same.
                var avals = x.Select(v => v.Aval).ToArray();
                var plain = new Func<Value>?[x.Length];
                for (var i = 0; i < x.Length; i++)
                {
                    var (aval, make) = Unbroadcast(x[i]);
                    if (make is null) continue;
                    var trial = (Aval[])avals.Clone();
                    trial[i] = aval!;
                    if (AvalOf(node.Op, trial) != node.Output.Aval) continue;
                    avals = trial;
                    plain[i] = make;
                }
                if (plain.Any(p => p is not null)) return Replace(node, node.Op, [.. x.Select((v, i) => plain[i] is { } make ? make() : v)]);
                return node.Op is Binary && IsFloat(x[0]) ? SinkReshape(node) : null;
            }
            case ReduceSum { KeepDims: true } or ReduceMean { KeepDims: true } when IsLeading(((Reduce)node.Op).Axes):
            {
                var axes = ((Reduce)node.Op).Axes;
                Primitive flat = node.Op is ReduceSum ? new ReduceSum(axes, false) : new ReduceMean(axes, false);
                return Replace(node, new Reshape(node.Output.Shape), Emit(flat, x[0]));
            }
            case Unary and not StopGradient when OpOf(x[0]) is Reshape && SingleUse(x[0]) && (LeadingOnesOnly(In(x[0], 0).Shape, x[0].Shape) || ReluOfProduct(node)):
                return Replace(node, new Reshape(node.Output.Shape), Emit(node.Op, In(x[0], 0)));
            default:
                return null;
        }
    }

    /// <summary>
    /// relu(reshape(a·b)) = reshape(relu(a·b)): ONNX Runtime then fuses the Relu into the Gemm (FusedGemm), which saves
    /// a pass over a convolution's im2col output (notes/layers.md).
    /// </summary>
    private bool ReluOfProduct(Node node) => node.Op is Relu && node.Output.DType.IsFloat() && OpOf(In(node.Inputs[0], 0)) is Gemm or MatMul;

    /// <summary>op(reshape(a), b) = reshape(op(a, b)) for a reshape that only adds or drops leading 1s.</summary>
    private Value? SinkReshape(Node node)
    {
        for (var i = 0; i < 2; i++)
        {
            var r = node.Inputs[i];
            if (OpOf(r) is not Reshape || !SingleUse(r) || !LeadingOnesOnly(In(r, 0).Shape, r.Shape)) continue;
            Value[] trial = i == 0 ? [In(r, 0), node.Inputs[1]] : [node.Inputs[0], In(r, 0)];
            var aval = AvalOf(node.Op, [.. trial.Select(v => v.Aval)]);
            if (aval is null || aval.DType != node.Output.DType || !LeadingOnesOnly(aval.Shape, node.Output.Shape)) continue;
            return Replace(node, new Reshape(node.Output.Shape), Emit(node.Op, trial));
        }
        return null;
    }

    /// <summary>
    /// The aval an operand had before a broadcast or a leading-1s reshape, or that a repeated constant has as a
    /// scalar, and how to get that value; (null, null) when it is none of those.
    /// </summary>
    private (Aval? Aval, Func<Value>? Make) Unbroadcast(Value v)
    {
        switch (OpOf(v))
        {
            case BroadcastTo:
            case Reshape when LeadingOnesOnly(In(v, 0).Shape, v.Shape):
                var source = In(v, 0);
                return (source.Aval, () => source);
            case Full or Literal when v.Shape.Rank > 0 && Uniform(v) is { } value:
                return (new Aval(Shape.Scalar, v.DType), () => Scalar(v, value));
            default:
                return (null, null);
        }
    }

    private static Aval? AvalOf(Primitive op, Aval[] inputs)
    {
        try
        {
            return op.InferChecked(inputs);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool IsLeading(Ints axes)
    {
        for (var i = 0; i < axes.Count; i++)
            if (axes[i] != i) return false;
        return axes.Count > 0;
    }

    /// <summary>Whether two shapes differ only by leading 1s (so right-aligned broadcasting reads them alike).</summary>
    private static bool LeadingOnesOnly(Shape a, Shape b)
    {
        var (i, j) = (0, 0);
        while (i < a.Rank && a[i] == 1 && a.Rank - i > b.Rank - j) i++;
        while (j < b.Rank && b[j] == 1 && b.Rank - j > a.Rank - i) j++;
        if (a.Rank - i != b.Rank - j) return false;
        for (; i < a.Rank; i++, j++)
            if (a[i] != b[j]) return false;
        return true;
    }
}
