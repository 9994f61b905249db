namespace NnxSharp.Primitives;

/// <summary>Small helpers for lowerings.</summary>
internal static class OnnxEmitterExtensions
{
    /// <summary>A 1-D int64 constant, as ONNX wants shapes, axes, starts and ends.</summary>
    public static string Int64s(this IOnnxEmitter e, params long[] values) =>
        e.Constant(HostArray.Create(values, Shape.Of(values.Length)));

    /// <summary>A scalar constant of the given dtype.</summary>
    public static string Scalar(this IOnnxEmitter e, DType dtype, double value) => e.Constant(HostArray.Scalar(dtype, value));

    /// <summary>Adds a node with one or more operands.</summary>
    public static string Node(this IOnnxEmitter e, string opType, string input, params OnnxAttribute[] attributes) =>
        e.Node(opType, [input], attributes);

    /// <summary>A Cast node, or the input itself when no cast is needed; kept apart from a Cast before it where ONNX Runtime would merge the two inexactly (<see cref="CastChains"/>).</summary>
    public static string Cast(this IOnnxEmitter e, string input, DType from, DType to) =>
        from == to ? input : CastChains.Cast(e, input, from, to);

    /// <summary>A Reshape node; <c>allowzero</c> is set when the target has a 0, which ONNX otherwise reads as "copy that input dim".</summary>
    internal static string Reshape(this IOnnxEmitter e, string input, Shape target) => target.Contains(0)
        ? e.Node("Reshape", [input, e.Int64s(target.ToLongArray())], OnnxAttribute.Int("allowzero", 1))
        : e.Node("Reshape", [input, e.Int64s(target.ToLongArray())]);

    /// <summary>
    /// An order-preserving, exact map of an unsigned tensor into int64, for ops that ONNX Runtime's CPU provider
    /// lacks for unsigned types: uint32 widens; uint64 gets its top bit flipped by adding 2^63 (unsigned, so it
    /// wraps) and is then reinterpreted, which is u − 2^63. Add has CUDA kernels where BitwiseXor has none.
    /// </summary>
    internal static string ToOrderedInt64(this IOnnxEmitter e, string input, DType t) => t == DType.UInt64
        ? e.Cast(e.Node("Add", [input, e.Constant(TopBit)]), DType.UInt64, DType.Int64)
        : e.Cast(input, t, DType.Int64);

    private static readonly HostArray TopBit = HostArray.Create([1UL << 63], Shape.Scalar);
}
