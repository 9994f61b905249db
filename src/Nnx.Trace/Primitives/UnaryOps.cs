namespace NnxSharp.Primitives;

/// <summary>−x.</summary>
public sealed record Neg : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Neg";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsFloat() && t != DType.Float16 || t is DType.Int32 or DType.Int64;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "a float or signed integer dtype";
    /// <inheritdoc/>
    protected override double F(double x) => -x;
    /// <inheritdoc/>
    protected override long I(long x) => unchecked(-x);
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [-g];
}

/// <summary>|x|.</summary>
public sealed record Abs : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Abs";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsNumeric();
    /// <inheritdoc/>
    protected override string AcceptsWhat => "a numeric dtype";
    /// <inheritdoc/>
    protected override double F(double x) => Math.Abs(x);
    /// <inheritdoc/>
    protected override long I(long x) => x < 0 ? unchecked(-x) : x;
    /// <inheritdoc/>
    protected override ulong U(ulong x) => x;
    /// <summary>d|x|/dx = sign(x), 0 at 0.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * x[0].Sign()];
}

/// <summary>−1, 0 or 1 by the sign of x.</summary>
public sealed record Sign : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Sign";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsNumeric();
    /// <inheritdoc/>
    protected override string AcceptsWhat => "a numeric dtype";
    /// <inheritdoc/>
    protected override double F(double x) => double.IsNaN(x) ? x : Math.Sign(x);
    /// <inheritdoc/>
    protected override long I(long x) => Math.Sign(x);
    /// <inheritdoc/>
    protected override ulong U(ulong x) => x == 0 ? 0UL : 1UL;
    /// <summary>Piecewise constant: zero gradient.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}

/// <summary>e^x.</summary>
public sealed record Exp : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Exp";
    /// <inheritdoc/>
    protected override double F(double x) => Math.Exp(x);
    /// <summary>d e^x = e^x.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * y];
}

/// <summary>Natural logarithm.</summary>
public sealed record Log : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Log";
    /// <inheritdoc/>
    protected override double F(double x) => Math.Log(x);
    /// <summary>d log x = 1/x.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g / x[0]];
}

/// <summary>√x.</summary>
public sealed record Sqrt : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Sqrt";
    /// <inheritdoc/>
    protected override double F(double x) => Math.Sqrt(x);
    /// <summary>d √x = 1/(2√x).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * 0.5 / y];
}

/// <summary>1/√x.</summary>
public sealed record Rsqrt : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Sqrt";
    /// <inheritdoc/>
    protected override double F(double x) => 1 / Math.Sqrt(x);
    /// <summary>Reciprocal of Sqrt.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Node("Reciprocal", e.Node("Sqrt", args.Inputs));
    /// <summary>d x^−½ = −½ x^−½ / x.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * -0.5 * y / x[0]];
}

/// <summary>Hyperbolic tangent.</summary>
public sealed record Tanh : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Tanh";
    /// <inheritdoc/>
    protected override double F(double x) => Math.Tanh(x);
    /// <summary>d tanh = 1 − tanh².</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * (1.0 - y * y)];
}

/// <summary>The logistic sigmoid 1/(1+e^−x).</summary>
public sealed record Logistic : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Sigmoid";
    /// <inheritdoc/>
    protected override double F(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
    /// <summary>dσ = σ(1−σ).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * y * (1.0 - y)];
}

/// <summary>The error function.</summary>
public sealed record Erf : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Erf";
    /// <inheritdoc/>
    protected override double F(double x) => SpecialFunctions.Erf(x);
    /// <summary>d erf = 2/√π e^(−x²).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * (2 / Math.Sqrt(Math.PI)) * (-(x[0] * x[0])).Exp()];
}

/// <summary>max(x, 0). Its gradient at 0 is 0, as in JAX and PyTorch.</summary>
public sealed record Relu : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Relu";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t is DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "float32, float64, int32 or int64";
    /// <inheritdoc/>
    protected override double F(double x) => x > 0 ? x : x < 0 ? 0 : x * 0;
    /// <inheritdoc/>
    protected override long I(long x) => Math.Max(x, 0);
    /// <summary>ONNX Relu for floats; Max with zero for integers (no integer Relu kernel on the CPU).</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => args.Output.DType.IsFloat()
        ? e.Node("Relu", args.Inputs)
        : e.Node("Max", [args.Inputs[0], e.Scalar(args.Output.DType, 0)]);
    /// <summary>g where x &gt; 0, else 0 (so 0 at x = 0).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [Tensor.Where(x[0] > 0.0, g, 0.0)];
}

/// <summary>Logical not of a bool tensor.</summary>
public sealed record Not : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Not";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t == DType.Bool;
    /// <inheritdoc/>
    protected override string AcceptsWhat => "bool";
    /// <inheritdoc/>
    protected override long I(long x) => x == 0 ? 1 : 0;
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}

/// <summary>Bitwise complement of an integer tensor.</summary>
public sealed record BitwiseNot : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "BitwiseNot";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => t.IsInteger();
    /// <inheritdoc/>
    protected override string AcceptsWhat => "an integer dtype";
    /// <inheritdoc/>
    protected override long I(long x) => ~x;
    /// <inheritdoc/>
    protected override ulong U(ulong x) => ~x;
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}

/// <summary>The identity whose gradient is zero: blocks differentiation. Lowers to nothing.</summary>
public sealed record StopGradient : Unary
{
    /// <inheritdoc/>
    protected override string OnnxOp => "Identity";
    /// <inheritdoc/>
    protected override bool Accepts(DType t) => true;
    /// <inheritdoc/>
    protected override double F(double x) => x;
    /// <inheritdoc/>
    protected override long I(long x) => x;
    /// <inheritdoc/>
    protected override ulong U(ulong x) => x;
    /// <summary>No node: the output is the input's value.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => args.Inputs[0];
    /// <inheritdoc/>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}
