namespace NnxSharp.Onnx;

/// <summary>
/// ONNX's TensorProto.DataType codes. Only Nnx.Onnx speaks them: lowerings name element types as dtypes
/// (<see cref="NnxSharp.Primitives.OnnxAttribute.ElementType"/>), and the emitter writes the code.
/// </summary>
internal static class OnnxTypes
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
