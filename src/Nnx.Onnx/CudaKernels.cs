using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// Which ai.onnx operators ONNX Runtime's CUDA provider has kernels for at the opset Nnx emits, and for which of
/// Nnx's dtypes: our own table, written from the provider's kernel list (<c>docs/OperatorKernels.md</c> of
/// onnxruntime, CUDAExecutionProvider section, read for 1.31; see <c>notes/cuda.md</c>). Only the operators
/// that Nnx's lowerings emit are listed; an operator not listed has no CUDA kernel as far as Nnx knows. The dtype
/// checked is that of the operator's data operand (<see cref="DataOperand"/>); Cast is checked on both sides.
/// </summary>
internal static class CudaKernels
{
    private const DType F32 = DType.Float32, F64 = DType.Float64, F16 = DType.Float16, I32 = DType.Int32, I64 = DType.Int64,
        U32 = DType.UInt32, U64 = DType.UInt64, B = DType.Bool;

    private static readonly DType[] Floats = [F32, F64, F16];
    private static readonly DType[] Numbers = [F32, F64, F16, I32, I64, U32, U64];
    private static readonly DType[] Everything = [F32, F64, F16, I32, I64, U32, U64, B];

    /// <summary>Operator → the dtypes of its data operand that have a CUDA kernel at opset 18.</summary>
    public static IReadOnlyDictionary<string, DType[]> Table { get; } = new Dictionary<string, DType[]>
    {
        ["Abs"] = Numbers,
        ["Add"] = Numbers,
        ["Sub"] = Numbers,
        ["Mul"] = Numbers,
        ["Div"] = Numbers,
        ["Mod"] = Numbers,
        ["Max"] = Numbers,
        ["Min"] = Numbers,
        ["Sign"] = Numbers,
        ["Neg"] = [F32, F64, F16, I32, I64],
        ["Pow"] = [F32, F64, F16, I32, I64],
        ["Clip"] = [F32, F64, F16, I64, U64],
        ["Equal"] = Everything,
        ["Less"] = Numbers,
        ["LessOrEqual"] = Numbers,
        ["Greater"] = Numbers,
        ["GreaterOrEqual"] = Numbers,
        ["And"] = [B],
        ["Or"] = [B],
        ["Xor"] = [B],
        ["Not"] = [B],
        ["Where"] = [F32, F64, F16, I32, I64],
        ["Exp"] = Floats,
        ["Log"] = Floats,
        ["Sqrt"] = Floats,
        ["Reciprocal"] = Floats,
        ["Tanh"] = Floats,
        ["Sigmoid"] = Floats,
        ["Erf"] = Floats,
        ["Relu"] = Floats,
        ["MatMul"] = Floats,
        ["Gemm"] = Floats,
        ["ArgMax"] = Floats,
        ["ArgMin"] = Floats,
        // Integer ReduceSum has a kernel, but the provider sums int32 through float32 (exact only below 2^24).
        ["ReduceSum"] = [F32, F64, F16, I32, I64],
        ["ReduceMax"] = [F32, F64, F16, I32, I64],
        ["ReduceMin"] = [F32, F64, F16, I32, I64],
        ["ReduceMean"] = [F32, F64, F16],
        ["Conv"] = [F32, F64, F16],
        ["Range"] = [F32, F64, I32, I64],
        ["Pad"] = [F32, F64, F16, B],
        ["Cast"] = Everything,
        ["Identity"] = Everything,
        ["Reshape"] = Everything,
        ["Squeeze"] = Everything,
        ["Unsqueeze"] = Everything,
        ["Transpose"] = Everything,
        ["Expand"] = Everything,
        ["Slice"] = Everything,
        ["Concat"] = Everything,
        ["Gather"] = Everything,
        ["GatherElements"] = Everything,
        ["ScatterND"] = Everything,
        ["ConstantOfShape"] = Everything,
    };

    /// <summary>The operand whose dtype picks the kernel: the values of Where, else the first.</summary>
    public static int DataOperand(string op) => op == "Where" ? 1 : 0;

    /// <summary>Whether the CUDA provider has a kernel for one use of an operator (Cast: both dtypes).</summary>
    public static bool Supports(OnnxOpUse use) =>
        Table.TryGetValue(use.Op, out var types) && types.Contains(use.DType) && (use.Op != "Cast" || types.Contains(use.To!.Value));
}
