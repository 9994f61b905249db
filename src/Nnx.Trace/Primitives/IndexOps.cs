namespace NnxSharp.Primitives;

/// <summary>
/// Picks slices of the data along an axis by integer indices (embeddings, class scores):
/// <c>out.shape = data.shape[..axis] + indices.shape + data.shape[axis+1..]</c>. Negative indices count from
/// the end; an index out of range is an error.
/// </summary>
/// <param name="Axis">The axis indexed (non-negative).</param>
internal sealed record Gather(int Axis) : Primitive
{
    public override int Arity => 2;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var s = inputs[0].Shape;
        ShapeRules.RequireDType(Name, inputs, 1, t => t is DType.Int32 or DType.Int64, "int32 or int64");
        if (Axis < 0 || Axis >= s.Rank) throw new ArgumentException($"{Name}: axis {Axis} is out of range for {inputs[0]} (argument 0).");
        var d = s.ToArray();
        return new Aval(Shape.Of([.. d[..Axis], .. inputs[1].Shape, .. d[(Axis + 1)..]]), inputs[0].DType);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var (x, idx) = (inputs[0], inputs[1]);
        var outShape = Infer([x.Aval, idx.Aval]).Shape;
        var n = x.Shape[Axis];
        var inner = x.Shape.Strides()[Axis];
        var outer = x.Shape.Take(Axis).Aggregate(1, (a, b) => a * b);
        var src = new int[outShape.Size];
        var k = 0;
        for (var o = 0; o < outer; o++)
            for (var j = 0; j < idx.Size; j++)
            {
                var i = Normalize(idx.GetLong(j), n, Name);
                for (var r = 0; r < inner; r++) src[k++] = (o * n + i) * inner + r;
            }
        return Kernels.Take(x, outShape, src);
    }

    internal static int Normalize(long i, int n, string op) =>
        i >= -n && i < n ? (int)(i < 0 ? i + n : i) : throw new ArgumentException($"{op}: index {i} is out of range for an axis of size {n}.");

    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Node("Gather", args.Inputs, OnnxAttribute.Int("axis", Axis));

    /// <summary>Scatter-adds the cotangent into zeros, so repeated indices add up.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var (data, idx) = (x[0], x[1]);
        var zeros = Tensor.ZerosLike(data);
        if (Axis == 0) return [new ScatterAdd().Bind(zeros, idx, g), null];
        // Move the indexed axis to the front, scatter, and move it back.
        int pre = Axis, ir = idx.Rank, rank = data.Rank;
        var gPerm = Enumerable.Range(pre, ir).Concat(Enumerable.Range(0, pre)).Concat(Enumerable.Range(pre + ir, g.Rank - pre - ir)).ToArray();
        var dPerm = new[] { Axis }.Concat(Enumerable.Range(0, Axis)).Concat(Enumerable.Range(Axis + 1, rank - Axis - 1)).ToArray();
        var inv = new int[rank];
        for (var i = 0; i < rank; i++) inv[dPerm[i]] = i;
        var scattered = new ScatterAdd().Bind(zeros.Transpose(dPerm), idx, g.Transpose(gPerm));
        return [scattered.Transpose(inv), null];
    }
}

/// <summary>
/// <c>operand</c> with <c>updates[j…]</c> added at row <c>indices[j]</c> of axis 0; repeated indices add up.
/// <c>updates.shape = indices.shape + operand.shape[1..]</c>.
/// </summary>
internal sealed record ScatterAdd : Primitive
{
    public override int Arity => 3;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var (op, idx, upd) = (inputs[0], inputs[1], inputs[2]);
        ShapeRules.RequireDType(Name, inputs, 0, t => t.IsNumeric(), "a numeric dtype");
        ShapeRules.RequireDType(Name, inputs, 1, t => t is DType.Int32 or DType.Int64, "int32 or int64");
        if (op.Shape.Rank == 0) throw new ArgumentException($"{Name}: operand {op} (argument 0) must have rank ≥ 1.");
        Shape expected = Shape.Of([.. idx.Shape, .. op.Shape.ToArray()[1..]]);
        if (upd.DType != op.DType || upd.Shape != expected)
            throw new ArgumentException($"{Name}: updates must be {new Aval(expected, op.DType)} for {ShapeRules.Describe(inputs)}.");
        return op;
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var (op, idx, upd) = (inputs[0], inputs[1], inputs[2]);
        var n = op.Shape[0];
        var inner = op.Shape.Rank == 0 ? 1 : op.Size / Math.Max(1, n);
        var add = new Add();
        var targets = new int[upd.Size];
        for (var j = 0; j < idx.Size; j++)
        {
            var row = Gather.Normalize(idx.GetLong(j), n, Name);
            for (var r = 0; r < inner; r++) targets[j * inner + r] = row * inner + r;
        }
        switch (HostArray.KindOf(op.DType))
        {
            case StorageKind.Float:
            {
                var r = op.ToDoubles();
                for (var k = 0; k < targets.Length; k++) r[targets[k]] += upd.GetDouble(k);
                return HostArray.FromDoubles(op.DType, op.Shape, r);
            }
            case StorageKind.Signed:
            {
                var r = op.ToLongs();
                for (var k = 0; k < targets.Length; k++) r[targets[k]] = unchecked(r[targets[k]] + upd.GetLong(k));
                return HostArray.FromLongs(op.DType, op.Shape, r);
            }
            default:
            {
                var r = Enumerable.Range(0, op.Size).Select(op.GetULong).ToArray();
                for (var k = 0; k < targets.Length; k++) r[targets[k]] = unchecked(r[targets[k]] + upd.GetULong(k));
                return HostArray.FromULongs(op.DType, op.Shape, r);
            }
        }
    }

    /// <summary>ScatterND with reduction "add"; indices are made non-negative int64 of shape I + [1].</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var idxAval = args.InputAvals[1];
        var idx = e.Cast(args.Inputs[1], idxAval.DType, DType.Int64);
        var n = e.Scalar(DType.Int64, args.InputAvals[0].Shape[0]);
        var negative = e.Node("Less", [idx, e.Scalar(DType.Int64, 0)]);
        idx = e.Node("Where", [negative, e.Node("Add", [idx, n]), idx]);
        idx = e.Node("Reshape", [idx, e.Int64s([.. idxAval.Shape.ToLongArray(), 1])]);
        return e.Node("ScatterND", [args.Inputs[0], idx, args.Inputs[2]], OnnxAttribute.String("reduction", "add"));
    }

    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g, null, g.Gather(x[1], 0)];
}
