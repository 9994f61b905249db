namespace NnxSharp.Primitives;

/// <summary>−x.</summary>
internal sealed record Neg : Unary
{
    protected override string OnnxOp => "Neg";
    protected override bool Accepts(DType t) => t.IsFloat() && t != DType.Float16 || t is DType.Int32 or DType.Int64;
    protected override string AcceptsWhat => "a float or signed integer dtype";
    protected override double EvalFloat(double x) => -x;
    protected override long EvalSigned(long x) => unchecked(-x);
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [-g];
}

/// <summary>|x|.</summary>
internal sealed record Abs : Unary
{
    protected override string OnnxOp => "Abs";
    protected override bool Accepts(DType t) => t.IsNumeric();
    protected override string AcceptsWhat => "a numeric dtype";
    protected override double EvalFloat(double x) => Math.Abs(x);
    protected override long EvalSigned(long x) => x < 0 ? unchecked(-x) : x;
    protected override ulong EvalUnsigned(ulong x) => x;
    /// <summary>d|x|/dx = sign(x), 0 at 0.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * x[0].Sign()];
}

/// <summary>−1, 0 or 1 by the sign of x.</summary>
internal sealed record Sign : Unary
{
    protected override bool Accepts(DType t) => t.IsNumeric();
    protected override string AcceptsWhat => "a numeric dtype";
    protected override double EvalFloat(double x) => double.IsNaN(x) ? x : Math.Sign(x);
    protected override long EvalSigned(long x) => Math.Sign(x);
    protected override ulong EvalUnsigned(ulong x) => x == 0 ? 0UL : 1UL;
    /// <summary>ONNX Sign; int64 as (x &gt; 0) − (x &lt; 0).</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (args.Output.DType != DType.Int64) return e.Node("Sign", args.Inputs);
        // ORT-CPU workaround: int64 Sign gives −1 for values in [2^31, 2^32) (vectorized path); Greater/Less are exact.
        var zero = e.Scalar(DType.Int64, 0);
        var positive = e.Cast(e.Node("Greater", [args.Inputs[0], zero]), DType.Bool, DType.Int64);
        var negative = e.Cast(e.Node("Less", [args.Inputs[0], zero]), DType.Bool, DType.Int64);
        return e.Node("Sub", [positive, negative]);
    }
    /// <summary>Piecewise constant: zero gradient.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}

/// <summary>e^x.</summary>
internal sealed record Exp : Unary
{
    protected override string OnnxOp => "Exp";
    protected override double EvalFloat(double x) => Math.Exp(x);
    /// <summary>d e^x = e^x.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * y];
}

/// <summary>Natural logarithm.</summary>
internal sealed record Log : Unary
{
    protected override string OnnxOp => "Log";
    protected override double EvalFloat(double x) => Math.Log(x);
    /// <summary>d log x = 1/x.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g / x[0]];
}

/// <summary>√x.</summary>
internal sealed record Sqrt : Unary
{
    protected override string OnnxOp => "Sqrt";
    protected override double EvalFloat(double x) => Math.Sqrt(x);
    /// <summary>d √x = 1/(2√x).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * 0.5 / y];
}

/// <summary>1/√x.</summary>
internal sealed record Rsqrt : Unary
{
    protected override double EvalFloat(double x) => 1 / Math.Sqrt(x);
    /// <summary>Reciprocal of Sqrt.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Node("Reciprocal", e.Node("Sqrt", args.Inputs));
    /// <summary>d x^−½ = −½ x^−½ / x.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * -0.5 * y / x[0]];
}

/// <summary>Hyperbolic tangent.</summary>
internal sealed record Tanh : Unary
{
    protected override string OnnxOp => "Tanh";
    protected override double EvalFloat(double x) => Math.Tanh(x);
    /// <summary>d tanh = 1 − tanh².</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * (1.0 - y * y)];
}

/// <summary>The logistic sigmoid 1/(1+e^−x).</summary>
internal sealed record Logistic : Unary
{
    protected override string OnnxOp => "Sigmoid";
    protected override double EvalFloat(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
    /// <summary>dσ = σ(1−σ).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * y * (1.0 - y)];
}

/// <summary>The error function.</summary>
internal sealed record Erf : Unary
{
    protected override double EvalFloat(double x) => SpecialFunctions.Erf(x);

    /// <summary>
    /// ONNX Erf for float32. float64 has no CPU kernel: x · Σ w_i e^(−(x c_i)²), a 24-point Gauss–Legendre
    /// quadrature of 2/√π ∫₀ˣ e^(−t²) dt with x clipped to ±6 (where erf is ±1 in double), accurate to ~5e-16.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (args.Output.DType != DType.Float64) return e.Node("Erf", args.Inputs);
        // ORT-CPU workaround: no float64 Erf kernel; quadrature in float64 instead.
        var (nodes, weights) = SpecialFunctions.ErfQuadrature;
        var clipped = e.Node("Clip", [args.Inputs[0], e.Scalar(DType.Float64, -6), e.Scalar(DType.Float64, 6)]);
        var x = e.Node("Unsqueeze", [clipped, e.Int64s(-1)]);
        var t = e.Node("Mul", [x, e.Constant(HostArray.Create(nodes, Shape.Of(nodes.Length)))]);
        var density = e.Node("Exp", e.Node("Neg", e.Node("Mul", [t, t])));
        var integral = e.Node("MatMul", [density, e.Constant(HostArray.Create(weights, Shape.Of(weights.Length, 1)))]);
        return e.Node("Squeeze", [e.Node("Mul", [x, integral]), e.Int64s(-1)]);
    }
    /// <summary>d erf = 2/√π e^(−x²).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g * (2 / Math.Sqrt(Math.PI)) * (-(x[0] * x[0])).Exp()];
}

/// <summary>max(x, 0). Its gradient at 0 is 0, as in JAX and PyTorch.</summary>
internal sealed record Relu : Unary
{
    protected override bool Accepts(DType t) => t is DType.Float32 or DType.Float64 or DType.Int32 or DType.Int64;
    protected override string AcceptsWhat => "float32, float64, int32 or int64";
    protected override double EvalFloat(double x) => x > 0 ? x : x < 0 ? 0 : x * 0;
    protected override long EvalSigned(long x) => Math.Max(x, 0);
    /// <summary>ONNX Relu for floats (inside an NCHWc convolution that it follows: <see cref="ConvGeneral.FuseRelu"/>); <c>x &gt; 0 ? x : 0</c> for integers.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (args.Output.DType.IsFloat()) return ConvGeneral.FuseRelu(e, args) ?? e.Node("Relu", args.Inputs);
        // ORT-CPU workaround: no integer Relu kernel, and int64 Max is wrong for values in [2^31, 2^32); Greater is exact.
        var zero = e.Scalar(args.Output.DType, 0);
        return e.Node("Where", [e.Node("Greater", [args.Inputs[0], zero]), args.Inputs[0], zero]);
    }
    /// <summary>
    /// g where x &gt; 0, else 0 (so 0 at x = 0), read off the output (y &gt; 0 exactly where x &gt; 0, NaN included): the
    /// input is then used only by the Relu, which ONNX Runtime can fuse into the Gemm that makes it. Eager, for float32,
    /// one cached jitted call whose comparison and selection fuse into one pass, instead of a bool mask made by one
    /// session and read by another: the seed's eager step at width 32 was 10 % faster (in-process A/B, 18 of 20 rounds;
    /// notes/autodiff.md). Under a trace or a tape the jitted call inlines.
    /// </summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) =>
        [!y.IsSymbolic && !g.IsSymbolic && g.DType == DType.Float32 ? Masked(y, g) : Tensor.Where(y > 0.0, g, 0.0)];

    private static readonly Func<Tensor, Tensor, Tensor> Masked = Jit.Pure((Tensor y, Tensor g) => Tensor.Where(y > 0.0, g, 0.0));
}

/// <summary>Logical not of a bool tensor.</summary>
internal sealed record Not : Unary
{
    protected override string OnnxOp => "Not";
    protected override bool Accepts(DType t) => t == DType.Bool;
    protected override string AcceptsWhat => "bool";
    protected override long EvalSigned(long x) => x == 0 ? 1 : 0;
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}

/// <summary>Bitwise complement of an integer tensor.</summary>
internal sealed record BitwiseNot : Unary
{
    protected override string OnnxOp => "BitwiseNot";
    protected override bool Accepts(DType t) => t.IsInteger();
    protected override string AcceptsWhat => "an integer dtype";
    protected override long EvalSigned(long x) => ~x;
    protected override ulong EvalUnsigned(ulong x) => ~x;
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Target == OnnxTarget.Cuda ? CudaBits.Not(e, args) : base.Lower(e, args);
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}

/// <summary>The identity whose gradient is zero: blocks differentiation. Lowers to nothing.</summary>
internal sealed record StopGradient : Unary
{
    protected override bool Accepts(DType t) => true;
    protected override double EvalFloat(double x) => x;
    protected override long EvalSigned(long x) => x;
    protected override ulong EvalUnsigned(ulong x) => x;
    /// <summary>No node: the output is the input's value.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => args.Inputs[0];
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}
