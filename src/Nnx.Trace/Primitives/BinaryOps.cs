namespace NnxSharp.Primitives;

/// <summary>a + b (integers wrap).</summary>
public sealed record Add : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Add";
    /// <inheritdoc/>
    protected override double F(double a, double b) => a + b;
    /// <inheritdoc/>
    protected override long I(long a, long b) => unchecked(a + b);
    /// <inheritdoc/>
    protected override ulong U(ulong a, ulong b) => unchecked(a + b);
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g, g];
}

/// <summary>a − b (integers wrap).</summary>
public sealed record Sub : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Sub";
    /// <inheritdoc/>
    protected override double F(double a, double b) => a - b;
    /// <inheritdoc/>
    protected override long I(long a, long b) => unchecked(a - b);
    /// <inheritdoc/>
    protected override ulong U(ulong a, ulong b) => unchecked(a - b);
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g, -g];
}

/// <summary>a · b (integers wrap).</summary>
public sealed record Mul : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Mul";
    /// <inheritdoc/>
    protected override double F(double a, double b) => a * b;
    /// <inheritdoc/>
    protected override long I(long a, long b) => unchecked(a * b);
    /// <inheritdoc/>
    protected override ulong U(ulong a, ulong b) => unchecked(a * b);
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * x[1], g * x[0]];
}

/// <summary>a / b. Integer division truncates toward zero; an integer divided by zero gives 0.</summary>
public sealed record Div : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Div";
    /// <inheritdoc/>
    protected override double F(double a, double b) => a / b;
    /// <inheritdoc/>
    protected override long I(long a, long b) => b == 0 ? 0 : b == -1 ? unchecked(-a) : a / b;
    /// <inheritdoc/>
    protected override ulong U(ulong a, ulong b) => b == 0 ? 0 : a / b;

    /// <summary>Floats: one Div. Integers: the divisor is guarded so that a zero never reaches the CPU's divide.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var t = args.Output.DType;
        if (t.IsFloat()) return e.Node("Div", args.Inputs);
        var zero = e.Scalar(t, 0);
        var isZero = e.Node("Equal", [args.Inputs[1], zero]);
        var safe = e.Node("Where", [isZero, e.Scalar(t, 1), args.Inputs[1]]);
        return e.Node("Where", [isZero, zero, e.Node("Div", [args.Inputs[0], safe])]);
    }

    /// <summary>d(a/b) = g/b, −g·a/b².</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g / x[1], -g * y / x[1]];
}

/// <summary>a^b on floats.</summary>
public sealed record Pow : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Pow";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t is DType.Float32 or DType.Float64;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "float32 or float64";
    /// <inheritdoc/>
    protected override double F(double a, double b) => Math.Pow(a, b);

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
public sealed record Max : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Max";
    /// <inheritdoc/>
    protected override double F(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);
    /// <inheritdoc/>
    protected override long I(long a, long b) => Math.Max(a, b);
    /// <inheritdoc/>
    protected override ulong U(ulong a, ulong b) => Math.Max(a, b);
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => ChooserVjp(x[0] > x[1], x[0].Equal(x[1]), g);

    internal static Tensor?[] ChooserVjp(Tensor firstWins, Tensor tie, Tensor g)
    {
        var wa = firstWins.Cast(g.DType) + tie.Cast(g.DType) * 0.5;
        return [g * wa, g * (1.0 - wa)];
    }
}

/// <summary>Elementwise minimum. At ties the gradient is split equally between the operands (as JAX).</summary>
public sealed record Min : Binary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Min";
    /// <inheritdoc/>
    protected override double F(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);
    /// <inheritdoc/>
    protected override long I(long a, long b) => Math.Min(a, b);
    /// <inheritdoc/>
    protected override ulong U(ulong a, ulong b) => Math.Min(a, b);
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => Max.ChooserVjp(x[0] < x[1], x[0].Equal(x[1]), g);
}

/// <summary>a == b, elementwise (any dtype but float16).</summary>
public sealed record Equal : Comparison
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Equal";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t != DType.Float16;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "any dtype but float16";
    /// <inheritdoc/>
    protected override bool Compare(int sign) => sign == 0;
}

/// <summary>a &lt; b.</summary>
public sealed record Less : Comparison
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Less";
    /// <inheritdoc/>
    protected override bool Compare(int sign) => sign < 0;
}

/// <summary>a ≤ b.</summary>
public sealed record LessEqual : Comparison
{
    /// <inheritdoc/>
    protected override string OnnxOp => "LessOrEqual";
    /// <inheritdoc/>
    protected override bool Compare(int sign) => sign <= 0;
}

/// <summary>a &gt; b.</summary>
public sealed record Greater : Comparison
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Greater";
    /// <inheritdoc/>
    protected override bool Compare(int sign) => sign > 0;
}

/// <summary>a ≥ b.</summary>
public sealed record GreaterEqual : Comparison
{
    /// <inheritdoc/>
    protected override string OnnxOp => "GreaterOrEqual";
    /// <inheritdoc/>
    protected override bool Compare(int sign) => sign >= 0;
}
