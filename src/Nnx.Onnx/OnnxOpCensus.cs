using NnxSharp.Primitives;
using NnxSharp.Onnx.Schema;

namespace NnxSharp.Onnx;

/// <summary>One operator of a lowered graph with the dtype of its data operand (and, for Cast, the target dtype).</summary>
/// <param name="Op">The ONNX operator (domain-qualified unless ai.onnx).</param>
/// <param name="DType">The dtype of its data operand (<see cref="CudaKernels.DataOperand"/>), or of its output for an operator without operands.</param>
/// <param name="To">Cast's target dtype; null for other operators.</param>
internal sealed record OnnxOpUse(string Op, DType DType, DType? To = null)
{
    /// <summary>Prints as <c>Where(f32)</c> or <c>Cast(u32→f64)</c>.</summary>
    public override string ToString() => To is { } to ? $"{Op}({DType.ShortName()}→{to.ShortName()})" : $"{Op}({DType.ShortName()})";
}

/// <summary>
/// The operators a lowered model uses, each with its dtypes: the dtypes of the values are followed from the
/// model's inputs and initializers through the nodes (the rule of each operator Nnx emits), so no runtime is
/// needed. Used to check a lowering against <see cref="CudaKernels"/>.
/// </summary>
internal static class OnnxOpCensus
{
    /// <summary>The distinct (operator, dtype) uses of <paramref name="model"/>'s nodes, in first-use order.</summary>
    public static IReadOnlyList<OnnxOpUse> Uses(ModelProto model)
    {
        var types = new Dictionary<string, DType>();
        foreach (var i in model.Graph.Input) types[i.Name] = OnnxTypes.FromElementType(i.Type.TensorType.ElemType);
        foreach (var t in model.Graph.Initializer) types[t.Name] = OnnxTypes.FromElementType(t.DataType);
        var uses = new List<OnnxOpUse>();
        var seen = new HashSet<OnnxOpUse>();
        foreach (var node in model.Graph.Node)
        {
            var op = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}:{node.OpType}";
            DType TypeOf(int input) => types.TryGetValue(node.Input[input], out var t)
                ? t
                : throw new InvalidOperationException($"ONNX census: {op} node '{node.Name}' reads '{node.Input[input]}', which no earlier node or input defines.");
            DType? to = node.OpType == "Cast" ? OnnxTypes.FromElementType((int)node.Attribute.Single(a => a.Name == "to").I) : null;
            var output = node.OpType switch
            {
                "Cast" => to!.Value,
                "Equal" or "Less" or "LessOrEqual" or "Greater" or "GreaterOrEqual" or "And" or "Or" or "Xor" or "Not" => DType.Bool,
                "ArgMax" or "ArgMin" or "Shape" or "Size" => DType.Int64,
                "ConstantOfShape" => node.Attribute.FirstOrDefault(a => a.Name == "value") is { } v ? OnnxTypes.FromElementType(v.T.DataType) : DType.Float32,
                "Where" or NnxCpuOps.SelectOrZero => TypeOf(1),
                NnxCpuOps.BoolToFloat32 => DType.Float32,
                NnxCpuOps.BoolToFloat64 => DType.Float64,
                _ => TypeOf(0),
            };
            var data = node.Input.Count == 0 || node.OpType == "ConstantOfShape" ? output : TypeOf(CudaKernels.DataOperand(node.OpType));
            var use = new OnnxOpUse(op, data, to);
            if (seen.Add(use)) uses.Add(use);
            foreach (var o in node.Output) types[o] = output;
        }
        return uses;
    }

    /// <summary>The uses in <paramref name="model"/> that ONNX Runtime's CUDA provider has no kernel for.</summary>
    public static IReadOnlyList<OnnxOpUse> MissingOnCuda(ModelProto model) => [.. Uses(model).Where(u => !CudaKernels.Supports(u))];
}
