using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

internal sealed partial class Simplify
{
    /// <summary>
    /// Matrix products as ONNX Gemm, <c>α·op(A)·op(B) + β·C</c>: transposed operands become Gemm's flags; a
    /// scalar factor of an operand, or of the product, or a negation of the product goes into α (and β); an added or subtracted tensor that
    /// broadcasts to the result becomes C (a bias, or the weight of an update <c>w − lr·∂w</c>, which is then
    /// one node instead of a product, a scale, a negation and an addition), with its own scalar factor as β
    /// (a momentum's decay). Products used twice are left alone.
    /// </summary>
    private Value? Gemms(Node node)
    {
        var x = node.Inputs;
        switch (node.Op)
        {
            case MatMul when IsMatrixProduct(node) && (IsSwap(x[0]) || IsSwap(x[1])):
            {
                var (a, ta) = Untransposed(x[0]);
                var (b, tb) = Untransposed(x[1]);
                return Emit(new Gemm(ta, tb, 1, 0), a, b, Scalar(node.Output, 0));
            }
            case Mul when Product(x[0]) is { } p && IsScalarConstant(x[1]) && IsGemmScale(node.Output, p.Op.Alpha * Uniform(x[1])!.Value, p.Op.Beta * Uniform(x[1])!.Value):
            {
                var k = Uniform(x[1])!.Value;
                return Replace(node, p.Op with { Alpha = p.Op.Alpha * k, Beta = p.Op.Beta * k }, p.A, p.B, p.C ?? Scalar(node.Output, 0));
            }
            case Gemm g when ScaledOperand(x[0]) is { } sa && IsGemmScale(node.Output, g.Alpha * Uniform(sa.Scale)!.Value, g.Beta):
                return Replace(node, g with { Alpha = g.Alpha * Uniform(sa.Scale)!.Value }, sa.Value, x[1], x[2]);
            case Gemm g when ScaledOperand(x[1]) is { } sb && IsGemmScale(node.Output, g.Alpha * Uniform(sb.Scale)!.Value, g.Beta):
                return Replace(node, g with { Alpha = g.Alpha * Uniform(sb.Scale)!.Value }, x[0], sb.Value, x[2]);
            case Neg when Product(x[0]) is { } p:
                return Replace(node, p.Op with { Alpha = -p.Op.Alpha, Beta = -p.Op.Beta }, p.A, p.B, p.C ?? Scalar(node.Output, 0));
            case Add:
                return WithC(node, x[0], x[1], 1) ?? WithC(node, x[1], x[0], 1) ?? ColumnSumUpdate(node, x[0], x[1], 1) ?? ColumnSumUpdate(node, x[1], x[0], 1);
            case Sub:
                return WithC(node, x[1], x[0], -1) ?? WithC(node, x[0], x[1], 1, negateC: true) ?? ColumnSumUpdate(node, x[1], x[0], -1);
            default:
                return null;
        }
    }

    /// <summary>
    /// <paramref name="product"/> ± <paramref name="c"/> as one Gemm with C = c (or c's unscaled operand, its
    /// factor going into β), when the product is a Gemm that does not read its C, used once.
    /// </summary>
    private Value? WithC(Node node, Value product, Value c, double sign, bool negateC = false)
    {
        var shared = Product(product) is null ? SharedProduct(product) : null;
        if ((Product(product) ?? shared?.Product) is not { } p || c.Shape.Rank > 2 || !IsFloat(c)) return null;
        var (cValue, beta) = OpOf(c) is Mul && SingleUse(c) && IsScalarConstant(In(c, 1)) ? (In(c, 0), Uniform(In(c, 1))!.Value) : (c, 1.0);
        if (negateC) beta = -beta;
        if (!IsGemmScale(c, beta, beta)) (cValue, beta) = (c, negateC ? -1 : 1);
        // A product computed a second time must take a scaling with it (its own or C's), or it saves no node.
        if (shared is { Scaled: false } && ReferenceEquals(cValue, c)) return null;
        if (p.Op.Beta != 0)
        {
            // The product already reads a C: only the same C again merges, β·c ± (α·AB + β'·c) = ±α·AB + (β ± β')·c
            // (weight decay inside an SGD step: w − lr·(xᵀg + wd·w) is one Gemm, β = 1 − lr·wd).
            if (!ReferenceEquals(p.C, cValue)) return null;
            var merged = beta + sign * p.Op.Beta;
            return IsGemmScale(c, sign * p.Op.Alpha, merged) ? Replace(node, p.Op with { Alpha = sign * p.Op.Alpha, Beta = merged }, p.A, p.B, cValue) : null;
        }
        return Replace(node, p.Op with { Alpha = sign * p.Op.Alpha, Beta = beta }, p.A, p.B, cValue)
            ?? (ReferenceEquals(cValue, c) || shared is { Scaled: false } ? null : Replace(node, p.Op with { Alpha = sign * p.Op.Alpha, Beta = negateC ? -1 : 1 }, p.A, p.B, c));
    }

    /// <summary>
    /// A product that other nodes use too, or such a product times a scalar constant (used once), as a Gemm
    /// that does not read C yet, when computing the product a second time is cheap: its contraction is at most
    /// <see cref="RecomputeDepth"/> long (the batch, for a weight's gradient). Adam's first moment
    /// <c>β₁·m + (1−β₁)·g</c> then becomes one Gemm (C = m, α = 1−β₁, β = β₁) although g also feeds the second
    /// moment: a contraction of 32 costs about what the two products and the sum it replaces cost, in one node
    /// instead of three. <c>Scaled</c>: whether the scalar factor was taken.
    /// </summary>
    private ((Gemm Op, Value A, Value B, Value? C) Product, bool Scaled)? SharedProduct(Value v)
    {
        var k = 1.0;
        var product = v;
        if (OpOf(v) is Mul && SingleUse(v) && IsScalarConstant(In(v, 1)))
            (product, k) = (In(v, 0), Uniform(In(v, 1))!.Value);
        if (SingleUse(product)) return null;
        (Gemm Op, Value A, Value B, Value? C)? p = Producer(product) switch
        {
            { Op: Gemm { Beta: 0 } g } n => (g, n.Inputs[0], n.Inputs[1], null),
            { Op: MatMul } n when IsMatrixProduct(n) => MatMulAsGemm(n),
            _ => null,
        };
        if (p is not { } q || Depth(q.Op, q.A) > RecomputeDepth || !IsGemmScale(product, q.Op.Alpha * k, 0)) return null;
        return ((q.Op with { Alpha = q.Op.Alpha * k }, q.A, q.B, null), !ReferenceEquals(product, v));
    }

    /// <summary>The longest contraction of a product that <see cref="SharedProduct"/> computes a second time.</summary>
    private const int RecomputeDepth = 64;

    /// <summary>The contraction length of a Gemm with first operand <paramref name="a"/>.</summary>
    private static int Depth(Gemm g, Value a) => g.TransA ? a.Shape[0] : a.Shape[1];

    /// <summary>
    /// A vector's update by a column sum or mean of a matrix, <c>β·c ± k·Σᵢ xᵢⱼ</c> (a bias's SGD step, a batch
    /// statistic's running average), as one Gemm of a row of ones (of ±k when β is 0 or 1) with x, C = c, reshaped from [1, n] to [n]:
    /// two nodes instead of a reduction, one or two scales and an addition. A reduction used elsewhere is
    /// computed again inside the Gemm, so only small matrices are taken that way.
    /// </summary>
    private Value? ColumnSumUpdate(Node node, Value sum, Value c, double sign)
    {
        if (node.Output.Shape.Rank != 1 || c.Aval != node.Output.Aval || !IsFloat(c)) return null;
        var (reduced, k) = OpOf(sum) is Mul && SingleUse(sum) && IsScalarConstant(In(sum, 1)) ? (In(sum, 0), Uniform(In(sum, 1))!.Value) : (sum, 1.0);
        if (OpOf(reduced) is not (ReduceSum or ReduceMean) || ((Reduce)OpOf(reduced)!).Axes is not { Count: 1 } axes || axes[0] != 0 || ((Reduce)OpOf(reduced)!).KeepDims) return null;
        var matrix = In(reduced, 0);
        if (matrix.Shape.Rank != 2 || (!SingleUse(reduced) && matrix.Shape.Size > RecomputeLimit) || AwaitsFactoring(matrix, (Reduce)OpOf(reduced)!)) return null;
        if (OpOf(reduced) is ReduceMean) k /= matrix.Shape[0];
        var (cValue, beta) = OpOf(c) is Mul && SingleUse(c) && IsScalarConstant(In(c, 1)) ? (In(c, 0), Uniform(In(c, 1))!.Value) : (c, 1.0);
        if (cValue.Aval != node.Output.Aval || !IsGemmScale(c, sign * k, beta)) return null;
        // With β = 0 or 1 the factor goes into the row (a row of ±k instead of ones, α = 1): ONNX Runtime's MLAS
        // then runs the product as a vector-matrix kernel that reads x in place, where α ≠ 1 or another β packs
        // x first (the 15 parameter updates of the benchmark step at width 2,048: 602 → 312 µs, notes/compiler.md).
        var inRow = beta is 0 or 1;
        var row = Emit(new Literal(HostArray.Full(matrix.DType, Shape.Of(1, matrix.Shape[0]), inRow ? sign * k : 1)));
        var gemm = Emit(new Gemm(false, false, inRow ? 1 : sign * k, beta), row, matrix, cValue);
        return Replace(node, new Reshape(node.Output.Shape), gemm);
    }

    /// <summary>The largest matrix whose column sum <see cref="ColumnSumUpdate"/> computes a second time.</summary>
    private const int RecomputeLimit = 1 << 20;

    /// <summary>A Gemm (or a 2-D float MatMul, as a Gemm that does not read C, with no C yet) whose result has no other use.</summary>
    private (Gemm Op, Value A, Value B, Value? C)? Product(Value v)
    {
        if (!SingleUse(v)) return null;
        return Producer(v) switch
        {
            { Op: Gemm g } n => (g, n.Inputs[0], n.Inputs[1], n.Inputs[2]),
            { Op: MatMul } n when IsMatrixProduct(n) => MatMulAsGemm(n),
            _ => null,
        };
    }

    private (Gemm, Value, Value, Value?) MatMulAsGemm(Node mm)
    {
        var (a, ta) = Untransposed(mm.Inputs[0]);
        var (b, tb) = Untransposed(mm.Inputs[1]);
        return (new Gemm(ta, tb, 1, 0), a, b, null);
    }

    /// <summary>
    /// Whether α and β can be Gemm attributes for this dtype: ONNX stores them as float32, so a float64 product
    /// takes only factors that float32 holds exactly (a learning rate of 0.05 stays a separate multiplication).
    /// </summary>
    private static bool IsGemmScale(Value like, double alpha, double beta) =>
        like.DType == DType.Float32 || ((double)(float)alpha == alpha && (double)(float)beta == beta);

    private static bool IsMatrixProduct(Node mm) =>
        mm.Inputs[0].Shape.Rank == 2 && mm.Inputs[1].Shape.Rank == 2 && mm.Output.DType is DType.Float32 or DType.Float64;

    private bool IsSwap(Value v) => OpOf(v) is Transpose { Perm: { Count: 2 } p } && p[0] == 1;

    private (Value, bool) Untransposed(Value v) => IsSwap(v) ? (In(v, 0), true) : (v, false);
}
