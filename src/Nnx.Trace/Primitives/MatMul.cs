namespace NnxSharp.Primitives;

/// <summary>
/// Batched matrix product of operands of rank ≥ 2: <c>[..., m, k] @ [..., k, n] → [..., m, n]</c>, the batch
/// dimensions broadcast as in NumPy.
/// </summary>
internal sealed record MatMul : Primitive
{
    public override int Arity => 2;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var t = ShapeRules.SameDType(Name, inputs);
        ShapeRules.RequireDType(Name, inputs, 0, d => d.IsNumeric(), "a numeric dtype");
        var (a, b) = (inputs[0].Shape, inputs[1].Shape);
        if (a.Rank < 2 || b.Rank < 2)
            throw new ArgumentException($"{Name}: operands must have rank ≥ 2 but got {ShapeRules.Describe(inputs)}.");
        if (a[^1] != b[^2]) throw ContractingSizesDiffer(inputs, a[^1], b[^2]);
        var batch = Shape.TryBroadcast(Shape.Of(a.ToArray()[..^2]), Shape.Of(b.ToArray()[..^2]))
            ?? throw new ArgumentException($"{Name}: cannot broadcast the batch dimensions of {ShapeRules.Describe(inputs)}.");
        return new Aval(Shape.Of([.. batch, a[^2], b[^1]]), t);
    }

    /// <summary>The error for operands whose contracting sizes <paramref name="ka"/> and <paramref name="kb"/> differ, naming <paramref name="operands"/> as the caller gave them.</summary>
    internal static ArgumentException ContractingSizesDiffer(IReadOnlyList<Aval> operands, int ka, int kb) =>
        new($"mat_mul: contracting dimensions differ: {ShapeRules.Describe(operands)} ({ka} ≠ {kb}).");

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var (x, y) = (inputs[0], inputs[1]);
        var outAval = Infer([x.Aval, y.Aval]);
        var (m, k, n) = (x.Shape[^2], x.Shape[^1], y.Shape[^1]);
        var batch = Shape.Of(outAval.Shape.ToArray()[..^2]);
        var mapA = Kernels.BroadcastMap(batch, Shape.Of(x.Shape.ToArray()[..^2]));
        var mapB = Kernels.BroadcastMap(batch, Shape.Of(y.Shape.ToArray()[..^2]));
        return HostArray.KindOf(x.DType) == StorageKind.Float
            ? HostArray.FromDoubles(x.DType, outAval.Shape, Product(x.F!, y.F!, mapA, mapB, m, k, n))
            // Integers multiply and add wrapping, in 64 bits: the low bits of any width come out right.
            : HostArray.FromULongs(x.DType, outAval.Shape, Product(ULongs(x), ULongs(y), mapA, mapB, m, k, n));
    }

    /// <summary>The batched product of row-major [batch, m, k] and [batch, k, n] storage, batches read through the broadcast maps.</summary>
    private static T[] Product<T>(T[] a, T[] b, int[] mapA, int[] mapB, int m, int k, int n) where T : System.Numerics.INumber<T>
    {
        var r = new T[mapA.Length * m * n];
        for (var bi = 0; bi < mapA.Length; bi++)
            for (var i = 0; i < m; i++)
                for (var j = 0; j < n; j++)
                {
                    var s = T.Zero;
                    for (var p = 0; p < k; p++)
                        s = unchecked(s + a[mapA[bi] * m * k + i * k + p] * b[mapB[bi] * k * n + p * n + j]);
                    r[bi * m * n + i * n + j] = s;
                }
        return r;
    }

    private static ulong[] ULongs(HostArray x) => [.. Enumerable.Range(0, x.Size).Select(x.GetULong)];

    /// <summary>
    /// ONNX MatMul; integers on CUDA (no integer MatMul kernel there): float64 products of their chunks; a thin float32 product
    /// of matrices in process on the CPU: Nnx's kernel (<see cref="NnxCpuOps.PackedGemmFits"/>).
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (e.Target == OnnxTarget.Cuda && args.Output.DType.IsInteger()) return CudaInts.MatMul(e, args);
        var (a, b) = (args.InputAvals[0].Shape, args.InputAvals[1].Shape);
        if (a.Rank == 2 && b.Rank == 2 && NnxCpuOps.PackedGemmFits(e, args.Output.DType, a[0], b[1], a[1]))
            return NnxCpuOps.Gemm(e, args.Inputs[0], args.Inputs[1], null, false, false, 1, 0); // a thin product (Nnx's kernel)
        return e.Node("MatMul", args.Inputs);
    }

    /// <summary>
    /// ∂a = g·bᵀ, ∂b = aᵀ·g (batch dimensions are summed down by the reverse pass). Eager, for float32 matrices, each is one
    /// jitted product whose lowering reads the transposed operand where it lies (a Gemm's transposed A or B), instead of a
    /// transpose copied first and then multiplied: g·Wᵀ at [32, 512]·[512, 512] took 466 µs eagerly, 300 of them the copy,
    /// and 198 jitted, with the same bits. Under a trace or a gradient tape the jitted products are inlined, so they record
    /// what the plain rule records.
    /// </summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var eager = !g.IsSymbolic && !x[0].IsSymbolic && !x[1].IsSymbolic && x[0].Rank == 2 && x[1].Rank == 2 && g.DType == DType.Float32;
        return
        [
            eager && x[1].Size >= FusedTranspose ? TimesTransposed(g, x[1]) : g.MatMul(x[1].SwapLastAxes()),
            eager && x[0].Size >= FusedTranspose ? TransposedTimes(x[0], g) : x[0].SwapLastAxes().MatMul(g),
        ];
    }

    // The fewest elements of a transposed operand for which the eager rule runs the jitted product: below, the copied
    // transpose costs less than the jitted call's own (the seed's eager step at width 32, where the weights are 32 × 32, was
    // 2–3 % slower with the jitted products; at 128, 16,384 elements, faster; measured in notes/autodiff.md).
    private const int FusedTranspose = 16_384;

    private static readonly Func<Tensor, Tensor, Tensor> TimesTransposed = Jit.Pure((Tensor a, Tensor b) => a.MatMul(b.SwapLastAxes()));

    private static readonly Func<Tensor, Tensor, Tensor> TransposedTimes = Jit.Pure((Tensor a, Tensor b) => a.SwapLastAxes().MatMul(b));
}
