namespace NnxSharp.Primitives;

/// <summary>a + b (integers wrap).</summary>
internal sealed record Add : Binary
{
    protected override string OnnxOp => "Add";
    protected override double EvalFloat(double a, double b) => a + b;
    protected override long EvalSigned(long a, long b) => unchecked(a + b);
    protected override ulong EvalUnsigned(ulong a, ulong b) => unchecked(a + b);
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g, g];

    /// <summary>ONNX Add, or a convolution's bias added inside ONNX Runtime's NCHWc convolution (<see cref="ConvGeneral.FuseBias"/>).</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => ConvGeneral.FuseBias(e, args) ?? base.Lower(e, args);
}

/// <summary>a − b (integers wrap).</summary>
internal sealed record Sub : Binary
{
    protected override string OnnxOp => "Sub";
    protected override double EvalFloat(double a, double b) => a - b;
    protected override long EvalSigned(long a, long b) => unchecked(a - b);
    protected override ulong EvalUnsigned(ulong a, ulong b) => unchecked(a - b);
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g, -g];
}

/// <summary>a · b (integers wrap).</summary>
internal sealed record Mul : Binary
{
    protected override string OnnxOp => "Mul";
    protected override double EvalFloat(double a, double b) => a * b;
    protected override long EvalSigned(long a, long b) => unchecked(a * b);
    protected override ulong EvalUnsigned(ulong a, ulong b) => unchecked(a * b);
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * x[1], g * x[0]];
}

/// <summary>a / b. Integer division truncates toward zero; an integer divided by zero gives 0; min ÷ −1 wraps to min.</summary>
internal sealed record Div : Binary
{
    protected override double EvalFloat(double a, double b) => a / b;
    protected override long EvalSigned(long a, long b) => b == 0 ? 0 : b == -1 ? unchecked(-a) : a / b;
    protected override ulong EvalUnsigned(ulong a, ulong b) => b == 0 ? 0 : a / b;

    /// <summary>
    /// Floats: one Div. Integers: the divisors that trap in the CPU's divide (0, and −1 under signed min ÷ −1,
    /// which kills the process with SIGFPE) are replaced by 1, and the quotient is then multiplied by them.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var t = args.Output.DType;
        var (a, b) = (args.Inputs[0], args.Inputs[1]);
        if (t.IsFloat()) return e.Node("Div", args.Inputs);
        var one = e.Scalar(t, 1);
        // Unsigned: a / max(b, 1) · min(b, 1), so 0 where b = 0 (and no Where, which has no uint64 kernel).
        if (t.IsUnsigned()) return e.Node("Mul", [e.Node("Div", [a, e.Node("Max", [b, one])]), e.Node("Min", [b, one])]);
        // Signed: b ∈ {0, −1} divides by 1 and multiplies by b: 0 where b = 0, −a (wrapping) where b = −1.
        var special = e.Node("Or", [e.Node("Equal", [b, e.Scalar(t, 0)]), e.Node("Equal", [b, e.Scalar(t, -1)])]);
        var quotient = e.Node("Div", [a, e.Node("Where", [special, one, b])]);
        return e.Node("Mul", [quotient, e.Node("Where", [special, b, one])]);
    }

    /// <summary>d(a/b) = g/b, −g·a/b².</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g / x[1], -g * y / x[1]];
}

/// <summary>a^b on floats.</summary>
internal sealed record Pow : Binary
{
    protected override string OnnxOp => "Pow";
    protected override bool Accepts(DType t) => t is DType.Float32 or DType.Float64;
    protected override string AcceptsWhat => "float32 or float64";
    protected override double EvalFloat(double a, double b) => Math.Pow(a, b);

    /// <summary>
    /// ∂a = g·b·a^(b−1), taken as 0 where b = 0; ∂b = g·log(a)·a^b, with log(0) replaced by 0 (as JAX does),
    /// so neither is NaN at a = 0.
    /// </summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var (a, b) = (x[0], x[1]);
        var da = Tensor.Where(b.Equal(0.0), 0.0, b * a.Pow(b - 1.0));
        var logA = Tensor.Where(a.Equal(0.0), 0.0, a).Log();
        return [g * da, g * Tensor.Where(a.Equal(0.0), 0.0, logA * y)];
    }
}

/// <summary>Elementwise maximum. At ties the gradient is split equally between the operands (as JAX).</summary>
internal sealed record Max : Binary
{
    protected override double EvalFloat(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);
    protected override long EvalSigned(long a, long b) => Math.Max(a, b);
    protected override ulong EvalUnsigned(ulong a, ulong b) => Math.Max(a, b);
    /// <summary>ONNX Max; int64 as <c>a &gt; b ? a : b</c>.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => LowerChooser(e, args, "Max", "Greater");
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => ChooserVjp(x[0] > x[1], x[0].Equal(x[1]), g);

    internal static string LowerChooser(IOnnxEmitter e, LowerArgs args, string op, string firstWins) =>
        args.Output.DType == DType.Int64
            // ORT-CPU workaround: int64 Max/Min treat values in [2^31, 2^32) as negative (vectorized path); Greater/Less are exact.
            ? e.Node("Where", [e.Node(firstWins, args.Inputs), args.Inputs[0], args.Inputs[1]])
            : e.Node(op, args.Inputs);

    internal static Tensor?[] ChooserVjp(Tensor firstWins, Tensor tie, Tensor g)
    {
        var wa = firstWins.Cast(g.DType) + tie.Cast(g.DType) * 0.5;
        return [g * wa, g * (1.0 - wa)];
    }
}

/// <summary>Elementwise minimum. At ties the gradient is split equally between the operands (as JAX).</summary>
internal sealed record Min : Binary
{
    protected override double EvalFloat(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);
    protected override long EvalSigned(long a, long b) => Math.Min(a, b);
    protected override ulong EvalUnsigned(ulong a, ulong b) => Math.Min(a, b);
    /// <summary>ONNX Min; int64 as <c>a &lt; b ? a : b</c>.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => Max.LowerChooser(e, args, "Min", "Less");
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => Max.ChooserVjp(x[0] < x[1], x[0].Equal(x[1]), g);
}

/// <summary>a == b, elementwise (any dtype but float16).</summary>
internal sealed record Equal : Comparison
{
    protected override string OnnxOp => "Equal";
    protected override bool Accepts(DType t) => t != DType.Float16;
    protected override string AcceptsWhat => "any dtype but float16";
    protected override bool Compare(int sign) => sign == 0;
}

/// <summary>a &lt; b.</summary>
internal sealed record Less : Comparison
{
    protected override string OnnxOp => "Less";
    protected override bool Compare(int sign) => sign < 0;
}

/// <summary>a ≤ b.</summary>
internal sealed record LessEqual : Comparison
{
    protected override string OnnxOp => "LessOrEqual";
    protected override bool Compare(int sign) => sign <= 0;
}

/// <summary>a &gt; b.</summary>
internal sealed record Greater : Comparison
{
    protected override string OnnxOp => "Greater";
    protected override bool Compare(int sign) => sign > 0;
}

/// <summary>a ≥ b.</summary>
internal sealed record GreaterEqual : Comparison
{
    protected override string OnnxOp => "GreaterOrEqual";
    protected override bool Compare(int sign) => sign >= 0;
}
