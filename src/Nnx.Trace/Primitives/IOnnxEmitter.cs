namespace NnxSharp.Primitives;

/// <summary>
/// What a primitive's lowering may say about ONNX, without depending on protobuf: add nodes and
/// constants. Nnx.Onnx implements it. Names are the ONNX value names; "" is an omitted optional input.
/// </summary>
public interface IOnnxEmitter
{
    /// <summary>The ai.onnx opset being emitted.</summary>
    int Opset { get; }

    /// <summary>The execution provider the graph is lowered for: a lowering uses only operators it has kernels for.</summary>
    OnnxTarget Target { get; }

    /// <summary>The value of a constant added with <see cref="Constant"/>, or null when the name is not a constant.</summary>
    HostArray? ConstantValue(string name);

    /// <summary>Adds a node of the default domain and returns the name of its (first) output.</summary>
    string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes);

    /// <summary>Adds a node of another domain (e.g. <c>com.microsoft</c>) and returns its output's name.</summary>
    string Node(string domain, string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes);

    /// <summary>Adds a constant (an initializer) and returns its name; equal constants share one name.</summary>
    string Constant(HostArray value);
}

/// <summary>The operands of a lowering: ONNX value names with their avals, and the output aval.</summary>
/// <param name="Inputs">The ONNX names of the operands.</param>
/// <param name="InputAvals">The operands' avals.</param>
/// <param name="Output">The result's aval.</param>
public sealed record LowerArgs(IReadOnlyList<string> Inputs, IReadOnlyList<Aval> InputAvals, Aval Output);

/// <summary>An ONNX node attribute. Create with the static factories.</summary>
/// <param name="Name">The attribute's name.</param>
/// <param name="Value">A long, float, string, long[], float[] or <see cref="HostArray"/>.</param>
public sealed record OnnxAttribute(string Name, object Value)
{
    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, value);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name, value);

    /// <summary>A string attribute.</summary>
    public static OnnxAttribute String(string name, string value) => new(name, value);

    /// <summary>An integer-list attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] value) => new(name, value);

    /// <summary>A float-list attribute.</summary>
    public static OnnxAttribute Floats(string name, params float[] value) => new(name, value);

    /// <summary>A tensor attribute.</summary>
    public static OnnxAttribute Tensor(string name, HostArray value) => new(name, value);
}

/// <summary>Small helpers for lowerings.</summary>
public static class OnnxEmitterExtensions
{
    /// <summary>A 1-D int64 constant, as ONNX wants shapes, axes, starts and ends.</summary>
    public static string Int64s(this IOnnxEmitter e, params long[] values) =>
        e.Constant(HostArray.Create(values, Shape.Of(values.Length)));

    /// <summary>A scalar constant of the given dtype.</summary>
    public static string Scalar(this IOnnxEmitter e, DType dtype, double value) => e.Constant(HostArray.Scalar(dtype, value));

    /// <summary>Adds a node with one or more operands.</summary>
    public static string Node(this IOnnxEmitter e, string opType, string input, params OnnxAttribute[] attributes) =>
        e.Node(opType, [input], attributes);

    /// <summary>A Cast node, or the input itself when no cast is needed.</summary>
    public static string Cast(this IOnnxEmitter e, string input, DType from, DType to) =>
        from == to ? input : e.Node("Cast", [input], OnnxAttribute.Int("to", OnnxTypes.ElementType(to)));

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

/// <summary>ONNX's TensorProto.DataType codes.</summary>
public static class OnnxTypes
{
    /// <summary>The ONNX element type code of a dtype.</summary>
    public static int ElementType(DType t) => t switch
    {
        DType.Float32 => 1,
        DType.Int32 => 6,
        DType.Int64 => 7,
        DType.Bool => 9,
        DType.Float16 => 10,
        DType.Float64 => 11,
        DType.UInt32 => 12,
        DType.UInt64 => 13,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The dtype of an ONNX element type code.</summary>
    public static DType FromElementType(int code) => code switch
    {
        1 => DType.Float32,
        6 => DType.Int32,
        7 => DType.Int64,
        9 => DType.Bool,
        10 => DType.Float16,
        11 => DType.Float64,
        12 => DType.UInt32,
        13 => DType.UInt64,
        _ => throw new NotSupportedException($"ONNX element type {code} has no Nnx dtype."),
    };
}
