namespace NnxSharp.Primitives;

/// <summary>
/// Shared shape rule, evaluation and lowering of one-operand elementwise primitives: the output has the
/// operand's aval; the operand's dtype must be one the op accepts.
/// </summary>
internal abstract record Unary : Primitive
{
    public override int Arity => 1;

    /// <summary>
    /// The ONNX operator that the default <see cref="Lower"/> emits; null (the default) for a primitive that overrides
    /// <see cref="Lower"/> and emits no operator of its own name.
    /// </summary>
    protected virtual string? OnnxOp => null;

    /// <summary>Which dtypes the op accepts (default: float32 and float64).</summary>
    protected virtual bool Accepts(DType t) => t is DType.Float32 or DType.Float64;

    /// <summary>How <see cref="Accepts"/> reads in an error message.</summary>
    protected virtual string AcceptsWhat => "float32 or float64";

    /// <summary>The function on floats.</summary>
    protected virtual double EvalFloat(double x) => throw new NotSupportedException($"{Name} has no float evaluation.");

    /// <summary>The function on signed integers and bools.</summary>
    protected virtual long EvalSigned(long x) => throw new NotSupportedException($"{Name} has no signed evaluation.");

    /// <summary>The function on unsigned integers.</summary>
    protected virtual ulong EvalUnsigned(ulong x) => throw new NotSupportedException($"{Name} has no unsigned evaluation.");

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        ShapeRules.RequireDType(Name, inputs, 0, Accepts, AcceptsWhat);
        return inputs[0];
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs) =>
        Kernels.Map(inputs[0].DType, inputs[0].Shape, inputs, a => EvalFloat(a[0]), a => EvalSigned(a[0]), a => EvalUnsigned(a[0]), inputs[0].DType);

    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Node(OnnxOp ?? throw new NotSupportedException($"{Name} names no ONNX operator and does not override Lower."), args.Inputs);
}

/// <summary>
/// Shared shape rule, evaluation and lowering of two-operand elementwise primitives with NumPy
/// broadcasting: both operands have one dtype (the Tensor operators promote first).
/// </summary>
internal abstract record Binary : Primitive
{
    public override int Arity => 2;

    /// <summary>
    /// The ONNX operator that the default <see cref="Lower"/> emits; null (the default) for a primitive that overrides
    /// <see cref="Lower"/> and emits no operator of its own name.
    /// </summary>
    protected virtual string? OnnxOp => null;

    /// <summary>Which dtypes the op accepts (default: numeric).</summary>
    protected virtual bool Accepts(DType t) => t.IsNumeric();

    /// <summary>How <see cref="Accepts"/> reads in an error message.</summary>
    protected virtual string AcceptsWhat => "a numeric dtype (not bool or float16)";

    /// <summary>The result dtype for operands of dtype <paramref name="t"/>.</summary>
    protected virtual DType ResultType(DType t) => t;

    /// <summary>The function on floats.</summary>
    protected virtual double EvalFloat(double a, double b) => throw new NotSupportedException($"{Name} has no float evaluation.");

    /// <summary>The function on signed integers and bools.</summary>
    protected virtual long EvalSigned(long a, long b) => throw new NotSupportedException($"{Name} has no signed evaluation.");

    /// <summary>The function on unsigned integers.</summary>
    protected virtual ulong EvalUnsigned(ulong a, ulong b) => throw new NotSupportedException($"{Name} has no unsigned evaluation.");

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var t = ShapeRules.SameDType(Name, inputs);
        ShapeRules.RequireDType(Name, inputs, 0, Accepts, AcceptsWhat);
        return new Aval(ShapeRules.Broadcast(Name, inputs), ResultType(t));
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var shape = ShapeRules.Broadcast(Name, inputs.Select(x => x.Aval).ToArray());
        return Kernels.Map(ResultType(inputs[0].DType), shape, inputs,
            a => EvalFloat(a[0], a[1]), a => EvalSigned(a[0], a[1]), a => EvalUnsigned(a[0], a[1]), inputs[0].DType);
    }

    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        e.Node(OnnxOp ?? throw new NotSupportedException($"{Name} names no ONNX operator and does not override Lower."), args.Inputs);
}

/// <summary>Comparisons give bool; they have no gradient.</summary>
internal abstract record Comparison : Binary
{
    protected override DType ResultType(DType t) => DType.Bool;

    /// <summary>The comparison on doubles (exact for every stored value of a float or signed dtype).</summary>
    protected abstract bool Compare(int sign);

    protected override double EvalFloat(double a, double b) => !double.IsNaN(a) && !double.IsNaN(b) && Compare(a.CompareTo(b)) ? 1 : 0;

    protected override long EvalSigned(long a, long b) => Compare(a.CompareTo(b)) ? 1 : 0;

    protected override ulong EvalUnsigned(ulong a, ulong b) => Compare(a.CompareTo(b)) ? 1UL : 0UL;

    public override Tensor?[] Vjp(Tensor[] inputs, Tensor output, Tensor cotangent) => [null, null];
}

