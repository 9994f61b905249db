using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// Clusters of float32 elementwise nodes fused in process into one <see cref="NnxCpuOps.Elementwise"/> node: which nodes
/// fuse (golden op lists before and after), and that a fused model gives bit for bit what ONNX Runtime's separate nodes
/// give, special values included, on 1 and 2 threads.
/// </summary>
[TestClass]
public sealed class ElementwiseFusionTests
{
    private static readonly string Fused = $"{NnxCpuOps.Domain}:{NnxCpuOps.Elementwise}";

    private static string[] Ops(Graph graph, bool inProcess) =>
        [.. OnnxLowering.ToModel(graph, inProcess: inProcess).Graph.Node.Select(n => n.Domain.Length > 0 ? $"{n.Domain}:{n.OpType}" : n.OpType)];

    /// <summary>The in-process ops when Nnx's kernels are registered; else (no ORT handles reached) the exported ones.</summary>
    private static string[] Expect(Graph graph, params string[] fused) => CpuKernels.Available ? fused : Ops(graph, inProcess: false);

    private static Aval F32(params int[] dims) => Aval.F32(dims);

    [TestMethod]
    public void ABatchNormsForwardChainBecomesOneNode()
    {
        var graph = Graph.Trace((x, m, s) => ((x - m) * s + 1.0).Relu(), F32(32, 64), F32(64), F32(64));
        Ops(graph, inProcess: false).Should().Equal(["Sub", "Mul", "Add", "Relu"], "an exported file is standard ONNX");
        Ops(graph, inProcess: true).Should().Equal(Expect(graph, Fused));
    }

    [TestMethod]
    public void AComparisonIsComputedInsideTheClusterThatReadsItsMask()
    {
        var masked = Graph.Trace((x, g) => Tensor.Where(x > 0.0, g, 0.0) * x, F32(16, 32), F32(16, 32));
        Ops(masked, inProcess: true).Should().Equal(Expect(masked, Fused), "no bool tensor is written");

        // The mask is also a result of the graph: the comparison stays as a node for it, and is recomputed in the cluster.
        var kept = Graph.Trace(a => { var m = a[0] > 0.0; return [Tensor.Where(m, a[1], 0.0) * a[0], m]; }, F32(16, 32), F32(16, 32));
        var ops = Ops(kept, inProcess: true);
        if (CpuKernels.Available) ops.Should().BeEquivalentTo([Fused, "Greater"]);
    }

    [TestMethod]
    public void AComparisonThatTwoClustersReadIsInBothAndEachNodeKeepsItsOwnName()
    {
        // clip_by_global_norm's shape: one scalar test selects in two tensors of different shapes, so two clusters each
        // recompute it. Both fused nodes were named after it, and compiling the graph failed on the repeated name.
        var graph = Graph.Trace(a =>
        {
            var norm = (a[0].Square().Sum() + a[1].Square().Sum()).Sqrt();
            var small = norm < 0.5;
            return [Tensor.Where(small, a[0], a[0] / norm * 0.5), Tensor.Where(small, a[1], a[1] / norm * 0.5)];
        }, F32(16, 32), F32(32));
        var model = OnnxLowering.ToModel(graph, inProcess: true);
        model.Graph.Node.Select(n => n.Name).Should().OnlyHaveUniqueItems();
        if (CpuKernels.Available) model.Graph.Node.Count(n => n.OpType == NnxCpuOps.Elementwise).Should().BeGreaterThanOrEqualTo(2);
        AssertSameBits(graph, [Values(F32(16, 32), 1), Values(F32(32), 2)]);
    }

    [TestMethod]
    public void AReductionBetweenTwoNodesKeepsThemApart()
    {
        // y = 2x; z = y − Σ₀y: z's cluster would need the sum, which needs y: y and z cannot be one node.
        var graph = Graph.Trace(x => { var y = x * 2.0; return (y - y.Sum(0)) * y; }, F32(64, 64));
        var ops = Ops(graph, inProcess: true);
        if (!CpuKernels.Available) return;
        ops.Count(o => o == Fused).Should().Be(2, "y alone (4 096 elements), then z's two nodes: {0}", string.Join(", ", ops));
        ops.Should().NotContain(["Mul", "Sub", $"{NnxCpuOps.Domain}:{NnxCpuOps.ColumnSums}"], "Σ₀y is computed with y, and z reads it");
        AssertSameBits(graph, [Values(F32(64, 64), 1)]);
    }

    [TestMethod]
    public void AColumnSumOfAClusterValueIsComputedInsideIt()
    {
        // A BatchNorm's variance: the squares are summed as they are computed, and never written.
        Func<Tensor[], Tensor[]> variance = a => { var y = a[0] * a[1] + 1.0; return [(y * y).Sum(0), y.Relu()]; };
        var graph = Graph.Trace(variance, F32(32, 128), F32(128));
        Ops(graph, inProcess: false).Should().Equal(["Mul", "Add", "Mul", "ReduceSum", "Relu"]);
        Ops(graph, inProcess: true).Should().Equal(Expect(graph, Fused), "the sum runs in the cluster that computes its operand");
        AssertSameBits(graph, [Values(F32(32, 128), 11, hard: true), Values(F32(128), 12, hard: true)]);

        // Rows of 48, two to a chunk: the sums add a chunk's rows one after another, as they add separate rows.
        var shortRows = Graph.Trace(variance, F32(63, 48), F32(48));
        Ops(shortRows, inProcess: true).Should().Equal(Expect(shortRows, Fused));
        AssertSameBits(shortRows, [Values(F32(63, 48), 19, hard: true), Values(F32(48), 20)]);

        // 64 × 2 048: several blocks, each all the rows of a range of columns; and a sum over two leading axes.
        var wide = Graph.Trace(variance, F32(64, 2048), F32(2048));
        Ops(wide, inProcess: true).Should().Equal(Expect(wide, Fused));
        AssertSameBits(wide, [Values(F32(64, 2048), 13, hard: true), Values(F32(2048), 14)]);
        var twoAxes = Graph.Trace(a => [(a[0] * a[0] - a[1]).Sum([0, 1])], F32(4, 8, 100), F32(100));
        Ops(twoAxes, inProcess: true).Should().Equal(Expect(twoAxes, Fused));
        AssertSameBits(twoAxes, [Values(F32(4, 8, 100), 15, hard: true), Values(F32(100), 16)]);

        // A sum into a matrix stays a ColumnSums node; so does a sum whose operand no cluster computes or reads.
        var matrix = Graph.Trace(a => [(a[0] * a[0]).Sum(0)], F32(4, 8, 100));
        Ops(matrix, inProcess: true).Should().Equal(Expect(matrix, Fused, $"{NnxCpuOps.Domain}:{NnxCpuOps.ColumnSums}"));
        AssertSameBits(matrix, [Values(F32(4, 8, 100), 17)]);
        var alone = Graph.Trace(a => [a[0].Sum(0), a[1] * 2.0], F32(32, 128), F32(32, 128));
        Ops(alone, inProcess: true).Should().BeEquivalentTo(Expect(alone, $"{NnxCpuOps.Domain}:{NnxCpuOps.ColumnSums}", Fused));

        // A sum of an input that a cluster reads runs in that cluster.
        var input = Graph.Trace(a => [a[0].Sum(0), a[0] * 2.0], F32(32, 128));
        Ops(input, inProcess: true).Should().Equal(Expect(input, Fused));
        AssertSameBits(input, [Values(F32(32, 128), 18, hard: true)]);
    }

    /// <summary>A bias's SGD step as the passes leave it: the Gemm of a row of −lr with the cluster's gradient onto the bias, reshaped to a vector.</summary>
    private static Graph WeightedSum(int rows, int columns, bool withC, bool rowInput = true, double alpha = 1, double beta = 1)
    {
        var (x, s, c) = (new Value(F32(rows, columns)), new Value(F32(columns)), new Value(F32(columns)));
        var row = rowInput ? null : Node.Create(new NnxSharp.Primitives.Literal(HostArray.Full(DType.Float32, Shape.Of(1, rows), -0.01)), []);
        var w = row?.Output ?? new Value(F32(1, rows));
        var y = Node.Create(new NnxSharp.Primitives.Mul(), [x, s]);
        var gemm = Node.Create(new NnxSharp.Primitives.Gemm(false, false, alpha, withC ? beta : 0), [w, y.Output, c]); // β = 0: C is not read
        var vector = Node.Create(new NnxSharp.Primitives.Reshape(Shape.Of(columns)), [gemm.Output]);
        Node[] nodes = row is null ? [y, gemm, vector] : [row, y, gemm, vector];
        Value[] inputs = rowInput ? [x, s, c, w] : [x, s, c];
        return new Graph([.. inputs], [.. nodes], [vector.Output, y.Output]);
    }

    [TestMethod]
    public void ARowTimesAClusterValueOntoAVectorIsComputedInsideIt()
    {
        foreach (var (rows, columns) in new[] { (32, 512), (7, 100), (2, 33), (64, 2048), (1, 4096), (1, 1), (7, 20), (13, 9) })
            foreach (var (withC, rowInput) in new[] { (true, true), (false, true), (true, false) })
            {
                var graph = WeightedSum(rows, columns, withC, rowInput);
                var ops = Ops(graph, inProcess: true);
                if (CpuKernels.Available) ops.Should().Equal([Fused], "the Gemm and its Reshape go into the cluster at [{0}, {1}]", rows, columns);
                HostArray[] values = [Values(F32(rows, columns), 21, hard: true), Values(F32(columns), 22), Values(F32(columns), 23, hard: true), Values(F32(1, rows), 24)];
                AssertSameBits(graph, rowInput ? values : values[..3],
                    $"[{rows}, {columns}] {(withC ? "onto C" : "without C")}: ");
            }
    }

    /// <summary>
    /// A BatchNorm's running average, <c>β·m + α·Σᵣ xᵣ</c> as one Gemm of a row of ones (α = (1 − momentum) / batch), and
    /// the other α and β that MLAS's general kernel takes: fused with the bits of ONNX Runtime's Gemm, up to 128 rows.
    /// </summary>
    [TestMethod]
    public void AScaledRowTimesAClusterValueIsComputedInsideItUpTo128Rows()
    {
        foreach (var (rows, columns) in new[] { (32, 512), (7, 100), (2, 33), (128, 2048), (1, 4096), (129, 48), (1, 1), (7, 20), (13, 9) })
            foreach (var (withC, rowInput, alpha, beta) in new[] { (true, true, 0.0003125, 0.99), (true, false, 0.0003125, 0.99), (true, true, -0.01, 1.0), (false, true, 0.5, 1.0), (true, true, 3.0, 0.0) })
            {
                var graph = WeightedSum(rows, columns, withC, rowInput, alpha, beta);
                var ops = Ops(graph, inProcess: true);
                var fits = rows <= ElementwiseProgram.MaxScaledSumRows && System.Runtime.Intrinsics.X86.Fma.IsSupported;
                if (CpuKernels.Available && fits) ops.Should().Equal([Fused], "the scaled Gemm and its Reshape go into the cluster at [{0}, {1}]", rows, columns);
                if (CpuKernels.Available && !fits) ops.Should().Contain("Gemm", "MLAS sums {0} rows in more than one block", rows);
                HostArray[] values = [Values(F32(rows, columns), 31, hard: true), Values(F32(columns), 32), Values(F32(columns), 33, hard: true), Values(F32(1, rows), 34)];
                AssertSameBits(graph, rowInput ? values : values[..3], $"[{rows}, {columns}] α {alpha} β {beta} {(withC ? "onto C" : "without C")}: ");
            }
    }

    /// <summary>A sum of a value that no cluster computes (a product, a graph input) joins the cluster that reads the value.</summary>
    [TestMethod]
    public void ASumOfAValueAClusterReadsIsComputedInsideThatCluster()
    {
        var (x, m, s, c) = (new Value(F32(32, 512)), new Value(F32(512)), new Value(F32(512)), new Value(F32(512)));
        var ones = Node.Create(new NnxSharp.Primitives.Literal(HostArray.Full(DType.Float32, Shape.Of(1, 32), 1)), []);
        var centred = Node.Create(new NnxSharp.Primitives.Sub(), [x, m]);
        var scaled = Node.Create(new NnxSharp.Primitives.Mul(), [centred.Output, s]);
        var average = Node.Create(new NnxSharp.Primitives.Gemm(false, false, 0.0003125, 0.99), [ones.Output, x, c]);
        var vector = Node.Create(new NnxSharp.Primitives.Reshape(Shape.Of(512)), [average.Output]);
        var graph = new Graph([x, m, s, c], [ones, centred, scaled, average, vector], [scaled.Output, vector.Output]);
        if (CpuKernels.Available && System.Runtime.Intrinsics.X86.Fma.IsSupported)
            Ops(graph, inProcess: true).Should().Equal([Fused], "the running average of x joins the cluster that reads x");
        AssertSameBits(graph, [Values(F32(32, 512), 41, hard: true), Values(F32(512), 42), Values(F32(512), 43), Values(F32(512), 44, hard: true)]);
    }

    [TestMethod]
    public void OperandsFuseAsRowsColumnsAndScalarsOnly()
    {
        // [4, 8, 16] with a row [8, 16], a column [4, 1, 1] and a scalar: split after axis 0.
        var fits = Graph.Trace((x, r, c) => (x * r + c) * 0.5, F32(4, 8, 16), F32(8, 16), F32(4, 1, 1));
        Ops(fits, inProcess: true).Should().Equal(Expect(fits, Fused));
        AssertSameBits(fits, [Values(F32(4, 8, 16), 2), Values(F32(8, 16), 3), Values(F32(4, 1, 1), 4)]);

        // Rows of 6 go 21 to a chunk (the last chunk one row): the row repeated down it, the column filled row by row.
        var shortRows = Graph.Trace((x, r, c) => (x * r + c) * 0.5, F32(400, 6), F32(6), F32(400, 1));
        Ops(shortRows, inProcess: true).Should().Equal(Expect(shortRows, Fused));
        AssertSameBits(shortRows, [Values(F32(400, 6), 7, hard: true), Values(F32(6), 8), Values(F32(400, 1), 9)]);

        // [4, 1, 16] against [4, 8, 16] is neither a row nor a column at any split.
        var odd = Graph.Trace((x, y) => (x * y).Relu(), F32(4, 8, 16), F32(4, 1, 16));
        var ops = Ops(odd, inProcess: true);
        ops.Should().StartWith("Mul", "the product's operands have no layout of the kernel");
        AssertSameBits(odd, [Values(F32(4, 8, 16), 5), Values(F32(4, 1, 16), 6)]);
    }

    [TestMethod]
    public void ASmallLoneNodeStaysOnnxRuntimesAndAFloat64ChainIsNotFused()
    {
        var small = Graph.Trace((x, y) => x + y, F32(4), F32(4));
        Ops(small, inProcess: true).Should().Equal(["Add"], "below 2 048 elements ORT's own kernel is as fast");
        var large = Graph.Trace((x, y) => x + y, F32(64, 64), F32(64, 64));
        Ops(large, inProcess: true).Should().Equal(Expect(large, Fused));
        var f64 = Graph.Trace((x, y) => (x * y + 1.0).Relu(), new Aval(Shape.Of(64, 64), DType.Float64), new Aval(Shape.Of(64, 64), DType.Float64));
        Ops(f64, inProcess: true).Should().Equal(["Mul", "Add", "Relu"], "the kernel is float32");
    }

    /// <summary>Every operation of the kernel, on values with NaN, ±∞, ±0, subnormals and ties, at shapes that cut chunks and vectors.</summary>
    [TestMethod]
    public void EveryOperationGivesTheBitsOfOnnxRuntimesOwnKernel()
    {
        Func<Tensor[], Tensor[]>[] programs =
        [
            a => [a[0] + a[1], a[0] - a[1], a[0] * a[1], a[0] / a[1]],
            a => [-a[0], a[0].Abs(), a[0].Sqrt(), a[0].Rsqrt(), a[0].Reciprocal(), a[0].Relu()],
            a => [Tensor.Where(a[0] > a[1], a[0], a[1]) * 1.0, Tensor.Where(a[0] < a[1], a[0], 0.0) + 0.0, Tensor.Where(a[0].Equal(a[1]), a[1], -a[0])],
            a => [Tensor.Where(a[0] >= a[1], a[1], a[0]) - 1.0, Tensor.Where(a[0] <= a[1], 2.0, a[0]) * a[1]],
            a => [((a[0] - a[1].Sum(0)) * a[1] + 0.5).Relu() / (a[1].Abs() + 1e-5).Sqrt()],
        ];
        foreach (var shape in new[] { Shape.Of(3, 1001), Shape.Of(5, 20000), Shape.Of(1, 70001), Shape.Of(7) })
            for (var k = 0; k < programs.Length; k++)
            {
                var program = programs[k];
                var graph = Graph.Trace(program, new Aval(shape, DType.Float32), new Aval(shape, DType.Float32));
                AssertSameBits(graph, [Values(new Aval(shape, DType.Float32), 7, hard: true), Values(new Aval(shape, DType.Float32), 8, hard: true)], $"program {k} at {shape}: ");
            }
    }

    [TestMethod]
    public void ABadProgramOrOperandFailsWithTheShapesInsteadOfCrashing()
    {
        if (!CpuKernels.Available) return;
        // y = x₀ + x₁ over [2, 3], both operands whole.
        long[] program = [1, 2, 1, 1, 2, 2, 3, 1, 6, 0, 0, (long)ElementwiseOp.Add, 0, 1, -1, 2];
        using OrtValue p = OrtValue.CreateTensorValueFromMemory(program, [program.Length]),
            x = OrtValue.CreateTensorValueFromMemory(new float[6], [2, 3]), shortOperand = OrtValue.CreateTensorValueFromMemory(new float[5], [5]);
        (string, Aval, OrtValue) Program(OrtValue v) => ("p", new Aval(Shape.Of((int)v.GetTensorTypeAndShape().Shape[0]), DType.Int64), v);
        var output = new[] { ("y", F32(2, 3)) };
        OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(p), ("a", F32(2, 3), x), ("b", F32(2, 3), x)], output)[0].Should().Equal(new float[6]);

        var wrongSize = () => OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(p), ("a", F32(2, 3), x), ("b", F32(5), shortOperand)], output);
        wrongSize.Should().Throw<OnnxRuntimeException>().WithMessage("*Elementwise*operand 1 is f32[5]*reads 6 float32 element(s)*[2,3]*");

        var missing = () => OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(p), ("a", F32(2, 3), x)], output);
        missing.Should().Throw<OnnxRuntimeException>().WithMessage("*reads 2 tensor(s)*the node has 1*");

        long[] forward = [1, 1, 1, 1, 2, 2, 3, 1, 6, 0, (long)ElementwiseOp.Add, 0, 2, -1, 1];
        using OrtValue f = OrtValue.CreateTensorValueFromMemory(forward, [forward.Length]);
        var reads = () => OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(f), ("a", F32(2, 3), x)], output);
        reads.Should().Throw<OnnxRuntimeException>().WithMessage("*instruction 0 (Add) reads register 2*");

        // A column sum must scale by a scalar operand, be an output, and be read by nothing in its program.
        long[] sumByWhole = [1, 2, 1, 1, 2, 2, 3, 1, 6, 0, 0, (long)ElementwiseOp.ColumnSum, 0, 1, -1, 2];
        long[] sumRead = [1, 2, 1, 2, 2, 2, 3, 1, 6, 0, 3, (long)ElementwiseOp.ColumnSum, 0, 1, -1, (long)ElementwiseOp.Add, 2, 0, -1, 3];
        long[] sumDropped = [1, 2, 1, 2, 2, 2, 3, 1, 6, 0, 3, (long)ElementwiseOp.ColumnSum, 0, 1, -1, (long)ElementwiseOp.Neg, 0, -1, -1, 3];
        using OrtValue scale = OrtValue.CreateTensorValueFromMemory(new[] { 0.5f }, []);
        foreach (var (bad, message) in new[] { (sumByWhole, "*(ColumnSum) scales by register 1, which is not a scalar operand*"),
                     (sumRead, "*instruction 1 reads the column sum of instruction 0*"), (sumDropped, "*column sum of instruction 0 is not an output*") })
        {
            using OrtValue v = OrtValue.CreateTensorValueFromMemory(bad, [bad.Length]);
            var run = () => OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(v), ("a", F32(2, 3), x), ("s", bad[10] == 0 ? F32(2, 3) : F32(), bad[10] == 0 ? x : scale)], output);
            run.Should().Throw<OnnxRuntimeException>().WithMessage(message);
        }

        // A scaled weighted sum needs its SumScales right after it, with two scalar operands, and at most 128 rows.
        long[] noScales = [1, 3, 1, 1, 2, 2, 3, 2, 3, 0, 2, 3, (long)ElementwiseOp.ScaledWeightedColumnSum, 0, 1, -1, 3];
        long[] wholeScales = [1, 3, 1, 2, 2, 2, 3, 2, 3, 0, 2, 3, (long)ElementwiseOp.ScaledWeightedColumnSum, 0, 1, -1, (long)ElementwiseOp.SumScales, 0, 2, -1, 3];
        long[] scalesAlone = [1, 3, 1, 2, 2, 2, 3, 2, 3, 0, 2, 3, (long)ElementwiseOp.Neg, 0, -1, -1, (long)ElementwiseOp.SumScales, 2, 2, -1, 3];
        long[] tooManyRows = [1, 3, 1, 2, 2, 129, 1, 129, 1, 0, 2, 3, (long)ElementwiseOp.ScaledWeightedColumnSum, 0, 1, -1, (long)ElementwiseOp.SumScales, 2, 2, -1, 3];
        foreach (var (bad, message) in new[] { (noScales, "*(ScaledWeightedColumnSum) is not followed by its SumScales*"),
                     (wholeScales, "*(SumScales) reads registers 0 and 2, which are not both scalar operands*"),
                     (scalesAlone, "*(SumScales) does not follow a ScaledWeightedColumnSum*"), (tooManyRows, "*sums 129 rows*at most 128*") })
        {
            using OrtValue v = OrtValue.CreateTensorValueFromMemory(bad, [bad.Length]);
            var (rows, columns) = ((int)bad[5], (int)bad[6]);
            using OrtValue matrix = OrtValue.CreateTensorValueFromMemory(new float[rows * columns], [rows, columns]), weights = OrtValue.CreateTensorValueFromMemory(new float[rows], [rows, 1]);
            var run = () => OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(v), ("a", F32(rows, columns), matrix), ("w", F32(rows, 1), weights), ("s", F32(), scale)], [("y", F32(columns))]);
            run.Should().Throw<OnnxRuntimeException>().WithMessage(message);
        }

        // An unknown operation, and an Add without its second operand, fail before any block runs (on ORT's threads an
        // exception would end the process).
        foreach (var (bad, message) in new[] { ((long)99, "*unknown operation 99*"), ((long)ElementwiseOp.Add, "*(Add) reads register -1*") })
        {
            long[] code = [1, 1, 1, 1, 2, 2, 3, 1, 6, 0, bad, 0, -1, -1, 1];
            using OrtValue v = OrtValue.CreateTensorValueFromMemory(code, [code.Length]);
            var run = () => OwnKernelModel.Run(NnxCpuOps.Elementwise, [Program(v), ("a", F32(2, 3), x)], output);
            run.Should().Throw<OnnxRuntimeException>().WithMessage(message);
        }
    }

    /// <summary>
    /// Runs <paramref name="graph"/> in process (fused), with its programs interpreted and compiled, and as the exported
    /// model in a plain session, and compares every bit (compiled, a NaN for a NaN).
    /// </summary>
    private static void AssertSameBits(Graph graph, HostArray[] inputs, string what = "")
    {
        var expected = RunExported(graph, inputs);
        var operands = inputs.Select(x => x.ToDoubles()).ToArray();
        foreach (var (threads, compilation) in new[] { (1, CpuKernels.ElementwiseCompilation.Never), (2, CpuKernels.ElementwiseCompilation.Never),
                     (1, CpuKernels.ElementwiseCompilation.AtFirstRun), (2, CpuKernels.ElementwiseCompilation.AtFirstRun) })
        {
            var compiledRuns = CpuKernels.CompiledElementwiseRuns;
            double[][] actual;
            try
            {
                CpuKernels.Compilation = compilation;
                actual = PackedGemmTests.RunOnCpu(graph, inputs, threads);
            }
            finally
            {
                CpuKernels.Compilation = CpuKernels.ElementwiseCompilation.Tiered;
            }
            var fused = OnnxLowering.ToModel(graph, inProcess: true).Graph.Node.Count(n => n.Domain == NnxCpuOps.Domain && n.OpType == NnxCpuOps.Elementwise);
            if (CpuKernels.Available && CpuKernels.CanCompileElementwise)
                (CpuKernels.CompiledElementwiseRuns - compiledRuns).Should().Be(compilation == CpuKernels.ElementwiseCompilation.Never ? 0 : fused,
                    "{0}each fused node runs its compiled program when compiled at its first run", what);
            var how = $"{what}{(compilation == CpuKernels.ElementwiseCompilation.Never ? "interpreted" : "compiled")}: ";
            for (var o = 0; o < expected.Length; o++)
            {
                actual[o].Length.Should().Be(expected[o].Length);
                for (var i = 0; i < expected[o].Length; i++)
                {
                    var (bits, want) = (BitConverter.SingleToInt32Bits((float)actual[o][i]), BitConverter.SingleToInt32Bits(expected[o][i]));
                    if (bits == want) continue;
                    // Compiled, a NaN may come out with another sign or payload (CpuKernels.ElementwiseCompiler.cs).
                    if (compilation != CpuKernels.ElementwiseCompilation.Never && double.IsNaN(actual[o][i]) && float.IsNaN(expected[o][i])) continue;
                    var at = string.Join(", ", operands.Select(x => x.Length == expected[o].Length ? $"{BitConverter.SingleToInt32Bits((float)x[i]):x8}" : "…"));
                    bits.Should().Be(want, "{0}output {1} element {2} on {3} threads is {4} in process and {5} in ONNX Runtime's nodes (operands {6})",
                        how, o, i, threads, actual[o][i], expected[o][i], at);
                }
            }
        }
    }

    private static float[][] RunExported(Graph graph, HostArray[] inputs)
    {
        using var session = new InferenceSession(OnnxLowering.ToBytes(graph));
        var values = inputs.Select(OwnKernelModel.Float32).ToArray();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [.. graph.Inputs.Select((_, i) => $"x{i}")], values, [.. graph.Outputs.Select((_, i) => $"y{i}")]);
            return [.. results.Select(r => r.GetTensorDataAsSpan<float>().ToArray())];
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Uniform values; with <paramref name="hard"/>, one in four is NaN, ±∞, ±0, a subnormal, 1 or −1.</summary>
    internal static HostArray Values(Aval aval, int seed, bool hard = false)
    {
        var r = new Random(seed);
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -1e-40f, 1f, -1f];
        return HostArray.FromDoubles(DType.Float32, aval.Shape, [.. Enumerable.Range(0, aval.Shape.Size).Select(_ =>
            hard && r.Next(4) == 0 ? special[r.Next(special.Length)] : (double)(float)(r.NextDouble() * 4 - 2))]);
    }
}
