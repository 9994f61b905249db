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

    /// <summary>
    /// The channel block of ONNX Runtime's NCHWc CPU kernels (the <c>com.microsoft.nchwc</c> operators) when the graph
    /// is lowered to run in this process on the CPU provider and the machine has them (16 with AVX-512, 8 with AVX2);
    /// 0 otherwise, among others for exported files, which must not depend on the machine that wrote them.
    /// </summary>
    int NchwcBlockSize => 0;

    /// <summary>
    /// The intra-op threads of the CPU session the graph is lowered for when it runs in this process; 1 otherwise
    /// (exported files, CUDA), so that a lowering chooses between forms that differ in how ONNX Runtime's kernels
    /// use threads only where the threads are known.
    /// </summary>
    int IntraOpThreads => 1;

    /// <summary>
    /// Whether the operators of Nnx's own CPU kernels (<see cref="NnxCpuOps"/>) may be used: true when the graph is
    /// lowered to run in this process on the CPU provider and the kernels could be registered with ONNX Runtime;
    /// false otherwise, among others for exported files, which other runtimes must be able to load.
    /// </summary>
    bool OwnCpuKernels => false;

    /// <summary>
    /// The node of this lowering that computes <paramref name="name"/>, or null for a graph input or a constant: a
    /// lowering may read its producer's input instead (a transpose of a transpose). A node whose output nothing
    /// reads in the end is left out of the model.
    /// </summary>
    OnnxNode? Producer(string name) => null;

    /// <summary>
    /// How many nodes and graph outputs read the value named <paramref name="name"/> (known for values of nodes already
    /// lowered; <see cref="int.MaxValue"/> when unknown): a lowering that would otherwise recompute its producer's
    /// work with a fused node checks that it is the only reader.
    /// </summary>
    int Readers(string name) => int.MaxValue;

    /// <summary>The value of a constant added with <see cref="Constant"/>, or null when the name is not a constant.</summary>
    HostArray? ConstantValue(string name);

    /// <summary>Adds a node of the default domain and returns the name of its (first) output.</summary>
    string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes);

    /// <summary>Adds a node of another domain (e.g. <c>com.microsoft</c>) and returns its output's name.</summary>
    string Node(string domain, string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes);

    /// <summary>Adds a constant (an initializer) and returns its name; equal constants share one name.</summary>
    string Constant(HostArray value);
}

/// <summary>A node added by a lowering, as <see cref="IOnnxEmitter.Producer"/> shows it.</summary>
/// <param name="Domain">The operator's domain ("" for ai.onnx).</param>
/// <param name="OpType">The operator.</param>
/// <param name="Inputs">The input names.</param>
/// <param name="Attributes">The attributes as given.</param>
public sealed record OnnxNode(string Domain, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<OnnxAttribute> Attributes)
{
    /// <summary>Whether this is <paramref name="opType"/> of <paramref name="domain"/>.</summary>
    public bool Is(string opType, string domain = "") => OpType == opType && Domain == domain;

    /// <summary>The integer-list attribute <paramref name="name"/>, or null.</summary>
    public long[]? Ints(string name) => Attributes.FirstOrDefault(a => a.Name == name)?.Value as long[];

    /// <summary>The integer attribute <paramref name="name"/>, or <paramref name="otherwise"/> when absent.</summary>
    public long Int(string name, long otherwise = 0) => Attributes.FirstOrDefault(a => a.Name == name)?.Value is long v ? v : otherwise;
}
