namespace NnxSharp.Primitives;

/// <summary>Shared rule of the integer bit operations and bool logic: no gradient.</summary>
internal abstract record BitBinary : Binary
{
    protected override bool Accepts(DType t) => t.IsInteger();
    protected override string AcceptsWhat => "an integer dtype";
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null, null];
}

/// <summary>Bitwise and of integers.</summary>
internal sealed record BitwiseAnd : BitBinary
{
    protected override string OnnxOp => "BitwiseAnd";
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cuda ? CudaBits.Bitwise(e, args, CudaBits.Combine.And) : base.Lower(e, args);
    protected override long EvalSigned(long a, long b) => a & b;
    protected override ulong EvalUnsigned(ulong a, ulong b) => a & b;
}

/// <summary>Bitwise or of integers.</summary>
internal sealed record BitwiseOr : BitBinary
{
    protected override string OnnxOp => "BitwiseOr";
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cuda ? CudaBits.Bitwise(e, args, CudaBits.Combine.Or) : base.Lower(e, args);
    protected override long EvalSigned(long a, long b) => a | b;
    protected override ulong EvalUnsigned(ulong a, ulong b) => a | b;
}

/// <summary>Bitwise exclusive or of integers.</summary>
internal sealed record BitwiseXor : BitBinary
{
    protected override string OnnxOp => "BitwiseXor";
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cuda ? CudaBits.Bitwise(e, args, CudaBits.Combine.Xor) : base.Lower(e, args);
    protected override long EvalSigned(long a, long b) => a ^ b;
    protected override ulong EvalUnsigned(ulong a, ulong b) => a ^ b;
}

/// <summary>a &lt;&lt; b on unsigned integers; shifting by the width or more gives 0.</summary>
internal sealed record ShiftLeft : BitBinary
{
    protected override bool Accepts(DType t) => t.IsUnsigned();
    protected override string AcceptsWhat => "uint32 or uint64 (ONNX shifts only unsigned integers)";
    protected override ulong EvalUnsigned(ulong a, ulong b) => b >= 64 ? 0 : a << (int)b;
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Target == OnnxTarget.Cuda
        ? CudaBits.Shift(e, args, left: true)
        : e.Node("BitShift", args.Inputs, OnnxAttribute.String("direction", "LEFT"));
}

/// <summary>a &gt;&gt; b (logical) on unsigned integers; shifting by the width or more gives 0.</summary>
internal sealed record ShiftRight : BitBinary
{
    protected override bool Accepts(DType t) => t.IsUnsigned();
    protected override string AcceptsWhat => "uint32 or uint64 (ONNX shifts only unsigned integers)";
    protected override ulong EvalUnsigned(ulong a, ulong b) => b >= 64 ? 0 : a >> (int)b;
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Target == OnnxTarget.Cuda
        ? CudaBits.Shift(e, args, left: false)
        : e.Node("BitShift", args.Inputs, OnnxAttribute.String("direction", "RIGHT"));
}

/// <summary>Logical and of bools.</summary>
internal sealed record And : BitBinary
{
    protected override string OnnxOp => "And";
    protected override bool Accepts(DType t) => t == DType.Bool;
    protected override string AcceptsWhat => "bool";
    protected override long EvalSigned(long a, long b) => a & b;
}

/// <summary>Logical or of bools.</summary>
internal sealed record Or : BitBinary
{
    protected override string OnnxOp => "Or";
    protected override bool Accepts(DType t) => t == DType.Bool;
    protected override string AcceptsWhat => "bool";
    protected override long EvalSigned(long a, long b) => a | b;
}
