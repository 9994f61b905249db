namespace NnxSharp.Primitives;

/// <summary>
/// The mean over axes of a float tensor: the sum times 1/n, n being the number of elements reduced. The
/// simplification pass makes it from a ReduceSum and its scale, so a mean is one ONNX node.
/// </summary>
/// <param name="Axes">The reduced axes, sorted.</param>
/// <param name="KeepDims">Whether reduced axes stay as size 1.</param>
internal sealed record ReduceMean(Ints Axes, bool KeepDims) : Reduce(Axes, KeepDims)
{
    protected override string OnnxOp => "ReduceMean";
    protected override double Identity => 0;
    protected override double EvalFloat(double acc, double x) => acc + x;
    protected override long EvalSigned(long acc, long x) => throw new NotSupportedException($"{Name} has no integer evaluation.");
    protected override ulong EvalUnsigned(ulong acc, ulong x) => throw new NotSupportedException($"{Name} has no integer evaluation.");

    /// <summary>The number of elements each output element averages.</summary>
    public static int Count(Shape input, Ints axes) => axes.Aggregate(1, (acc, d) => acc * input[d]);

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        ShapeRules.RequireDType(Name, inputs, 0, t => t is DType.Float32 or DType.Float64, "float32 or float64");
        return base.Infer(inputs);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var sum = base.Eval(inputs);
        return new Mul().Eval([sum, HostArray.Scalar(sum.DType, 1.0 / Count(inputs[0].Shape, Axes))]);
    }

    /// <summary>ONNX ReduceMean; in process on the CPU a mean over a few leading rows is Nnx's column sum times 1/n.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        NnxCpuOps.LeadingSums(e, args, Axes, 1.0 / Count(args.InputAvals[0].Shape, Axes)) ?? base.Lower(e, args);

    /// <summary>The cotangent over n, broadcast back over the reduced axes.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) =>
        [KeptOf(g * (1.0 / Count(x[0].Shape, Axes)), x[0].Shape).BroadcastTo(x[0].Shape.ToArray())];
}
