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
