using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// Bad operands are rejected by the shape rule with an <see cref="ArgumentException"/> whose message names
/// the op, the operands' avals and the argument index at fault.
/// </summary>
[TestClass]
public sealed class ShapeRuleErrorTests
{
    private static readonly DType I32 = DType.Int32;

    private static object[] Row(Primitive op, Aval[] avals, params string[] mentions) => [op, avals, mentions];

    /// <summary>The primitive, its operands, and what the message must mention.</summary>
    public static IEnumerable<object[]> BadOperands =>
    [
        Row(new Add(), [Aval.F32(3, 4), Aval.F32(5)], "add", "cannot broadcast", "f32[3,4] (argument 0)", "f32[5] (argument 1)"),
        Row(new Add(), [Aval.F32(3), Aval.Of(I32, 3)], "add", "one dtype", "f32[3] (argument 0)", "i32[3] (argument 1)"),
        Row(new Add(), [Aval.F32(3)], "add", "expects 2 operand(s)", "f32[3]"),
        Row(new Add(), [Aval.Of(DType.Bool, 3), Aval.Of(DType.Bool, 3)], "add", "argument 0", "bool[3]", "numeric"),
        Row(new Exp(), [Aval.Of(I32, 2, 2)], "exp", "argument 0", "i32[2,2]", "float32 or float64"),
        Row(new Pow(), [Aval.Of(I32, 2), Aval.Of(I32, 2)], "pow", "argument 0", "i32[2]", "float32 or float64"),
        Row(new Neg(), [Aval.Of(DType.UInt32, 2)], "neg", "argument 0", "u32[2]"),
        Row(new ShiftLeft(), [Aval.Of(I32, 4), Aval.Of(I32, 4)], "shift_left", "argument 0", "i32[4]", "uint32 or uint64"),
        Row(new Not(), [Aval.F32(2)], "not", "argument 0", "f32[2]", "bool"),
        Row(new Where(), [Aval.F32(3), Aval.F32(3), Aval.F32(3)], "where", "argument 0", "f32[3]", "bool"),
        Row(new Where(), [Aval.Of(DType.Bool, 3), Aval.F32(3), Aval.F64(3)], "where", "f32[3] (argument 0)", "f64[3] (argument 1)"),
        Row(new Where(), [Aval.Of(DType.Bool, 2), Aval.F32(3), Aval.F32(3)], "where", "cannot broadcast", "bool[2] (argument 0)", "f32[3] (argument 1)"),
        Row(new Gather(0), [Aval.F32(4, 3), Aval.F32(2)], "gather", "argument 1", "f32[2]", "int32 or int64"),
        Row(new Gather(2), [Aval.F32(4, 3), Aval.Of(DType.Int64, 2)], "gather", "axis 2", "f32[4,3] (argument 0)"),
        Row(new ScatterAdd(), [Aval.F32(4, 3), Aval.Of(DType.Int64, 2), Aval.F32(2, 4)], "scatter_add", "f32[2,3]", "f32[4,3] (argument 0)", "f32[2,4] (argument 2)"),
        Row(new ReduceSum(Ints.Of(5), false), [Aval.F32(3, 4)], "reduce_sum", "axis 5", "f32[3,4] (argument 0)"),
        Row(new ReduceSum(Ints.Of(1, 0), false), [Aval.F32(3, 4)], "reduce_sum", "(1,0)", "sorted"),
        Row(new ReduceMax(Ints.Of(1), false), [Aval.F32(3, 0)], "reduce_max", "empty axis", "f32[3,0] (argument 0)"),
        Row(new ArgMax(2, false), [Aval.F32(3, 4)], "arg_max", "axis 2", "f32[3,4] (argument 0)"),
        Row(new Concat(0), [Aval.F32(2, 3), Aval.F32(2, 4)], "concat", "f32[2,4] (argument 1)", "f32[2,3] (argument 0)"),
        Row(new Concat(2), [Aval.F32(2, 3), Aval.F32(2, 3)], "concat", "axis 2", "f32[2,3] (argument 0)"),
        Row(new Concat(0), [Aval.F32(2, 3), Aval.F64(2, 3)], "concat", "f32[2,3] (argument 0)", "f64[2,3] (argument 1)"),
        Row(new Transpose(Ints.Of(0, 0)), [Aval.F32(2, 3)], "transpose", "(0,0)", "f32[2,3] (argument 0)"),
        Row(new Transpose(Ints.Of(1, 0, 2)), [Aval.F32(2, 3)], "transpose", "(1,0,2)", "f32[2,3] (argument 0)"),
        Row(new Reshape(Shape.Of(5)), [Aval.F32(2, 3)], "reshape", "f32[2,3] (argument 0", "[5]"),
        Row(new BroadcastTo(Shape.Of(2, 4)), [Aval.F32(3)], "broadcast_to", "f32[3] (argument 0)", "[2,4]"),
        Row(new Slice(Ints.Of(0, 2), Ints.Of(2, 5)), [Aval.F32(2, 3)], "slice", "[2, 5)", "axis 1", "f32[2,3] (argument 0)"),
        Row(new Pad(Ints.Of(-1), Ints.Of(0)), [Aval.F32(3)], "pad", "non-negative", "f32[3] (argument 0)"),
        Row(new MatMul(), [Aval.F32(2, 3), Aval.F32(4, 5)], "mat_mul", "contracting", "f32[2,3] (argument 0)", "f32[4,5] (argument 1)"),
        Row(new MatMul(), [Aval.F32(3), Aval.F32(3, 2)], "mat_mul", "rank", "f32[3] (argument 0)", "f32[3,2] (argument 1)"),
        Row(new MatMul(), [Aval.F32(2, 2, 3), Aval.F32(3, 3, 4)], "mat_mul", "batch", "f32[2,2,3] (argument 0)", "f32[3,3,4] (argument 1)"),
        Row(new Iota(Shape.Of(3), DType.Bool, 0), [], "iota", "bool"),
    ];

    [TestMethod]
    [DynamicData(nameof(BadOperands))]
    public void ShapeRuleNamesTheOpTheOperandsAndTheArgument(Primitive op, Aval[] avals, string[] mentions)
    {
        var act = () => op.InferChecked(avals);
        var message = act.Should().Throw<ArgumentException>().Which.Message;
        foreach (var m in mentions) message.Should().Contain(m);
    }

    [TestMethod]
    public void TracingReportsTheErrorAtTheOffendingOperation()
    {
        var add = () => Graph.Trace((a, b) => a + b, Aval.F32(3, 4), Aval.F32(5));
        add.Should().Throw<ArgumentException>().WithMessage("add: cannot broadcast f32[3,4] (argument 0) and f32[5] (argument 1).");

        var matmul = () => Graph.Trace((a, b) => a.MatMul(b), Aval.F32(2, 3), Aval.F32(4, 5));
        matmul.Should().Throw<ArgumentException>().WithMessage("mat_mul: contracting dimensions differ: f32[2,3] (argument 0) and f32[4,5] (argument 1) (3 ≠ 4).");

        var vector = () => Graph.Trace((a, b) => a.MatMul(b), Aval.F32(32, 32), Aval.F32(31));
        vector.Should().Throw<ArgumentException>().WithMessage("mat_mul: contracting dimensions differ: f32[32,32] (argument 0) and f32[31] (argument 1) (32 ≠ 31).",
            "the message names the vector as given, not the [31, 1] matrix it becomes");
        var rowVector = () => Graph.Trace((a, b) => a.MatMul(b), Aval.F32(3), Aval.F32(4, 5));
        rowVector.Should().Throw<ArgumentException>().WithMessage("mat_mul: contracting dimensions differ: f32[3] (argument 0) and f32[4,5] (argument 1) (3 ≠ 4).");

        var sum = () => Graph.Trace(a => a.Sum(axis: 5), Aval.F32(3, 4));
        sum.Should().Throw<ArgumentException>().WithMessage("reduce_sum: axis 5 is out of range for shape [3,4]*");

        var gather = () => Graph.Trace((a, i) => a.Gather(i), Aval.F32(4, 3), Aval.F32(2));
        gather.Should().Throw<ArgumentException>().WithMessage("gather: indices must be int32 or int64 but are f32[2] (data f32[4,3]).*");
    }
}
