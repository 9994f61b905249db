namespace NnxSharp.Primitives;

/// <summary>
/// Shared rule of reductions over a sorted list of axes; with <c>KeepDims</c> the reduced axes stay as size 1.
/// An empty axis list is the identity.
/// </summary>
internal abstract record Reduce(Ints Axes, bool KeepDims) : Primitive
{
    public override int Arity => 1;

    /// <summary>The ONNX operator this lowers to.</summary>
    protected abstract string OnnxOp { get; }

    /// <summary>The value of an empty reduction.</summary>
    protected abstract double Identity { get; }

    /// <summary>Combines an accumulator with an element.</summary>
    protected abstract double EvalFloat(double acc, double x);

    /// <summary>Combines in signed storage.</summary>
    protected abstract long EvalSigned(long acc, long x);

    /// <summary>Combines in unsigned storage.</summary>
    protected abstract ulong EvalUnsigned(ulong acc, ulong x);

    /// <summary>The output shape.</summary>
    protected Shape Reduced(Shape s) =>
        Shape.Of(Enumerable.Range(0, s.Rank).Where(d => KeepDims || !Axes.Contains(d)).Select(d => Axes.Contains(d) ? 1 : s[d]).ToArray());

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        ShapeRules.RequireDType(Name, inputs, 0, t => t.IsNumeric(), "a numeric dtype");
        var s = inputs[0].Shape;
        foreach (var a in Axes)
            if (a < 0 || a >= s.Rank)
                throw new ArgumentException($"{Name}: axis {a} is out of range for {inputs[0]} (argument 0).");
        if (!ShapeRules.Axes(Name, s, Axes).Equals(Axes))
            throw new ArgumentException($"{Name}: axes {Axes} must be sorted and distinct.");
        if (Identity is double.NegativeInfinity or double.PositiveInfinity && Axes.Any(a => s[a] == 0))
            throw new ArgumentException($"{Name}: cannot reduce an empty axis of {inputs[0]} (argument 0).");
        return new Aval(Reduced(s), inputs[0].DType);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var x = inputs[0];
        var outShape = Reduced(x.Shape);
        var keep = Shape.Of(Enumerable.Range(0, x.Shape.Rank).Select(d => Axes.Contains(d) ? 1 : x.Shape[d]).ToArray());
        var outStrides = keep.Strides();
        var n = outShape.Size;
        var target = new int[x.Size];
        for (var k = 0; k < x.Size; k++)
        {
            var idx = Kernels.Unravel(k, x.Shape);
            var t = 0;
            for (var d = 0; d < idx.Length; d++) if (!Axes.Contains(d)) t += idx[d] * outStrides[d];
            target[k] = t;
        }
        switch (HostArray.KindOf(x.DType))
        {
            case StorageKind.Float:
            {
                var r = Enumerable.Repeat(Identity, n).ToArray();
                for (var k = 0; k < x.Size; k++) r[target[k]] = EvalFloat(r[target[k]], x.GetDouble(k));
                return HostArray.FromDoubles(x.DType, outShape, r);
            }
            case StorageKind.Signed:
            {
                var init = Identity is double.NegativeInfinity ? long.MinValue : Identity is double.PositiveInfinity ? long.MaxValue : (long)Identity;
                var r = Enumerable.Repeat(init, n).ToArray();
                for (var k = 0; k < x.Size; k++) r[target[k]] = EvalSigned(r[target[k]], x.GetLong(k));
                return HostArray.FromLongs(x.DType, outShape, r);
            }
            default:
            {
                var init = Identity is double.NegativeInfinity ? 0UL : Identity is double.PositiveInfinity ? ulong.MaxValue : (ulong)Identity;
                var r = Enumerable.Repeat(init, n).ToArray();
                for (var k = 0; k < x.Size; k++) r[target[k]] = EvalUnsigned(r[target[k]], x.GetULong(k));
                return HostArray.FromULongs(x.DType, outShape, r);
            }
        }
    }

    /// <summary>One ONNX reduction with the axes as an input (opset 18); nothing for an empty axis list.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => Axes.Count == 0
        ? args.Inputs[0]
        : Emit(e, args.Inputs[0]);

    /// <summary>The ONNX reduction node.</summary>
    protected string Emit(IOnnxEmitter e, string input) =>
        e.Node(OnnxOp, [input, e.Int64s(Axes.ToLongArray())], OnnxAttribute.Int("keepdims", KeepDims ? 1 : 0));

    /// <summary>The operand with the reduced axes moved last and flattened: a [kept, reduced] matrix.</summary>
    private protected string Rows(IOnnxEmitter e, string input, Shape shape)
    {
        var kept = Enumerable.Range(0, shape.Rank).Where(d => !Axes.Contains(d)).ToArray();
        int[] perm = [.. kept, .. Axes];
        var moved = perm.SequenceEqual(Enumerable.Range(0, perm.Length))
            ? input
            : e.Node("Transpose", [input], OnnxAttribute.Ints("perm", [.. perm.Select(p => (long)p)]));
        return e.Reshape(moved, RowsShape(shape));
    }

    /// <summary>The shape of <see cref="Rows"/>: [kept elements, reduced elements].</summary>
    private protected Shape RowsShape(Shape shape) =>
        Shape.Of(Enumerable.Range(0, shape.Rank).Where(d => !Axes.Contains(d)).Aggregate(1, (acc, d) => acc * shape[d]), Axes.Aggregate(1, (acc, d) => acc * shape[d]));

    /// <summary>The cotangent (or output) reshaped to keep the reduced axes as size 1.</summary>
    internal Tensor KeptOf(Tensor t, Shape input) => KeepDims
        ? t
        : t.Reshape(Enumerable.Range(0, input.Rank).Select(d => Axes.Contains(d) ? 1 : input[d]).ToArray());
}

/// <summary>Sum over axes.</summary>
/// <param name="Axes">The reduced axes, sorted.</param>
/// <param name="KeepDims">Whether reduced axes stay as size 1.</param>
internal sealed record ReduceSum(Ints Axes, bool KeepDims) : Reduce(Axes, KeepDims)
{
    protected override string OnnxOp => "ReduceSum";
    protected override double Identity => 0;
    protected override double EvalFloat(double acc, double x) => acc + x;
    protected override long EvalSigned(long acc, long x) => unchecked(acc + x);
    protected override ulong EvalUnsigned(ulong acc, ulong x) => unchecked(acc + x);

    /// <summary>
    /// Floats: ReduceSum (on ONNX Runtime's CPU, many leading rows as a product with a row of ones, and float32 windows
    /// as an AveragePool). Integers: the reduced axes moved last and flattened, times a column of ones.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var x = args.InputAvals[0];
        if (NnxCpuOps.LeadingSums(e, args, Axes, 1.0) is { } sums) return sums;
        if (x.DType is DType.Float32 or DType.Float64 && e.Target == OnnxTarget.Cpu && LeadingRows(x.Shape) is var (rows, columns))
        {
            var row = e.Node("ConstantOfShape", [e.Int64s(1, rows)], OnnxAttribute.Tensor("value", HostArray.Full(x.DType, Shape.Of(1), 1)));
            return e.Reshape(e.Node("MatMul", [row, e.Reshape(args.Inputs[0], Shape.Of(rows, columns))]), args.Output.Shape);
        }
        if (x.DType == DType.Float32 && e.Target == OnnxTarget.Cpu && WindowSum(e, args.Inputs[0], x.Shape) is { } windows) return e.Reshape(windows, args.Output.Shape);
        if (Axes.Count == 0 || x.DType.IsFloat()) return base.Lower(e, args);
        if (e.Target == OnnxTarget.Cuda) return e.Reshape(CudaInts.SumRows(e, Rows(e, args.Inputs[0], x.Shape), RowsShape(x.Shape), x.DType), args.Output.Shape);
        // ORT-CPU workaround: ReduceSum sums integers in double (inexact past 2^53, saturates on overflow) and has no uint kernels; MatMul wraps exactly.
        var n = Axes.Aggregate(1, (acc, d) => acc * x.Shape[d]);
        var ones = e.Node("ConstantOfShape", [e.Int64s(n, 1)], OnnxAttribute.Tensor("value", HostArray.Full(x.DType, Shape.Of(1), 1)));
        return e.Reshape(e.Node("MatMul", [Rows(e, args.Inputs[0], x.Shape), ones]), args.Output.Shape);
    }

    /// <summary>
    /// ORT-CPU: a sum over leading axes (a bias's gradient, [rows, columns] summed over the rows) with many rows, as the
    /// product of a row of ones with x as a [rows, columns] matrix: ONNX Runtime's ReduceSum over axis 0 of
    /// [100352, 32] took 4.5 ms on one thread and 77 ms on two, the product 2.5 ms and 9 ms (notes/layers.md).
    /// </summary>
    private (int Rows, int Columns)? LeadingRows(Shape shape)
    {
        if (Axes.Count == 0 || Axes.Count == shape.Rank || Axes[^1] != Axes.Count - 1) return null;
        var rows = Axes.Aggregate(1, (acc, d) => acc * shape[d]);
        return rows >= MinRows ? (rows, shape.Size / rows) : null;
    }

    /// <summary>
    /// ORT-CPU, float32: a sum over two axes with kept axes between them, [p, k₁, m, k₂, q] over k₁ and k₂ (a max pool's
    /// tie count in its gradient, the windows of [128, 28, 28, 32] seen as [128, 14, 2, 14, 2, 32]), as a 3-D AveragePool
    /// of [p, 1, k₁, m·k₂, q] with window and strides [k₁, k₂, 1], times k₁·k₂. ONNX Runtime's ReduceSum over axes (2, 4)
    /// of that shape took 3.9–6.2 ms on one thread and 3.0–7.0 ms on two; the pool 1.5 and 0.7 ms (notes/layers.md). Only
    /// for windows of a power-of-two size, so the mean times the size is the sum (up to the order of the additions).
    /// </summary>
    private string? WindowSum(IOnnxEmitter e, string input, Shape shape)
    {
        if (Axes.Count != 2 || Axes[1] < Axes[0] + 2 || shape.Size == 0) return null;
        var (a, b) = (Axes[0], Axes[1]);
        var window = shape[a] * shape[b];
        if ((window & (window - 1)) != 0) return null;
        int Product(int from, int to) => Enumerable.Range(from, to - from).Aggregate(1, (p, d) => p * shape[d]);
        var view = e.Reshape(input, Shape.Of(Product(0, a), 1, shape[a], Product(a + 1, b) * shape[b], Product(b + 1, shape.Rank)));
        var mean = e.Node("AveragePool", [view], OnnxAttribute.Ints("kernel_shape", shape[a], shape[b], 1), OnnxAttribute.Ints("strides", shape[a], shape[b], 1));
        return e.Node("Mul", [mean, e.Scalar(DType.Float32, window)]);
    }

    /// <summary>The fewest rows that <see cref="LeadingRows"/> sums as a product (small sums stay one node).</summary>
    private const int MinRows = 1024;

    /// <summary>The cotangent broadcast back over the reduced axes.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [KeptOf(g, x[0].Shape).BroadcastTo(x[0].Shape.ToArray())];
}

/// <summary>
/// ReduceMax and ReduceMin: ties share the gradient equally (as JAX); lowered as ONNX's reduction except for int64,
/// uint32 and uint64, which pick the element that ArgMax/ArgMin finds.
/// </summary>
internal abstract record Extremum(Ints Axes, bool KeepDims) : Reduce(Axes, KeepDims)
{
    /// <summary>ArgMax or ArgMin: the ONNX operator that finds the extremum's index.</summary>
    protected abstract string ArgOp { get; }

    /// <summary>
    /// The ONNX reduction, except for int64, uint32 and uint64: the element that <see cref="ArgOp"/> picks in each row
    /// of <see cref="Reduce.Rows"/>.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var x = args.InputAvals[0];
        if (Axes.Count == 0) return args.Inputs[0];
        // CUDA: integer ReduceMax/ReduceMin compute through float32 there, and ArgMax has no integer kernels.
        if (e.Target == OnnxTarget.Cuda && x.DType.IsInteger())
        {
            var extremum = CudaInts.Extremum(e, args.Inputs[0], x.DType, Axes.ToLongArray(), max: ArgOp == "ArgMax");
            return KeepDims ? extremum : e.Reshape(extremum, args.Output.Shape);
        }
        if (x.DType is not (DType.Int64 or DType.UInt32 or DType.UInt64)) return e.Target == OnnxTarget.Cpu ? ByRuns(e, args.Inputs[0], x.Shape, args.Output.Shape) : Emit(e, args.Inputs[0]);
        // ORT-CPU workaround: ReduceMax/ReduceMin lack uint kernels and get int64 wrong (values in [2^31, 2^32) compare as negative); ArgMax/ArgMin are exact.
        var rows = Rows(e, args.Inputs[0], x.Shape);
        var keys = x.DType.IsUnsigned() ? e.ToOrderedInt64(rows, x.DType) : rows;
        var index = e.Node(ArgOp, [keys], OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 1));
        return e.Reshape(e.Node("GatherElements", [rows, index], OnnxAttribute.Int("axis", 1)), args.Output.Shape);
    }

    /// <summary>
    /// ORT-CPU: one reduction per run of adjacent axes, the innermost run first (each keeping its axes), then the
    /// output's shape. ONNX Runtime reduces one run of axes ([kept, reduced, kept]) with its fast kernels but takes a
    /// generic per-element path for axes with kept axes between them: max pooling's [n, 14, 2, 14, 2, c] over axes
    /// 2 and 4 ran 2.2× faster as two reductions (notes/layers.md). The result is the same: max and min do not round.
    /// </summary>
    private string ByRuns(IOnnxEmitter e, string input, Shape shape, Shape output)
    {
        var runs = new List<long[]>();
        foreach (var a in Axes)
            if (runs.Count > 0 && runs[^1][^1] == a - 1) runs[^1] = [.. runs[^1], a];
            else runs.Add([a]);
        if (runs.Count == 1) return Emit(e, input);
        var reduced = input;
        for (var r = runs.Count - 1; r >= 0; r--)
            reduced = e.Node(OnnxOp, [reduced, e.Int64s(runs[r])], OnnxAttribute.Int("keepdims", 1));
        return KeepDims ? reduced : e.Reshape(reduced, output);
    }

    /// <summary>The cotangent split equally among the elements equal to the extremum.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var mask = x[0].Equal(KeptOf(y, x[0].Shape)).Cast(g.DType);
        var count = mask.Sum(Axes.ToArray(), keepDims: true);
        return [mask * (KeptOf(g, x[0].Shape) / count)]; // the division at the reduced size: one full-size op fewer
    }
}

/// <summary>Maximum over axes.</summary>
/// <param name="Axes">The reduced axes, sorted.</param>
/// <param name="KeepDims">Whether reduced axes stay as size 1.</param>
internal sealed record ReduceMax(Ints Axes, bool KeepDims) : Extremum(Axes, KeepDims)
{
    protected override string OnnxOp => "ReduceMax";
    protected override string ArgOp => "ArgMax";
    protected override double Identity => double.NegativeInfinity;
    protected override double EvalFloat(double acc, double x) => double.IsNaN(x) || double.IsNaN(acc) ? double.NaN : Math.Max(acc, x);
    protected override long EvalSigned(long acc, long x) => Math.Max(acc, x);
    protected override ulong EvalUnsigned(ulong acc, ulong x) => Math.Max(acc, x);
}

/// <summary>Minimum over axes.</summary>
/// <param name="Axes">The reduced axes, sorted.</param>
/// <param name="KeepDims">Whether reduced axes stay as size 1.</param>
internal sealed record ReduceMin(Ints Axes, bool KeepDims) : Extremum(Axes, KeepDims)
{
    protected override string OnnxOp => "ReduceMin";
    protected override string ArgOp => "ArgMin";
    protected override double Identity => double.PositiveInfinity;
    protected override double EvalFloat(double acc, double x) => double.IsNaN(x) || double.IsNaN(acc) ? double.NaN : Math.Min(acc, x);
    protected override long EvalSigned(long acc, long x) => Math.Min(acc, x);
    protected override ulong EvalUnsigned(ulong acc, ulong x) => Math.Min(acc, x);
}

/// <summary>The int64 index of the first maximum along an axis.</summary>
/// <param name="Axis">The axis searched.</param>
/// <param name="KeepDims">Whether the axis stays as size 1.</param>
internal sealed record ArgMax(int Axis, bool KeepDims) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        ShapeRules.RequireDType(Name, inputs, 0, t => t.IsNumeric(), "a numeric dtype");
        var s = inputs[0].Shape;
        if (Axis < 0 || Axis >= s.Rank) throw new ArgumentException($"{Name}: axis {Axis} is out of range for {inputs[0]} (argument 0).");
        if (s[Axis] == 0) throw new ArgumentException($"{Name}: cannot search an empty axis of {inputs[0]} (argument 0).");
        return new Aval(Shape.Of(Enumerable.Range(0, s.Rank).Where(d => KeepDims || d != Axis).Select(d => d == Axis ? 1 : s[d]).ToArray()), DType.Int64);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var x = inputs[0];
        var outAval = Infer([x.Aval]);
        var n = x.Shape[Axis];
        var inner = x.Shape.Strides()[Axis];
        var outer = x.Size / Math.Max(1, n * inner);
        var r = new long[outAval.Shape.Size];
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < inner; i++)
            {
                var best = 0;
                for (var j = 1; j < n; j++)
                {
                    var (kb, kj) = (o * n * inner + best * inner + i, o * n * inner + j * inner + i);
                    if (x.F is not null ? x.F[kj] > x.F[kb] : x.I is not null ? x.I[kj] > x.I[kb] : x.U![kj] > x.U[kb]) best = j;
                }
                r[o * inner + i] = best;
            }
        return HostArray.FromLongs(DType.Int64, outAval.Shape, r);
    }

    /// <summary>ONNX ArgMax (first index wins ties); unsigned integers go through an order-preserving map into int64.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var t = args.InputAvals[0].DType;
        if (e.Target == OnnxTarget.Cuda && t.IsInteger()) return CudaInts.ArgMax(e, args, Axis);
        // ORT-CPU workaround: ArgMax has no uint32/uint64 kernels; search in int64 (exact, order-preserving).
        var x = t.IsUnsigned() ? e.ToOrderedInt64(args.Inputs[0], t) : args.Inputs[0];
        return e.Node("ArgMax", [x], OnnxAttribute.Int("axis", Axis), OnnxAttribute.Int("keepdims", KeepDims ? 1 : 0));
    }

    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null];
}
