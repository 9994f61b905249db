namespace NnxSharp.Primitives;

/// <summary>
/// <c>op(A)·op(B) + C</c> for matrices, op being an optional transpose, C broadcast to the result
/// (ONNX Gemm). Produced by the fusion pass from MatMul (+ Transpose) + Add, so a dense layer is one node.
/// </summary>
/// <param name="TransA">Whether A is transposed.</param>
/// <param name="TransB">Whether B is transposed.</param>
public sealed record Gemm(bool TransA, bool TransB) : Primitive
{
    /// <inheritdoc/>
    public override int Arity => 3;

    /// <inheritdoc/>
    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var t = Kernels.SameDType(Name, inputs);
        Kernels.RequireDType(Name, inputs, 0, d => d is DType.Float32 or DType.Float64, "float32 or float64");
        var (a, b, c) = (inputs[0].Shape, inputs[1].Shape, inputs[2].Shape);
        if (a.Rank != 2 || b.Rank != 2)
            throw new ArgumentException($"{Name}: A and B must be matrices but got {Kernels.Describe(inputs)}.");
        var (m, ka) = TransA ? (a[1], a[0]) : (a[0], a[1]);
        var (kb, n) = TransB ? (b[1], b[0]) : (b[0], b[1]);
        if (ka != kb) throw new ArgumentException($"{Name}: contracting dimensions differ: {Kernels.Describe(inputs)} ({ka} ≠ {kb}).");
        var result = Shape.Of(m, n);
        if (c.Rank > 2 || Shape.TryBroadcast(c, result) != result)
            throw new ArgumentException($"{Name}: C {inputs[2]} (argument 2) does not broadcast to [{m},{n}].");
        return new Aval(result, t);
    }

    /// <inheritdoc/>
    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var a = TransA ? new Transpose(Ints.Of(1, 0)).Eval([inputs[0]]) : inputs[0];
        var b = TransB ? new Transpose(Ints.Of(1, 0)).Eval([inputs[1]]) : inputs[1];
        return new Add().Eval([new MatMul().Eval([a, b]), inputs[2]]);
    }

    /// <inheritdoc/>
    public override string Lower(IOnnxEmitter e, LowerArgs args) => e.Node("Gemm", args.Inputs,
        OnnxAttribute.Int("transA", TransA ? 1 : 0), OnnxAttribute.Int("transB", TransB ? 1 : 0));

    /// <summary>With A′ = op(A), B′ = op(B): ∂A′ = g·B′ᵀ, ∂B′ = A′ᵀ·g, ∂C = g (summed down by the reverse pass).</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var a = TransA ? x[0].Transpose() : x[0];
        var b = TransB ? x[1].Transpose() : x[1];
        var da = g.MatMul(b.Transpose());
        var db = a.Transpose().MatMul(g);
        return [TransA ? da.Transpose() : da, TransB ? db.Transpose() : db, g];
    }
}
