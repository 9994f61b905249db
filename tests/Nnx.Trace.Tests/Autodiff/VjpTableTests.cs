using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Primitives;
using static NnxSharp.Tests.Numeric;

namespace NnxSharp.Tests;

/// <summary>
/// Every primitive of <see cref="OpRegistry.All"/> is either differentiable, with rows here whose VJP is
/// checked against central finite differences in float64 on random inputs of several shapes (broadcasting
/// included), or listed in <see cref="NoGradient"/> with a check that its rule gives no cotangent.
/// </summary>
[TestClass]
public sealed class VjpTableTests
{
    private sealed record Row(Type Primitive, Func<Tensor[], Tensor> Op, int[][] Shapes, Domain[]? Domains = null, double Eps = 1e-6, double Tol = 1e-6);

    private static readonly int[][] UnaryShapes = [[], [3], [2, 3]];

    private static readonly (int[], int[])[] BinaryShapes = [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1], [1, 3]), ([], [2, 2]), ([4, 1, 3], [2, 1])];

    private static IEnumerable<(string, Row[])> Table()
    {
        static Row[] Unary(Type t, Func<Tensor, Tensor> f, Domain d = Domain.Any) =>
            [.. UnaryShapes.Select(s => new Row(t, a => f(a[0]), [s], [d]))];
        static Row[] Binary(Type t, Func<Tensor, Tensor, Tensor> f, Domain d0 = Domain.Any, Domain d1 = Domain.Any) =>
            [.. BinaryShapes.Select(s => new Row(t, a => f(a[0], a[1]), [s.Item1, s.Item2], [d0, d1]))];

        yield return ("neg", Unary(typeof(Neg), x => -x));
        yield return ("abs", Unary(typeof(Abs), x => x.Abs(), Domain.AwayFromZero));
        yield return ("exp", Unary(typeof(Exp), x => x.Exp()));
        yield return ("log", Unary(typeof(Log), x => x.Log(), Domain.Positive));
        yield return ("sqrt", Unary(typeof(Sqrt), x => x.Sqrt(), Domain.Positive));
        yield return ("rsqrt", Unary(typeof(Rsqrt), x => x.Rsqrt(), Domain.Positive));
        yield return ("tanh", Unary(typeof(Tanh), x => x.Tanh()));
        yield return ("logistic", Unary(typeof(Logistic), x => x.Sigmoid()));
        yield return ("erf", Unary(typeof(Erf), x => x.Erf()));
        yield return ("relu", Unary(typeof(Relu), x => x.Relu(), Domain.AwayFromZero));
        yield return ("add", Binary(typeof(Add), (a, b) => a + b));
        yield return ("sub", Binary(typeof(Sub), (a, b) => a - b));
        yield return ("mul", Binary(typeof(Mul), (a, b) => a * b));
        yield return ("div", Binary(typeof(Div), (a, b) => a / b, Domain.Any, Domain.AwayFromZero));
        yield return ("pow", Binary(typeof(Pow), (a, b) => a.Pow(b), Domain.Positive));
        yield return ("max", Binary(typeof(Max), (a, b) => a.Maximum(b)));
        yield return ("min", Binary(typeof(Min), (a, b) => a.Minimum(b)));
        yield return ("where", [
            new Row(typeof(Where), a => Tensor.Where(Mask(2, 3), a[0], a[1]), [[2, 3], [2, 3]]),
            new Row(typeof(Where), a => Tensor.Where(Mask(2, 3), a[0], a[1]), [[3], [2, 1]]),
            new Row(typeof(Where), a => Tensor.Where(Mask(3), a[0], a[1]), [[2, 3], []]),
        ]);
        // Through float32 and back: the function is linear, and float32 rounding limits the finite differences.
        yield return ("cast", [new Row(typeof(Cast), a => a[0].Cast(DType.Float32).Cast(DType.Float64) * a[0], [[2, 3]], Eps: 1e-2, Tol: 1e-5)]);
        yield return ("reduce_sum", Reductions(typeof(ReduceSum), (x, axes, keep) => x.Sum(axes, keep)));
        yield return ("reduce_mean", Reductions(typeof(ReduceMean), (x, axes, keep) => new ReduceMean(Ints.Of(axes ?? [.. Enumerable.Range(0, x.Rank)]), keep).Bind(x)));
        yield return ("reduce_max", Reductions(typeof(ReduceMax), (x, axes, keep) => x.Max(axes ?? [0, 1, 2], keep)));
        yield return ("reduce_min", Reductions(typeof(ReduceMin), (x, axes, keep) => x.Min(axes ?? [0, 1, 2], keep)));
        yield return ("mat_mul", [
            new Row(typeof(MatMul), a => a[0].MatMul(a[1]), [[2, 3], [3, 4]]),
            new Row(typeof(MatMul), a => a[0].MatMul(a[1]), [[2, 2, 3], [1, 3, 4]]),
            new Row(typeof(MatMul), a => a[0].MatMul(a[1]), [[2, 3], [2, 3, 2]]),
            new Row(typeof(MatMul), a => a[0].MatMul(a[1]), [[3], [3, 4]]),
        ]);
        yield return ("gemm", [
            new Row(typeof(Gemm), a => new Gemm(false, false).Bind(a[0], a[1], a[2]), [[2, 3], [3, 4], [4]]),
            new Row(typeof(Gemm), a => new Gemm(true, false).Bind(a[0], a[1], a[2]), [[3, 2], [3, 4], [2, 1]]),
            new Row(typeof(Gemm), a => new Gemm(false, true).Bind(a[0], a[1], a[2]), [[2, 3], [4, 3], [2, 4]]),
            new Row(typeof(Gemm), a => new Gemm(true, true).Bind(a[0], a[1], a[2]), [[3, 2], [4, 3], []]),
            new Row(typeof(Gemm), a => new Gemm(true, false, -0.25, 1).Bind(a[0], a[1], a[2]), [[3, 2], [3, 4], [2, 4]]),
            new Row(typeof(Gemm), a => new Gemm(false, true, 0.5, 0.75).Bind(a[0], a[1], a[2]), [[2, 3], [4, 3], [4]]),
        ]);
        yield return ("conv_general", [
            Conv([1, 1], [1, 1], [1, 1], [1, 1], [2, 2, 4, 4], [3, 2, 3, 3]),
            Conv([2, 1], [1, 0], [0, 2], [1, 1], [1, 2, 6, 5], [2, 2, 3, 2]),
            Conv([1, 2], [2, 0], [1, 1], [2, 1], [1, 2, 6, 6], [2, 2, 2, 3]),
            Conv([3], [0], [2], [1], [2, 1, 8], [2, 1, 2]),
            Conv([2, 2], [0, 0], [0, 0], [1, 1], [1, 1, 5, 5], [1, 1, 2, 2]),
            // Pads larger than the kernel's reach: negative pads in the input gradient's convolution become slices.
            Conv([1], [2], [0], [1], [1, 1, 4], [1, 1, 2]),
            Conv([1], [0], [3], [1], [1, 2, 3], [2, 2, 2]),
            // Feature groups: 2 groups strided and padded, depthwise (3 groups of one channel, 2 outputs each) dilated.
            Conv([2, 1], [1, 0], [0, 1], [1, 1], [2, 4, 5, 4], [6, 2, 3, 2], groups: 2),
            Conv([1, 1], [1, 1], [1, 1], [2, 1], [1, 3, 5, 4], [6, 1, 2, 2], groups: 3),
            // 16 input channels at stride 1: the kernel gradient as one product per kernel offset, the batch in two
            // halves (even batch) or whole (odd), padded and dilated.
            Conv([1, 1], [1, 1], [1, 1], [1, 1], [2, 16, 3, 3], [2, 16, 2, 2]),
            Conv([1, 1], [0, 1], [1, 0], [2, 1], [1, 16, 4, 3], [2, 16, 2, 2]),
            Conv([1], [1], [2], [1], [2, 16, 5], [3, 16, 3]),
            Conv([1, 1, 1], [1, 0, 0], [0, 1, 0], [1, 1, 1], [2, 16, 3, 2, 2], [2, 16, 2, 2, 1]),
        ]);
        yield return ("reshape", [
            new Row(typeof(Reshape), a => a[0].Reshape(3, 2), [[2, 3]]),
            new Row(typeof(Reshape), a => a[0].Reshape(1, 2, 3) * a[1], [[6], [4, 1, 1]]),
        ]);
        yield return ("transpose", [
            new Row(typeof(Transpose), a => a[0].Transpose(2, 0, 1), [[2, 3, 4]]),
            new Row(typeof(Transpose), a => a[0].Transpose() + a[1], [[2, 3], [3, 1]]),
        ]);
        yield return ("broadcast_to", [
            new Row(typeof(BroadcastTo), a => a[0].BroadcastTo(2, 3), [[3]]),
            new Row(typeof(BroadcastTo), a => a[0].BroadcastTo(2, 2, 3), [[2, 1]]),
            new Row(typeof(BroadcastTo), a => a[0].BroadcastTo(2, 3), [[]]),
        ]);
        yield return ("slice", [
            new Row(typeof(Slice), a => a[0].Slice([1, 0], [3, 4]), [[4, 5]]),
            new Row(typeof(Slice), a => a[0].Slice(-1, 1, -1) * a[0].Slice(-1, 0, 2), [[2, 3]]),
        ]);
        yield return ("pad", [new Row(typeof(Pad), a => new Pad(Ints.Of(1, 0), Ints.Of(0, 2)).Bind(a[0]), [[2, 3]])]);
        yield return ("concat", [
            new Row(typeof(Concat), a => Tensor.Concat(1, a[0], a[1], a[2]), [[2, 1], [2, 3], [2, 2]]),
            new Row(typeof(Concat), a => Tensor.Concat(0, a[0], a[0] * a[1]), [[2, 3], [3]]),
        ]);
        yield return ("gather", [
            new Row(typeof(Gather), a => a[0].Gather(Tensor.FromArray([0L, 2, 0, 3, 0])), [[4, 3]]),
            new Row(typeof(Gather), a => a[0].Gather(Tensor.FromArray([1L, 1, 0, 2], 2, 2), axis: 1), [[2, 3, 2]]),
            new Row(typeof(Gather), a => a[0].Gather(Tensor.FromArray([-1, 0, -1]), axis: 0), [[3]]),
        ]);
        yield return ("scatter_add", [
            new Row(typeof(ScatterAdd), a => new ScatterAdd().Bind(a[0], Tensor.FromArray([1L, 1, 3]), a[1]), [[4, 3], [3, 3]]),
        ]);
    }

    private static Row Conv(int[] strides, int[] low, int[] high, int[] dilation, int[] x, int[] w, int groups = 1) =>
        new(typeof(ConvGeneral), a => new ConvGeneral(Ints.Of(strides), Ints.Of(low), Ints.Of(high), Ints.Of(dilation), groups).Bind(a[0], a[1]), [x, w]);

    private static Row[] Reductions(Type t, Func<Tensor, int[]?, bool, Tensor> f) =>
    [
        .. new int[]?[] { [1], [0, 2], null }.SelectMany(axes => new[] { false, true }.Select(keep =>
            new Row(t, a => f(a[0], axes, keep), [[2, 3, 4]]))),
        new Row(t, a => f(a[0], [0], false) * a[1], [[3], []]),
    ];

    private static Tensor Mask(params int[] shape)
    {
        var rng = new Random(shape.Length * 31 + shape.Sum());
        return Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => rng.Next(2) == 1).ToArray(), shape);
    }

    private static readonly Dictionary<string, Row[]> Rows = Table().ToDictionary(r => r.Item1, r => r.Item2);

    public static IEnumerable<object[]> RowNames => Rows.Keys.Select(k => new object[] { k });

    /// <summary>Primitives with no gradient: integer, bool or piecewise-constant results, constants, and stop_gradient.</summary>
    private static readonly Type[] NoGradient =
    [
        typeof(Sign), typeof(Not), typeof(BitwiseNot), typeof(StopGradient),
        typeof(Equal), typeof(Less), typeof(LessEqual), typeof(Greater), typeof(GreaterEqual),
        typeof(BitwiseAnd), typeof(BitwiseOr), typeof(BitwiseXor), typeof(ShiftLeft), typeof(ShiftRight), typeof(And), typeof(Or),
        typeof(ArgMax), typeof(Literal), typeof(Full), typeof(Iota),
    ];

    [TestMethod]
    [DynamicData(nameof(RowNames))]
    public void VjpMatchesFiniteDifferences(string name)
    {
        var rows = Rows[name];
        var largest = 0.0;
        for (var r = 0; r < rows.Length; r++)
        {
            var row = rows[r];
            var rng = new Random(name.Length * 1000 + r);
            var xs = row.Shapes.Select((s, i) => Random(rng, s, row.Domains?[i] ?? Domain.Any)).ToArray();
            largest = Math.Max(largest, CheckVjp(row.Op, xs, seed: r, row.Eps, row.Tol, $"({name} row {r}: {string.Join(", ", xs.Select(x => x.Aval))})"));
        }
        Console.WriteLine($"{name}: largest scaled error {largest:e2}");
    }

    [TestMethod]
    public void RowsApplyTheirPrimitive()
    {
        foreach (var (name, rows) in Rows)
            foreach (var row in rows)
            {
                var xs = row.Shapes.Select(s => Random(new Random(1), s, Domain.Positive)).ToArray();
                var graph = Ir.Graph.Trace(a => [row.Op(a)], [.. xs.Select(x => x.Aval)]);
                graph.Nodes.Select(n => n.Op.GetType()).Should().Contain(row.Primitive, "row {0} must exercise {1}", name, row.Primitive.Name);
            }
    }

    [TestMethod]
    public void EveryPrimitiveIsCheckedOrHasNoGradient()
    {
        var checkedTypes = Rows.Values.SelectMany(r => r).Select(r => r.Primitive).ToHashSet();
        checkedTypes.Should().NotIntersectWith(NoGradient);
        OpRegistry.All.Select(p => p.GetType()).Should().BeSubsetOf(checkedTypes.Concat(NoGradient));
    }

    [TestMethod]
    public void PrimitivesWithoutGradientGiveNoCotangent()
    {
        var f = Tensor.FromArray([1.5, -2, 0], 3);
        var u = Tensor.FromArray(new uint[] { 1, 2, 3 }, 3);
        var b = Tensor.FromArray([true, false, true], 3);
        var samples = new (Primitive Op, Tensor[] Inputs)[]
        {
            (new Sign(), [f]), (new Not(), [b]), (new BitwiseNot(), [u]), (new StopGradient(), [f]),
            (new Equal(), [f, f]), (new Less(), [f, f]), (new LessEqual(), [f, f]), (new Greater(), [f, f]), (new GreaterEqual(), [f, f]),
            (new BitwiseAnd(), [u, u]), (new BitwiseOr(), [u, u]), (new BitwiseXor(), [u, u]), (new ShiftLeft(), [u, u]), (new ShiftRight(), [u, u]),
            (new And(), [b, b]), (new Or(), [b, b]), (new ArgMax(0, false), [f]), (new Cast(DType.Int64), [f]),
            (new Literal(HostArray.Scalar(DType.Float64, 1)), []), (new Full(Shape.Of(2), DType.Float64, 1), []), (new Iota(Shape.Of(2), DType.Float64, 0), []),
        };
        samples.Select(s => s.Op.GetType()).Should().Contain(NoGradient);
        foreach (var (op, inputs) in samples)
        {
            var y = op.Bind(inputs);
            var cts = op.Vjp(inputs, y, Tensor.OnesLike(y));
            cts.Should().HaveCount(inputs.Length, "{0} has one entry per operand", op);
            cts.Where(c => c is not null).Should().BeEmpty("{0} has no gradient", op);
        }
    }

    [TestMethod]
    public void GradientThroughStopGradientIsZero()
    {
        var x = Tensor.FromArray([1.0, 2, 3]);
        var g = Autodiff.Grad(a => (a * a.StopGradient()).Sum())(x);
        g.ToArray<double>().Should().Equal(1, 2, 3);
        Autodiff.Grad(a => a.StopGradient().Sum())(x).ToArray<double>().Should().Equal(0, 0, 0);
    }
}
