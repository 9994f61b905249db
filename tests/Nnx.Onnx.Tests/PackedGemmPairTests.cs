using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// A dense layer's input gradient <c>α₁·g·Wᵀ</c> and its weight's update <c>β·W + α₂·xᵀ·g</c>, fused in process into one
/// <see cref="NnxCpuOps.PackedGemmPair"/> that reads W once: when the fusion happens, and both outputs against the
/// reference for shapes with partial tiles, on 1 and 2 threads.
/// </summary>
[TestClass]
public sealed class PackedGemmPairTests
{
    private static readonly string Pair = $"{NnxCpuOps.Domain}:{NnxCpuOps.PackedGemmPair}";

    private static bool Fits => CpuKernels.Available && CpuKernels.PackedGemmSupported;

    /// <summary>g [b, n], W [d, n], x [b, d] → (α₁·g·Wᵀ, β·W + α₂·xᵀ·g); with <paramref name="xLate"/>, x is −x₀ computed between them.</summary>
    private static Graph Backward(int b, int d, int n, double alpha1 = 1, double alpha2 = -1e-3, double beta = 1, bool xLate = false)
    {
        var (g, w, x0) = (new Value(Aval.F32(b, n)), new Value(Aval.F32(d, n)), new Value(Aval.F32(b, d)));
        var zero = Node.Create(new Full(Shape.Of(), DType.Float32, 0), []);
        var gradient = Node.Create(new Gemm(false, true, alpha1, 0), [g, w, zero.Output]);
        var negated = Node.Create(new Neg(), [x0]);
        var x = xLate ? negated.Output : x0;
        var update = Node.Create(new Gemm(true, false, alpha2, beta), [x, g, w]);
        Node[] nodes = xLate ? [zero, gradient, negated, update] : [zero, gradient, update];
        return new Graph([g, w, x0], [.. nodes], [gradient.Output, update.Output]);
    }

    private static string[] Ops(Graph graph, bool inProcess) =>
        [.. OnnxLowering.ToModel(graph, inProcess: inProcess).Graph.Node.Select(n => n.Domain.Length > 0 ? $"{n.Domain}:{n.OpType}" : n.OpType)];

    [TestMethod]
    public void ALayersInputGradientAndUpdateBecomeOneNodeInProcess()
    {
        var packed = $"{NnxCpuOps.Domain}:{NnxCpuOps.PackedGemm}";
        Ops(Backward(32, 512, 512), inProcess: true).Should().Equal(Fits ? [Pair] : ["Gemm", "Gemm"]);
        Ops(Backward(32, 512, 512), inProcess: false).Should().Equal(["Gemm", "Gemm"], "an exported file is standard ONNX");
        var negation = CpuKernels.Available ? $"{NnxCpuOps.Domain}:{NnxCpuOps.Elementwise}" : "Neg"; // a [32, 512] negation (ElementwiseFusion)
        Ops(Backward(32, 512, 512, xLate: true), inProcess: true).Should().Equal(Fits ? [packed, negation, packed] : ["Gemm", negation, "Gemm"],
            "the fused node would stand before x is computed");
    }

    [TestMethod]
    public void BothOutputsMatchTheReference()
    {
        // Tiles cut at every edge: a batch of 13 (8 rows of the input gradient at a time, then 5), 100 rows of W (six blocks of
        // 16 and one of 4), 850 columns; 48 rows of W, three blocks; 384 columns, eight whole panels of g read in place (the
        // others end in a cut panel, packed).
        (int B, int D, int N, double Alpha1, double Alpha2, double Beta)[] cases =
            [(32, 512, 512, 1, -1e-3, 1), (13, 100, 850, -0.5, 0.25, 0.99), (32, 48, 2100, 2, -0.01, 1), (32, 96, 384, 1, -0.1, 1)];
        foreach (var (b, d, n, alpha1, alpha2, beta) in cases)
        {
            var graph = Backward(b, d, n, alpha1, alpha2, beta);
            if (Fits) Ops(graph, inProcess: true).Should().Equal([Pair], "[{0},{1},{2}] is the fused kernel's", b, d, n);
            HostArray[] inputs = [PackedGemmTests.Values(Shape.Of(b, n), 1), PackedGemmTests.Values(Shape.Of(d, n), 2), PackedGemmTests.Values(Shape.Of(b, d), 3)];
            var gradient = PackedGemmTests.Reference(new Gemm(false, true, alpha1, 0), inputs[0], inputs[1], HostArray.Scalar(DType.Float32, 0));
            var update = PackedGemmTests.Reference(new Gemm(true, false, alpha2, beta), inputs[2], inputs[0], inputs[1]);
            double[][] expected = [gradient.Value, update.Value], scale = [gradient.Scale, update.Scale];
            foreach (var threads in new[] { 1, 2 })
            {
                var outputs = PackedGemmTests.RunOnCpu(graph, inputs, threads);
                for (var o = 0; o < 2; o++)
                {
                    outputs[o].Length.Should().Be(expected[o].Length);
                    for (var i = 0; i < outputs[o].Length; i++)
                        Math.Abs(outputs[o][i] - expected[o][i]).Should().BeLessThanOrEqualTo(1e-6 * (Math.Max(n, b) + 4) * scale[o][i],
                            $"[{b},{d},{n}] output {o} element {i} on {threads} threads");
                }
            }
        }
    }

    [TestMethod]
    public void OperandsOfTheWrongShapesFailWithTheShapesInsteadOfCrashing()
    {
        using OrtValue g = OrtValue.CreateTensorValueFromMemory(new float[20], [4, 5]), w = OrtValue.CreateTensorValueFromMemory(new float[42], [6, 7]),
            x = OrtValue.CreateTensorValueFromMemory(new float[24], [4, 6]), flags = OrtValue.CreateTensorValueFromMemory(new float[3], [3]);
        var run = () => OwnKernelModel.Run(NnxCpuOps.PackedGemmPair,
            [("g", Aval.F32(4, 5), g), ("w", Aval.F32(6, 7), w), ("x", Aval.F32(4, 6), x), ("flags", Aval.F32(3), flags)],
            [("dx", Aval.F32(4, 6)), ("w2", Aval.F32(6, 7))]);
        run.Should().Throw<OnnxRuntimeException>().WithMessage("*ai.nnx.cpu PackedGemmPair: g [4,5], W [6,7] and x [4,6] are not [B, N], [D, N] and [B, D]*");
    }
}
