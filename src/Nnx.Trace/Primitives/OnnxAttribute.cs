namespace NnxSharp.Primitives;

/// <summary>An ONNX node attribute. Create with the static factories.</summary>
/// <param name="Name">The attribute's name.</param>
/// <param name="Value">A long, float, string, long[], float[], <see cref="HostArray"/> or <see cref="DType"/> (an element type).</param>
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

    /// <summary>An element-type attribute (Cast's <c>to</c>): the emitter writes the dtype's ONNX type code, an integer.</summary>
    public static OnnxAttribute ElementType(string name, DType value) => new(name, value);

    /// <summary>A tensor attribute.</summary>
    public static OnnxAttribute Tensor(string name, HostArray value) => new(name, value);
}
