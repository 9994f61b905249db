namespace NnxSharp.Primitives;

/// <summary>Shared rule of the integer bit operations and bool logic: no gradient.</summary>
public abstract record BitBinary : Binary
{
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsInteger();
    /// <inheritdoc/>
    protected override string AcceptsWhat => "an integer dtype";
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null, null];
}

/// <summary>Bitwise and of integers.</summary>
public sealed record BitwiseAnd : BitBinary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "BitwiseAnd";
    /// <inheritdoc/>
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cuda ? CudaBits.Bitwise(e, args, CudaBits.Combine.And) : base.Lower(e, args);
    /// <inheritdoc/>
    protected override long EvalSigned(long a, long b) => a & b;
    /// <inheritdoc/>
    protected override ulong EvalUnsigned(ulong a, ulong b) => a & b;
}

/// <summary>Bitwise or of integers.</summary>
public sealed record BitwiseOr : BitBinary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "BitwiseOr";
    /// <inheritdoc/>
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cuda ? CudaBits.Bitwise(e, args, CudaBits.Combine.Or) : base.Lower(e, args);
    /// <inheritdoc/>
    protected override long EvalSigned(long a, long b) => a | b;
    /// <inheritdoc/>
    protected override ulong EvalUnsigned(ulong a, ulong b) => a | b;
}

/// <summary>Bitwise exclusive or of integers.</summary>
public sealed record BitwiseXor : BitBinary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "BitwiseXor";
    /// <inheritdoc/>
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cuda ? CudaBits.Bitwise(e, args, CudaBits.Combine.Xor) : base.Lower(e, args);
    /// <inheritdoc/>
    protected override long EvalSigned(long a, long b) => a ^ b;
    /// <inheritdoc/>
    protected override ulong EvalUnsigned(ulong a, ulong b) => a ^ b;
}

/// <summary>a &lt;&lt; b on unsigned integers; shifting by the width or more gives 0.</summary>
public sealed record ShiftLeft : BitBinary
{
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsUnsigned();
    /// <inheritdoc/>
    protected override string AcceptsWhat => "uint32 or uint64 (ONNX shifts only unsigned integers)";
    /// <inheritdoc/>
    protected override ulong EvalUnsigned(ulong a, ulong b) => b >= 64 ? 0 : a << (int)b;
    /// <inheritdoc/>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Target == OnnxTarget.Cuda
        ? CudaBits.Shift(e, args, left: true)
        : e.Node("BitShift", args.Inputs, OnnxAttribute.String("direction", "LEFT"));
}

/// <summary>a &gt;&gt; b (logical) on unsigned integers; shifting by the width or more gives 0.</summary>
public sealed record ShiftRight : BitBinary
{
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsUnsigned();
    /// <inheritdoc/>
    protected override string AcceptsWhat => "uint32 or uint64 (ONNX shifts only unsigned integers)";
    /// <inheritdoc/>
    protected override ulong EvalUnsigned(ulong a, ulong b) => b >= 64 ? 0 : a >> (int)b;
    /// <inheritdoc/>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Target == OnnxTarget.Cuda
        ? CudaBits.Shift(e, args, left: false)
        : e.Node("BitShift", args.Inputs, OnnxAttribute.String("direction", "RIGHT"));
}

/// <summary>Logical and of bools.</summary>
public sealed record And : BitBinary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "And";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t == DType.Bool;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "bool";
    /// <inheritdoc/>
    protected override long EvalSigned(long a, long b) => a & b;
}

/// <summary>Logical or of bools.</summary>
public sealed record Or : BitBinary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Or";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t == DType.Bool;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "bool";
    /// <inheritdoc/>
    protected override long EvalSigned(long a, long b) => a | b;
}
