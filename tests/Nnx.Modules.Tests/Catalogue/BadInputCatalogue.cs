using NnxSharp;

namespace UserCode.Tests;

/// <summary>
/// One bad input or misuse: what the user did, the exception it must raise, and the fragments its message must
/// contain (the op or layer, the shapes, the path or argument).
/// </summary>
internal sealed record BadInput(string Area, string What, Type Exception, Action Act, string[] Mentions);

/// <summary>The catalogue's cases over tensors, autodiff, layers and losses (modules, jits, optimizers and export in <see cref="BadInputCatalogueMore"/>).</summary>
internal static class BadInputCatalogue
{
    public static BadInput Case<TException>(string area, string what, Action act, params string[] mentions) where TException : Exception =>
        new(area, what, typeof(TException), act, mentions);

    private static Tensor F(params int[] shape) => Tensor.Ones(shape);

    public static IEnumerable<BadInput> Tensors()
    {
        yield return Case<ArgumentException>("tensor", "add of unbroadcastable shapes", () => _ = F(3, 4) + F(5), "add", "f32[3,4]", "f32[5]");
        yield return Case<ArgumentException>("tensor", "mat_mul with different contracting sizes", () => _ = F(2, 3).MatMul(F(4, 5)), "mat_mul", "f32[2,3]", "f32[4,5]");
        yield return Case<ArgumentException>("tensor", "reshape to another size", () => _ = F(2, 3).Reshape(4, 2), "reshape", "f32[2,3]", "4,2");
        yield return Case<ArgumentException>("tensor", "reshape with two -1s", () => _ = F(2, 3).Reshape(-1, -1), "reshape", "more than one -1", "f32[2,3]");
        yield return Case<ArgumentException>("tensor", "reshape with a negative size", () => _ = F(2, 3).Reshape(-2, 3), "reshape", "-2", "f32[2,3]");
        yield return Case<ArgumentException>("tensor", "sum over an axis out of range", () => _ = F(3, 4).Sum(axis: 5), "reduce_sum", "axis 5", "[3,4]");
        yield return Case<ArgumentOutOfRangeException>("tensor", "gather with an index past the end", () => _ = F(4, 3).Gather(Tensor.FromArray([0L, 7L])), "gather", "index 7", "position [1]", "f32[4,3]");
        yield return Case<ArgumentOutOfRangeException>("tensor", "gather with an index before the start", () => _ = F(4, 3).Gather(Tensor.FromArray([-5L])), "gather", "index -5", "f32[4,3]");
        yield return Case<ArgumentException>("tensor", "gather with float indices", () => _ = F(4, 3).Gather(F(2)), "gather", "f32[2]", "f32[4,3]");
        yield return Case<ArgumentException>("tensor", "gather along an axis out of range", () => _ = F(4, 3).Gather(Tensor.FromArray([0L]), axis: 2), "gather", "axis 2", "[4,3]");
        yield return Case<ArgumentOutOfRangeException>("tensor", "take_along_axis with an index past its axis", () => _ = F(2, 3).TakeAlongAxis(Tensor.FromArray([0L, 3L]), axis: 1), "take_along_axis", "index 3", "axis 1", "f32[2,3]");
        yield return Case<ArgumentException>("tensor", "take_along_axis with indices of another shape", () => _ = F(2, 3).TakeAlongAxis(Tensor.FromArray([0L, 1L, 2L]), axis: 1), "take_along_axis", "i64[3]", "f32[2,3]");
        yield return Case<ArgumentException>("tensor", "transpose with a bad permutation", () => _ = F(2, 3).Transpose([0, 0]), "transpose", "f32[2,3]", "(0,0)");
        yield return Case<ArgumentException>("tensor", "concat of mismatched shapes", () => _ = Tensor.Concat(0, F(2, 3), F(2, 4)), "concat", "f32[2,3]", "f32[2,4]");
        yield return Case<ArgumentException>("tensor", "slice along an axis out of range", () => _ = F(2, 3).Slice(5, 0, 1), "slice", "axis 5", "[2,3]");
        yield return Case<InvalidOperationException>("tensor", "Item of a tensor with several elements", () => _ = F(3).Item<float>(), "Item", "f32[3]", "3 elements");
        yield return Case<ObjectDisposedException>("tensor", "an operation on a disposed tensor", () => { var t = F(2); t.Dispose(); _ = t * 2.0; }, "mul", "argument 0", "f32[2]", "disposed");
        yield return Case<ArgumentNullException>("tensor", "a null operand", () => _ = F(2) + (Tensor)null!, "b");
        yield return Case<ArgumentException>("tensor", "FromArray with a shape of another size", () => _ = Tensor.FromArray([1f, 2f, 3f], 2, 2), "3", "[2,2]");
        yield return Case<ArgumentException>("tensor", "a negative dimension", () => _ = Tensor.Zeros(2, -1), "Shape", "[2,-1]", "negative");
        yield return Case<ArgumentException>("tensor", "a shape past 2^31 elements", () => _ = Tensor.Zeros(1 << 16, 1 << 16), "Shape", "[65536,65536]", "2^31");
        yield return Case<ArgumentException>("tensor", "where with a float condition", () => _ = Tensor.Where(F(2), F(2), F(2)), "where", "f32[2]", "argument 0");
        yield return Case<ArgumentException>("tensor", "bitwise and of floats", () => _ = F(2) & F(2), "bitwise_and", "f32[2]");
        yield return Case<ArgumentException>("tensor", "a shift of a float tensor", () => _ = F(2) << 3, "shift_left", "f32[2]");
        yield return Case<InvalidOperationException>("tensor", "a symbolic tensor used after its trace", () =>
        {
            Tensor? leaked = null;
            Jit.Pure((Tensor x) => { leaked = x; return x.Sum(); })(F(2));
            _ = leaked! + 1.0;
        }, "add", "symbolic tensor", "f32[2]", "after its trace ended");
    }

    public static IEnumerable<BadInput> Autodiff()
    {
        yield return Case<ArgumentException>("autodiff", "grad of a function that is not scalar", () => NnxSharp.Autodiff.Grad((Tensor t) => t * 2.0)(F(3)), "value_and_grad", "f32[3]", "shape []");
        yield return Case<ArgumentException>("autodiff", "grad with respect to an integer tensor", () => NnxSharp.Autodiff.Grad((Tensor t) => t.Sum())(Tensor.FromArray([1, 2])), "value_and_grad", "argument 0", "i32[2]", "float");
        yield return Case<InvalidOperationException>("autodiff", "grad of a function that returns null", () => NnxSharp.Autodiff.Grad((Tensor t) => null!)(F(2)), "value_and_grad", "returned null");
        yield return Case<ArgumentOutOfRangeException>("autodiff", "an argnum out of range", () => NnxSharp.Autodiff.Grad((Tensor a, Tensor b) => (a + b).Sum(), argnum: 2), "argnum", "2", "[0, 2)");
        yield return Case<ArgumentException>("autodiff", "Nnx.Grad with respect to an integer variable", () => Nnx.Grad<IntHolder>(m => m.Count.Value.Cast(DType.Float32).Sum() + m.W.Value.Sum(), Filter.Everything)(new IntHolder()), "Nnx.ValueAndGrad", "variable 'count'", "i32[2]");
    }

    public static IEnumerable<BadInput> Layers()
    {
        var rngs = new Rngs(0);
        yield return Case<ArgumentException>("layer", "Linear given the wrong number of features", () => new Linear(3, 2, rngs).Call(F(4, 2)), "Linear", "3 features", "f32[4,2]");
        yield return Case<ArgumentException>("layer", "Linear given integers", () => new Linear(2, 2, rngs).Call(Tensor.FromArray([1, 2], 1, 2)), "Linear", "i32[1,2]", "float");
        yield return Case<InvalidOperationException>("layer", "Linear whose kernel was replaced by another shape", () =>
        {
            var l = new Linear(2, 3, rngs);
            Nnx.State(l);
            l.Kernel.Value = F(5, 5);
            l.Call(F(1, 2));
        }, "Linear", "'kernel'", "f32[5,5]", "[2,3]");
        yield return Case<ArgumentException>("layer", "BatchNorm given the wrong number of features", () => new BatchNorm(3, rngs).Call(F(4, 5)), "BatchNorm", "3 features", "f32[4,5]");
        yield return Case<ArgumentException>("layer", "BatchNorm training on an empty batch", () => new BatchNorm(3, rngs).Call(F(0, 3)), "BatchNorm", "f32[0,3]", "zero-size batch");
        yield return Case<InvalidOperationException>("layer", "BatchNorm whose running mean was replaced", () =>
        {
            var b = new BatchNorm(3, rngs);
            Nnx.State(b);
            b.Mean.Value = F(4);
            b.Call(F(2, 3));
        }, "BatchNorm", "'mean'", "f32[4]", "[3]");
        yield return Case<ArgumentException>("layer", "Embed given float indices", () => new Embed(10, 4, rngs).Call(F(3)), "Embed", "f32[3]", "int32 or int64");
        yield return Case<ArgumentOutOfRangeException>("layer", "Embed given an index past the table", () => new Embed(10, 4, rngs).Call(Tensor.FromArray([1L, 12L])), "Embed(10, 4)", "index 12", "position [1]", "f32[10,4]");
        yield return Case<ArgumentException>("layer", "Conv given the wrong number of channels", () => new Conv(3, 4, [3, 3], rngs).Call(F(1, 8, 8, 2)), "Conv", "f32[1,8,8,2]", "3");
        yield return Case<ArgumentException>("layer", "LayerNorm given the wrong number of features", () => new LayerNorm(4, rngs).Call(F(2, 3)), "LayerNorm", "4 features", "f32[2,3]");
        yield return Case<ArgumentException>("layer", "Dropout with a rate above 1", () => _ = new Dropout(1.5, rngs), "Dropout", "1.5");
        yield return Case<InvalidOperationException>("layer", "Dropout training without random streams", () => new Dropout(0.5).Call(F(2, 2)), "Dropout", "rate 0.5", "rngs");
        yield return Case<ArgumentException>("layer", "MultiHeadAttention given the wrong features", () => new MultiHeadAttention(2, 8, rngs).Call(F(1, 3, 6)), "MultiHeadAttention", "f32[1,3,6]", "8");
        yield return Case<ArgumentException>("loss", "softmax_cross_entropy given integer labels", () => Losses.SoftmaxCrossEntropy(F(2, 3), Tensor.FromArray([0, 1])), "softmax_cross_entropy", "i32[2]", "f32[2,3]");
        yield return Case<ArgumentOutOfRangeException>("loss", "integer labels past the classes", () => Losses.SoftmaxCrossEntropyWithIntegerLabels(F(2, 3), Tensor.FromArray([0L, 3L])), "index 3", "axis 1", "f32[2,3]");
        yield return Case<ArgumentException>("loss", "squared error of different shapes", () => Losses.SquaredError(F(2, 3), F(3, 2)), "f32[2,3]", "f32[3,2]");
    }
}

/// <summary>A module with an integer variable (not differentiable).</summary>
public sealed class IntHolder : Module
{
    public readonly Models.Count Count = new(Tensor.FromArray([1, 2]));
    public readonly Param W = new(Tensor.Ones(2));
}
