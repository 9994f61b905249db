namespace NnxSharp.Primitives;

/// <summary>The explicit list of primitives, one example instance each, that conformance tests iterate.</summary>
public static class OpRegistry
{
    /// <summary>Every primitive type, with representative attributes.</summary>
    public static IReadOnlyList<Primitive> All { get; } =
    [
        new Neg(), new Abs(), new Sign(), new Exp(), new Log(), new Sqrt(), new Rsqrt(), new Tanh(), new Logistic(),
        new Erf(), new Relu(), new Not(), new BitwiseNot(), new StopGradient(),
        new Add(), new Sub(), new Mul(), new Div(), new Pow(), new Max(), new Min(),
        new Equal(), new Less(), new LessEqual(), new Greater(), new GreaterEqual(),
        new BitwiseAnd(), new BitwiseOr(), new BitwiseXor(), new ShiftLeft(), new ShiftRight(), new And(), new Or(),
        new Where(), new Cast(DType.Float64),
        new ReduceSum(Ints.Of(1), false), new ReduceMean(Ints.Of(1), false), new ReduceMax(Ints.Of(1), false), new ReduceMin(Ints.Of(1), false), new ArgMax(1, false),
        new MatMul(), new Gemm(false, true), new ConvGeneral(Ints.Of(1, 1), Ints.Of(0, 0), Ints.Of(0, 0), Ints.Of(1, 1)),
        new Reshape(Shape.Of(6)), new Transpose(Ints.Of(1, 0)), new BroadcastTo(Shape.Of(2, 3)),
        new Slice(Ints.Of(0, 1), Ints.Of(2, 3)), new Pad(Ints.Of(1, 0), Ints.Of(0, 1)), new Concat(0),
        new Gather(0), new ScatterAdd(),
        new Literal(HostArray.Scalar(DType.Float32, 1)), new Full(Shape.Of(2, 3), DType.Float32, 1), new Iota(Shape.Of(2, 3), DType.Int64, 1),
    ];
}
