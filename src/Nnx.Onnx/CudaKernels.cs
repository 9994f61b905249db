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
    public static IReadOnlyDictionary<string, DType[]> Table { get; } = Build(
        (Numbers, ["Abs", "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Sign", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]),
        ([F32, F64, F16, I32, I64], ["Neg", "Pow", "Where"]),
        ([F32, F64, F16, I64, U64], ["Clip"]),
        ([B], ["And", "Or", "Xor", "Not"]),
        (Floats, ["Exp", "Log", "Sqrt", "Reciprocal", "Tanh", "Sigmoid", "Erf", "Relu", "MatMul", "Gemm", "ArgMax", "ArgMin", "ReduceMean", "Conv"]),
        // The provider has int32 and int64 kernels for these too, but they cast the input to float32, reduce, and
        // cast back (reduction_ops.cc), exact only below 2^24: for Nnx they are missing, and the CUDA form of the
        // integer reductions (CudaInts) does not use them.
        (Floats, ["ReduceSum", "ReduceMax", "ReduceMin"]),
        ([F32, F64, I32, I64], ["Range"]),
        ([F32, F64, F16, B], ["Pad"]),
        (Everything, ["Equal", "Cast", "Identity", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Expand", "Slice", "Concat", "Gather",
            "GatherElements", "ScatterND", "ConstantOfShape"]));

    /// <summary>The operand whose dtype picks the kernel: the values of Where, else the first.</summary>
    public static int DataOperand(string op) => op == "Where" ? 1 : 0;

    /// <summary>Whether the CUDA provider has a kernel for one use of an operator (Cast: both dtypes).</summary>
    public static bool Supports(OnnxOpUse use) =>
        Table.TryGetValue(use.Op, out var types) && types.Contains(use.DType) && (use.Op != "Cast" || types.Contains(use.To!.Value));

    private static Dictionary<string, DType[]> Build(params (DType[] Types, string[] Ops)[] rows) =>
        rows.SelectMany(r => r.Ops.Select(op => (op, r.Types))).ToDictionary(x => x.op, x => x.Types);
}
