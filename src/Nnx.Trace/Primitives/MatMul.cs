namespace NnxSharp.Primitives;

/// <summary>
/// Batched matrix product of operands of rank ≥ 2: <c>[..., m, k] @ [..., k, n] → [..., m, n]</c>, the batch
/// dimensions broadcast as in NumPy.
/// </summary>
public sealed record MatMul : Primitive
{
    /// <inheritdoc/>
    public override int Arity => 2;

    /// <inheritdoc/>
    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var t = Kernels.SameDType(Name, inputs);
        Kernels.RequireDType(Name, inputs, 0, d => d.IsNumeric(), "a numeric dtype");
        var (a, b) = (inputs[0].Shape, inputs[1].Shape);
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"{Name}: operands must have rank ≥ 2 but got {Kernels.Describe(inputs)}.");
        if (a[^1] != b[^2])
            throw new ArgumentException($"{Name}: contracting dimensions differ: {Kernels.Describe(inputs)} ({a[^1]} ≠ {b[^2]}).");
        var batch = Shape.TryBroadcast(Shape.Of(a.ToArray()[..^2]), Shape.Of(b.ToArray()[..^2]))
            ?? throw new ArgumentException($"{Name}: cannot broadcast the batch dimensions of {Kernels.Describe(inputs)}.");
        return new Aval(Shape.Of([.. batch, a[^2], b[^1]]), t);
    }

    /// <inheritdoc/>
    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var (x, y) = (inputs[0], inputs[1]);
        var outAval = Infer([x.Aval, y.Aval]);
        var (m, k, n) = (x.Shape[^2], x.Shape[^1], y.Shape[^1]);
        var batch = Shape.Of(outAval.Shape.ToArray()[..^2]);
        var mapA = Kernels.BroadcastMap(batch, Shape.Of(x.Shape.ToArray()[..^2]));
        var mapB = Kernels.BroadcastMap(batch, Shape.Of(y.Shape.ToArray()[..^2]));
        var size = outAval.Shape.Size;
        switch (HostArray.KindOf(x.DType))
        {
            case StorageKind.Float:
            {
                var r = new double[size];
                for (var bi = 0; bi < batch.Size; bi++)
                    for (var i = 0; i < m; i++)
                        for (var j = 0; j < n; j++)
                        {
                            double s = 0;
                            for (var p = 0; p < k; p++)
                                s += x.F![mapA[bi] * m * k + i * k + p] * y.F![mapB[bi] * k * n + p * n + j];
                            r[bi * m * n + i * n + j] = s;
                        }
                return HostArray.FromDoubles(x.DType, outAval.Shape, r);
            }
            default:
            {
                var r = new ulong[size];
                for (var bi = 0; bi < batch.Size; bi++)
                    for (var i = 0; i < m; i++)
                        for (var j = 0; j < n; j++)
                        {
                            ulong s = 0;
                            for (var p = 0; p < k; p++)
                                s = unchecked(s + x.GetULong(mapA[bi] * m * k + i * k + p) * y.GetULong(mapB[bi] * k * n + p * n + j));
                            r[bi * m * n + i * n + j] = s;
                        }
                return HostArray.FromULongs(x.DType, outAval.Shape, r);
            }
        }
    }

    /// <summary>ONNX MatMul; integers on CUDA (no integer MatMul kernel there): float64 products of their chunks.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Target == OnnxTarget.Cuda && args.Output.DType.IsInteger()
        ? CudaInts.MatMul(e, args)
        : e.Node("MatMul", args.Inputs);

    /// <summary>∂a = g·bᵀ, ∂b = aᵀ·g (batch dimensions are summed down by the reverse pass).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) =>
        [g.MatMul(x[1].SwapLastAxes()), x[0].SwapLastAxes().MatMul(g)];
}
