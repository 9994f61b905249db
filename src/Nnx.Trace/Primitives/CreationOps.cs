namespace NnxSharp.Primitives;

/// <summary>A constant value embedded in the graph (an ONNX initializer).</summary>
/// <param name="Value">The data.</param>
internal sealed record Literal(HostArray Value) : Primitive
{
    public override int Arity => 0;

    public override Aval Infer(IReadOnlyList<Aval> inputs) => Value.Aval;

    public override HostArray Eval(IReadOnlyList<HostArray> inputs) => Value;

    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Constant(Value);

    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [];

    /// <summary>Prints small values inline and large ones by aval.</summary>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Value = ").Append(Value.Size <= 4 ? Value.FormatValues().Replace(", ", ",") : Value.Aval.ToString());
        return true;
    }
}

/// <summary>A tensor of one repeated value.</summary>
/// <param name="Shape">The result's shape.</param>
/// <param name="DType">The result's dtype.</param>
/// <param name="Value">The value (rounded or wrapped to the dtype).</param>
internal sealed record Full(Shape Shape, DType DType, double Value) : Primitive
{
    public override int Arity => 0;

    public override Aval Infer(IReadOnlyList<Aval> inputs) => new(Shape, DType);

    public override HostArray Eval(IReadOnlyList<HostArray> inputs) => HostArray.Full(DType, Shape, Value);

    /// <summary>Small tensors are initializers; large ones ConstantOfShape, so the file stays small.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => Shape.Size <= 16
        ? e.Constant(HostArray.Full(DType, Shape, Value))
        : e.Node("ConstantOfShape", [e.Int64s(Shape.ToLongArray())], OnnxAttribute.Tensor("value", HostArray.Full(DType, NnxSharp.Shape.Of(1), Value)));

    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [];
}

/// <summary>Counts 0, 1, … along one axis, repeated over the others.</summary>
/// <param name="Shape">The result's shape.</param>
/// <param name="DType">The result's dtype.</param>
/// <param name="Axis">The axis that counts.</param>
internal sealed record Iota(Shape Shape, DType DType, int Axis) : Primitive
{
    public override int Arity => 0;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        if (Axis < 0 || Axis >= Shape.Rank) throw new ArgumentException($"{Name}: axis {Axis} is out of range for shape {Shape}.");
        if (DType is DType.Bool or DType.Float16) throw new ArgumentException($"{Name}: cannot count in {DType.ShortName()}.");
        return new Aval(Shape, DType);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs) =>
        HostArray.FromLongs(DType, Shape, Enumerable.Range(0, Shape.Size).Select(k => (long)Kernels.Unravel(k, Shape)[Axis]).ToArray());

    /// <summary>Range in int64, cast, then reshaped and expanded (ONNX Runtime folds it to a constant).</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var n = Shape[Axis];
        var r = e.Node("Range", [e.Scalar(DType.Int64, 0), e.Scalar(DType.Int64, n), e.Scalar(DType.Int64, 1)]);
        r = e.Cast(r, DType.Int64, DType);
        if (Shape.Rank == 1) return r;
        var kept = Enumerable.Range(0, Shape.Rank).Select(d => d == Axis ? (long)n : 1L).ToArray();
        return e.Node("Expand", [e.Node("Reshape", [r, e.Int64s(kept)]), e.Int64s(Shape.ToLongArray())]);
    }

    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [];
}
