namespace NnxSharp.Primitives;

/// <summary>
/// <c>α·op(A)·op(B) + β·C</c> for matrices, op being an optional transpose, C broadcast to the result
/// (ONNX Gemm). Produced by the fusion pass from MatMul (+ Transpose) + Add, so a dense layer is one node,
/// and from a weight's gradient with its update (C = the weight, α = −learning rate, β = 1). With β = 0,
/// C is not read (ONNX's optional C is omitted).
/// </summary>
/// <param name="TransA">Whether A is transposed.</param>
/// <param name="TransB">Whether B is transposed.</param>
/// <param name="Alpha">The scale of the product.</param>
/// <param name="Beta">The scale of C.</param>
internal sealed record Gemm(bool TransA, bool TransB, double Alpha = 1, double Beta = 1) : Primitive
{
    public override int Arity => 3;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var t = ShapeRules.SameDType(Name, inputs);
        ShapeRules.RequireDType(Name, inputs, 0, d => d is DType.Float32 or DType.Float64, "float32 or float64");
        var (a, b, c) = (inputs[0].Shape, inputs[1].Shape, inputs[2].Shape);
        if (a.Rank != 2 || b.Rank != 2)
            throw new ArgumentException($"{Name}: A and B must be matrices but got {ShapeRules.Describe(inputs)}.");
        var (m, ka) = TransA ? (a[1], a[0]) : (a[0], a[1]);
        var (kb, n) = TransB ? (b[1], b[0]) : (b[0], b[1]);
        if (ka != kb) throw new ArgumentException($"{Name}: contracting dimensions differ: {ShapeRules.Describe(inputs)} ({ka} ≠ {kb}).");
        var result = Shape.Of(m, n);
        if (c.Rank > 2 || Shape.TryBroadcast(c, result) != result)
            throw new ArgumentException($"{Name}: C {inputs[2]} (argument 2) does not broadcast to [{m},{n}].");
        return new Aval(result, t);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var a = TransA ? new Transpose(Ints.Of(1, 0)).Eval([inputs[0]]) : inputs[0];
        var b = TransB ? new Transpose(Ints.Of(1, 0)).Eval([inputs[1]]) : inputs[1];
        var t = inputs[0].DType;
        var product = new MatMul().Eval([a, b]);
        if (Alpha != 1) product = new Mul().Eval([product, HostArray.Scalar(t, Alpha)]);
        if (Beta == 0) return product;
        var c = Beta == 1 ? inputs[2] : new Mul().Eval([inputs[2], HostArray.Scalar(t, Beta)]);
        return new Add().Eval([product, c]);
    }

    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (NarrowTransposedProduct(e, args)) return LowerTransposed(e, args);
        if (Packed(e, args)) return LowerPacked(e, args);
        List<OnnxAttribute> attributes = [OnnxAttribute.Int("transA", TransA ? 1 : 0), OnnxAttribute.Int("transB", TransB ? 1 : 0)];
        if (Alpha != 1) attributes.Add(OnnxAttribute.Float("alpha", (float)Alpha));
        if (LargeUpdateOnThreads(e, args)) return e.Node("Add", [args.Inputs[2], e.Node("Gemm", [args.Inputs[0], args.Inputs[1]], [.. attributes])]);
        if (Beta is not (0 or 1)) attributes.Add(OnnxAttribute.Float("beta", (float)Beta));
        return e.Node("Gemm", Beta == 0 ? [args.Inputs[0], args.Inputs[1]] : args.Inputs, [.. attributes]);
    }

    /// <summary>Whether the product goes to Nnx's own kernel (<see cref="NnxCpuOps.PackedGemmFits"/>).</summary>
    private bool Packed(IOnnxEmitter e, LowerArgs args)
    {
        var (a, b) = (args.InputAvals[0].Shape, args.InputAvals[1].Shape);
        var (m, k) = TransA ? (a[1], a[0]) : (a[0], a[1]);
        return NnxCpuOps.PackedGemmFits(e, args.Output.DType, m, TransB ? b[0] : b[1], k);
    }

    private string LowerPacked(IOnnxEmitter e, LowerArgs args) =>
        NnxCpuOps.Gemm(e, args.Inputs[0], args.Inputs[1], Beta == 0 ? null : args.Inputs[2], TransA, TransB, Alpha, Beta);

    /// <summary>The fewest elements of a C for which <see cref="LargeUpdateOnThreads"/> adds it after the product.</summary>
    private const int LargeC = 1 << 20;

    /// <summary>
    /// ORT-CPU on several threads: <c>C + α·op(A)·op(B)</c> with a full C of at least <see cref="LargeC"/> elements (a
    /// weight's SGD update, w − lr·xᵀg) as a Gemm without C and an Add. ONNX Runtime's Gemm copies C over its output on
    /// one thread before the product; the Add runs on all of them. The seed's step at width 2,048 on 2 threads: 32.9–35.8
    /// against 37.0–37.6 ms (notes/compiler.md). On one thread the copy costs less than the Add's extra pass, so the
    /// single Gemm stays.
    /// </summary>
    private bool LargeUpdateOnThreads(IOnnxEmitter e, LowerArgs args) =>
        e.Target == OnnxTarget.Cpu && e.IntraOpThreads > 1 && Beta == 1 && args.InputAvals.Count == 3
        && args.InputAvals[2].Shape == args.Output.Shape && args.Output.Shape.Size >= LargeC;

    /// <summary>
    /// ORT-CPU: Aᵀ·B with a long contraction (A [K, M], B [K, N], K ≥ 8·M) and a narrow B (N ≤ M/2), without C: a
    /// convolution kernel's im2col gradient, columnsᵀ [25088, 288]ᵀ · cotangent [25088, 64]. MLAS's transposed-A path
    /// is slow on it; (Bᵀ·A)ᵀ with Bᵀ copied out (N·K elements, a quarter of A here) and the small [N, M] result
    /// transposed back ran in 0.75–0.8× the time (notes/layers.md).
    /// </summary>
    private bool NarrowTransposedProduct(IOnnxEmitter e, LowerArgs args)
    {
        if (e.Target != OnnxTarget.Cpu || !TransA || TransB || Beta != 0 || args.Output.DType != DType.Float32) return false;
        var (a, b) = (args.InputAvals[0].Shape, args.InputAvals[1].Shape);
        var (k, m, n) = (a[0], a[1], b[1]);
        return k >= 8 * m && 2 * n <= m;
    }

    /// <summary>
    /// (Bᵀ·A)ᵀ for <see cref="NarrowTransposedProduct"/>. Both transposes go through rank-3 views so that ONNX
    /// Runtime's GemmTransposeFusion does not fold them back into the Gemm's flags (it does with rank-2 ones).
    /// </summary>
    private string LowerTransposed(IOnnxEmitter e, LowerArgs args)
    {
        var (a, b) = (args.InputAvals[0].Shape, args.InputAvals[1].Shape);
        var (k, m, n) = (a[0], a[1], b[1]);
        var bt = e.Node("Transpose", [e.Reshape(args.Inputs[1], Shape.Of(1, k, n))], OnnxAttribute.Ints("perm", [0, 2, 1]));
        List<OnnxAttribute> attributes = [OnnxAttribute.Int("transA", 0), OnnxAttribute.Int("transB", 0)];
        if (Alpha != 1) attributes.Add(OnnxAttribute.Float("alpha", (float)Alpha));
        var product = e.Node("Gemm", [e.Reshape(bt, Shape.Of(n, k)), args.Inputs[0]], [.. attributes]);
        var back = e.Node("Transpose", [e.Reshape(product, Shape.Of(1, n, m))], OnnxAttribute.Ints("perm", [0, 2, 1]));
        return e.Reshape(back, Shape.Of(m, n));
    }

    /// <summary>Prints the flags, and α and β only where they are not 1.</summary>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("TransA = ").Append(TransA).Append(", TransB = ").Append(TransB);
        if (Alpha != 1) builder.Append(", Alpha = ").Append(Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        if (Beta != 1) builder.Append(", Beta = ").Append(Beta.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }

    /// <summary>With A′ = op(A), B′ = op(B): ∂A′ = α·g·B′ᵀ, ∂B′ = α·A′ᵀ·g, ∂C = β·g (summed down by the reverse pass).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var a = TransA ? x[0].Transpose() : x[0];
        var b = TransB ? x[1].Transpose() : x[1];
        var ga = Alpha == 1 ? g : g * Alpha;
        var da = ga.MatMul(b.Transpose());
        var db = a.Transpose().MatMul(ga);
        return [TransA ? da.Transpose() : da, TransB ? db.Transpose() : db, Beta == 1 ? g : g * Beta];
    }
}
