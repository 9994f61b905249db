using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// Elementwise programs compiled to IL (CpuKernels.ElementwiseCompiler.cs) against the interpreter, bit for bit (a NaN
/// for a NaN, whatever its sign and payload): random
/// programs of every instruction and operand layout, with sums, at shapes that cut every vector width; and the tiers a
/// node goes through in a session. The graph-level tests (<see cref="ElementwiseFusionTests"/>) run every fused cluster
/// both ways against ONNX Runtime's separate nodes.
/// </summary>
[TestClass]
public sealed unsafe class ElementwiseCompilerTests
{
    private static readonly ElementwiseOp[] Binary = [ElementwiseOp.Add, ElementwiseOp.Sub, ElementwiseOp.Mul, ElementwiseOp.Div];
    private static readonly ElementwiseOp[] Unary = [ElementwiseOp.Neg, ElementwiseOp.Abs, ElementwiseOp.Sqrt, ElementwiseOp.Reciprocal, ElementwiseOp.Relu];
    private static readonly ElementwiseOp[] Comparisons = [ElementwiseOp.Greater, ElementwiseOp.Less, ElementwiseOp.GreaterOrEqual, ElementwiseOp.LessOrEqual, ElementwiseOp.Equal];

    [TestMethod]
    public void RandomProgramsGiveTheInterpretersBits()
    {
        if (!CpuKernels.CanCompileElementwise) Assert.Inconclusive("this runtime or CPU does not compile programs");
        var shapes = new (long Rows, long Columns)[] { (1, 1), (3, 7), (2, 8), (5, 15), (4, 16), (7, 17), (32, 33), (6, 100), (1, 40000), (33, 512), (130, 24) };
        var random = new Random(17);
        foreach (var (rows, columns) in shapes)
            for (var k = 0; k < 40; k++)
            {
                var program = RandomProgram(random, rows, columns);
                AssertSameBits(program, random, $"program {k} at [{rows}, {columns}] ([{string.Join(", ", program)}])");
            }
        // Programs as large as the fusion pass makes them: up to 32 operands and 64 instructions, each a local of every width.
        for (var k = 0; k < 10; k++)
        {
            var program = RandomProgram(random, 9, 37, operands: CpuKernels.MaxFusedInputs - 3, instructions: CpuKernels.MaxFusedInstructions - 2);
            AssertSameBits(program, random, $"large program {k} ([{string.Join(", ", program)}])");
        }
    }

    [TestMethod]
    public void ANodeRunsInterpretedThenCompiledInTheBackground()
    {
        if (!CpuKernels.Available || !CpuKernels.CanCompileElementwise) Assert.Inconclusive("Nnx's CPU kernels are not registered, or programs are not compiled here");
        var graph = Graph.Trace(a => [((a[0] - a[1]) * a[1] + 0.5).Relu(), (a[0] * a[1]).Sum(0)], Aval.F32(16, 40), Aval.F32(16, 40));
        HostArray[] inputs = [ElementwiseFusionTests.Values(Aval.F32(16, 40), 3, hard: true), ElementwiseFusionTests.Values(Aval.F32(16, 40), 4)];
        CpuKernels.Compilation.Should().Be(CpuKernels.ElementwiseCompilation.Tiered, "the default");
        using var exe = OrtBackend.Cpu.Compile(graph);
        var buffers = inputs.Select(OrtBackend.Cpu.Upload).ToArray();
        double[][] Run()
        {
            var outputs = exe.Run(buffers);
            var values = outputs.Select(o => OrtBackend.Cpu.Download(o).ToDoubles()).ToArray();
            foreach (var o in outputs) o.Dispose();
            return values;
        }
        var before = CpuKernels.CompiledElementwiseRuns;
        var first = Run();
        for (var run = 1; run < CpuKernels.TieredRuns; run++) Run().Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
        CpuKernels.CompiledElementwiseRuns.Should().Be(before, "the first runs are interpreted");
        // The compilation was queued at the last of them, on a pool thread: within a few seconds the node runs it.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (CpuKernels.CompiledElementwiseRuns == before && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            Run().Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
            Thread.Sleep(10);
        }
        CpuKernels.CompiledElementwiseRuns.Should().BeGreaterThan(before, "the node runs its compiled program once it is ready");
        Run().Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
        foreach (var b in buffers) b.Dispose();
    }

    [TestMethod]
    public void NeverCompilesWhenToldNot()
    {
        if (!CpuKernels.Available) Assert.Inconclusive("Nnx's CPU kernels are not registered");
        var graph = Graph.Trace(a => [(a[0] * 3.0 - a[1]).Abs()], Aval.F32(8, 24), Aval.F32(8, 24));
        HostArray[] inputs = [ElementwiseFusionTests.Values(Aval.F32(8, 24), 5), ElementwiseFusionTests.Values(Aval.F32(8, 24), 6)];
        var before = CpuKernels.CompiledElementwiseRuns;
        try
        {
            CpuKernels.Compilation = CpuKernels.ElementwiseCompilation.Never;
            for (var run = 0; run < 3 * CpuKernels.TieredRuns; run++) PackedGemmTests.RunOnCpu(graph, inputs, threads: 1);
        }
        finally
        {
            CpuKernels.Compilation = CpuKernels.ElementwiseCompilation.Tiered;
        }
        CpuKernels.CompiledElementwiseRuns.Should().Be(before);
    }

    /// <summary>
    /// A valid program over [rows, columns]: operands of every layout, instructions reading earlier registers (a mask only
    /// from a comparison, as the fusion pass writes them), and column sums of each kind.
    /// </summary>
    private static long[] RandomProgram(Random random, long rows, long columns, int operands = 0, int instructions = 0)
    {
        var modes = new List<long> { ElementwiseProgram.Full, ElementwiseProgram.Scalar, ElementwiseProgram.Scalar };
        for (var i = operands > 0 ? operands : random.Next(1, 4); i > 0; i--) modes.Add(random.Next(4));
        var code = new List<long[]>();
        var values = Enumerable.Range(0, modes.Count).ToList(); // registers an instruction may read
        var masks = new List<int>();
        var sums = new List<int>();
        int Any() => values[random.Next(values.Count)];
        int Input(params long[] wanted)
        {
            var fits = Enumerable.Range(0, modes.Count).Where(i => wanted.Contains(modes[i])).ToArray();
            return fits[random.Next(fits.Length)];
        }
        var count = instructions > 0 ? instructions : random.Next(1, 12);
        for (var j = 0; j < count && code.Count < count; j++)
        {
            var register = modes.Count + code.Count;
            var kind = random.Next(10);
            if (kind < 3) code.Add([(long)Binary[random.Next(Binary.Length)], Any(), Any(), -1]);
            else if (kind < 5) code.Add([(long)Unary[random.Next(Unary.Length)], Any(), -1, -1]);
            else if (kind < 6) { code.Add([(long)Comparisons[random.Next(Comparisons.Length)], Any(), Any(), -1]); masks.Add(register); continue; }
            else if (kind < 7 && masks.Count > 0)
                code.Add(random.Next(2) == 0 ? [(long)ElementwiseOp.Where, masks[random.Next(masks.Count)], Any(), Any()] : [(long)ElementwiseOp.SelectOrZero, masks[random.Next(masks.Count)], Any(), -1]);
            else if (kind < 8) { code.Add([(long)ElementwiseOp.ColumnSum, Any(), Input(ElementwiseProgram.Scalar), -1]); sums.Add(register); continue; }
            else if (kind < 9)
            {
                long c = random.Next(3) == 0 ? -1 : Input(ElementwiseProgram.Row, ElementwiseProgram.Scalar);
                code.Add([(long)ElementwiseOp.WeightedColumnSum, Any(), Input(ElementwiseProgram.Column, ElementwiseProgram.Scalar), c]);
                sums.Add(register);
                continue;
            }
            else if (rows <= ElementwiseProgram.MaxScaledSumRows)
            {
                long c = random.Next(3) == 0 ? -1 : Input(ElementwiseProgram.Row, ElementwiseProgram.Scalar);
                code.Add([(long)ElementwiseOp.ScaledWeightedColumnSum, Any(), Input(ElementwiseProgram.Column, ElementwiseProgram.Scalar), c]);
                code.Add([(long)ElementwiseOp.SumScales, Input(ElementwiseProgram.Scalar), Input(ElementwiseProgram.Scalar), -1]);
                sums.Add(register);
                j++;
                continue;
            }
            else continue;
            values.Add(register);
        }
        // Every sum is an output, and one or two other values computed (or a copy of an operand, when nothing was).
        var outputs = new List<long>(sums.Select(s => (long)s));
        var computed = values.Where(v => v >= modes.Count).Concat(masks).ToList();
        if (computed.Count == 0)
        {
            computed.Add(modes.Count + code.Count);
            code.Add([(long)ElementwiseOp.Neg, 0, -1, -1]);
        }
        for (var o = random.Next(1, 3); o > 0; o--)
        {
            var v = computed[random.Next(computed.Count)];
            if (!outputs.Contains(v)) outputs.Add(v);
        }
        return [1, modes.Count, outputs.Count, code.Count, 2, rows, columns, rows, columns, .. modes, .. code.SelectMany(c => c), .. outputs];
    }

    private static void AssertSameBits(long[] program, Random random, string what)
    {
        float[] special = [float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -1e-40f, 1f, -1f];
        fixed (long* code = program)
        {
            var p = new ElementwiseProgram(code, program.Length);
            var registers = p.Inputs + p.Instructions;
            var operands = new float[p.Inputs][];
            for (var i = 0; i < p.Inputs; i++)
            {
                operands[i] = new float[p.Mode(i) switch { ElementwiseProgram.Full => p.Rows * p.Columns, ElementwiseProgram.Row => p.Columns, ElementwiseProgram.Column => p.Rows, _ => 1 }];
                for (var e = 0; e < operands[i].Length; e++)
                    operands[i][e] = random.Next(5) == 0 ? special[random.Next(special.Length)] : (float)(random.NextDouble() * 4 - 2);
            }
            float[][] Run(CpuKernels.CompiledElementwise? compiled)
            {
                var outputs = Enumerable.Range(0, p.Outputs).Select(o => new float[p.IsSum(o) ? p.Columns : p.Rows * p.Columns]).ToArray();
                var handles = operands.Concat(outputs).Select(a => System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
                try
                {
                    var bases = stackalloc float*[registers];
                    for (var k = 0; k < registers; k++) bases[k] = k < p.Inputs ? (float*)handles[k].AddrOfPinnedObject() : null;
                    for (var o = 0; o < p.Outputs; o++) bases[p.Output(o)] = (float*)handles[p.Inputs + o].AddrOfPinnedObject();
                    CpuKernels.RunElementwise(p, bases, compiled);
                }
                finally
                {
                    foreach (var h in handles) h.Free();
                }
                return outputs;
            }
            var expected = Run(null);
            var actual = Run(CpuKernels.CompileElementwise(p));
            for (var o = 0; o < p.Outputs; o++)
                for (var e = 0; e < expected[o].Length; e++)
                {
                    var (bits, want) = (BitConverter.SingleToInt32Bits(actual[o][e]), BitConverter.SingleToInt32Bits(expected[o][e]));
                    if (float.IsNaN(actual[o][e]) && float.IsNaN(expected[o][e])) continue; // a NaN's sign and payload may differ
                    if (bits != want) bits.Should().Be(want, "{0}: output {1} element {2} is {3} compiled and {4} interpreted", what, o, e, actual[o][e], expected[o][e]);
                }
        }
    }
}
