using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Onnx;
using NnxSharp.Onnx.Schema;

namespace UserCode.Tests;

/// <summary>The Conv layer's two lowerings (the conv_general primitive, and im2col) agree in float32 on ONNX Runtime.</summary>
[TestClass]
public sealed class ConvLoweringTests
{
    [TestMethod]
    [DataRow(1, 1, "SAME", 3, 4)]
    [DataRow(2, 1, "SAME", 3, 4)]
    [DataRow(1, 2, "VALID", 3, 4)]
    [DataRow(2, 2, "SAME", 3, 4)]
    [DataRow(1, 1, "SAME", 1, 4)] // one input channel at stride 1: im2col's transposed columns from slices
    [DataRow(1, 2, "VALID", 1, 4)]
    [DataRow(2, 1, "SAME", 1, 4)]
    // Channels in blocks of 16 (and of 8): the forward and the input gradient take ONNX Runtime's NCHWc kernels
    // where the machine has them (AVX2 or AVX-512).
    [DataRow(1, 1, "SAME", 16, 16)]
    [DataRow(2, 1, "SAME", 16, 32)]
    [DataRow(1, 2, "VALID", 32, 16)]
    [DataRow(2, 2, "SAME", 16, 16)]
    public void NativeAndIm2ColGiveTheSameValuesAndGradientsInFloat32(int stride, int dilation, string padding, int inFeatures, int outFeatures)
    {
        var native = new Conv(inFeatures, outFeatures, [3, 2], new Rngs(1), strides: [stride, 1], padding: padding, kernelDilation: [dilation, 1]) { UseIm2Col = false };
        var im2col = new Conv(inFeatures, outFeatures, [3, 2], new Rngs(1), strides: [stride, 1], padding: padding, kernelDilation: [dilation, 1]) { UseIm2Col = true };
        var x = Prng.Normal(Prng.Key(2), [2, 9, 7, inFeatures]);
        (float[] Y, float[] Gx, float[] Gk) Run(Conv c)
        {
            var r = Prng.Normal(Prng.Key(3), [.. c.Call(x).Shape]);
            var (_, (gx, gk)) = Autodiff.ValueAndGrad((Tensor a, Tensor k) =>
            {
                c.Kernel.Value = k;
                return (Nn.Relu(c.Call(a)) * r).Sum();
            })(x, c.Kernel.Value);
            return (Nn.Relu(c.Call(x)).ToArray<float>(), gx.ToArray<float>(), gk.ToArray<float>());
        }
        var (a, b) = (Run(native), Run(im2col));
        Close(a.Y, b.Y);
        Close(a.Gx, b.Gx);
        Close(a.Gk, b.Gk);
    }

    [TestMethod]
    public void AJittedTrainingStepRunsTheConvolutionsWithoutGather()
    {
        var conv = new Conv(1, 4, [3, 3], new Rngs(0)) { UseIm2Col = false };
        var step = Nnx.Jit((Conv c, Tensor x) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Conv>(m => Nn.Relu(m.Call(x)).Mean())(c);
            return loss + grads.Values.Select(g => g.Sum()).Aggregate((p, q) => p + q);
        });
        var x = Prng.Normal(Prng.Key(0), [2, 6, 6, 1]);
        var ir = step.Lower(conv, x);
        ir.Should().Contain("conv_general").And.NotContain("gather");
        var im2col = new Conv(1, 4, [3, 3], new Rngs(0)) { UseIm2Col = true };
        var reference = Nnx.Jit((Conv c, Tensor x) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Conv>(m => Nn.Relu(m.Call(x)).Mean())(c);
            return loss + grads.Values.Select(g => g.Sum()).Aggregate((p, q) => p + q);
        });
        step(conv, x).Item<float>().Should().BeApproximately(reference(im2col, x).Item<float>(), 1e-5f);
    }

    [TestMethod]
    public void InProcessTheCpuLoweringTakesTheNchwcKernelsAndAnExportedGraphDoesNot()
    {
        var (first, second) = (new Conv(16, 16, [3, 3], new Rngs(0)) { UseIm2Col = false }, new Conv(16, 16, [3, 3], new Rngs(1)) { UseIm2Col = false });
        var step = Nnx.Jit((Conv a, Conv b, Tensor x) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Conv>(m => Nn.Relu(b.Call(Nn.Relu(m.Call(x)))).Mean())(a);
            return loss + grads.Values.Select(g => g.Sum()).Aggregate((p, q) => p + q);
        });
        var x = Prng.Normal(Prng.Key(0), [2, 6, 6, 16]);
        var graph = JitRegistry.Of(step).Inspect([first, second, x]).Optimized;
        string[] Ops(ModelProto m) => [.. m.Graph.Node.Select(n => n.Domain.Length == 0 ? n.OpType : $"{n.Domain}:{n.OpType}")];
        var exported = Ops(OnnxLowering.ToModel(graph));
        exported.Should().NotContain(o => o.StartsWith(NchwcKernels.Domain, StringComparison.Ordinal), "an exported file must run on any machine");
        var inProcessModel = OnnxLowering.ToModel(graph, inProcess: true);
        var inProcess = Ops(inProcessModel);
        if (NchwcKernels.BlockSize == 0)
            inProcess.Should().Equal(exported, "this machine has no NCHWc kernels");
        else
        {
            // Two forwards (with their biases) and the second's input gradient; the first's kernel gradient is a
            // matrix product. The ReLUs stay: their gradients read the pre-activations.
            inProcess.Count(o => o == $"{NchwcKernels.Domain}:Conv").Should().Be(3);
            inProcess.Should().NotContain("Conv");
            inProcessModel.Graph.Node.Count(n => n.OpType == "Conv" && n.Input.Count == 3).Should().Be(2, "each forward adds its bias");
            exported.Count(o => o == "Conv").Should().Be(3);
        }
        // The jitted step (NCHWc, folded biases) computes what the same step over im2col layers does.
        var (a2, b2) = (new Conv(16, 16, [3, 3], new Rngs(0)) { UseIm2Col = true }, new Conv(16, 16, [3, 3], new Rngs(1)) { UseIm2Col = true });
        var reference = Nnx.Jit((Conv a, Conv b, Tensor x) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Conv>(m => Nn.Relu(b.Call(Nn.Relu(m.Call(x)))).Mean())(a);
            return loss + grads.Values.Select(g => g.Sum()).Aggregate((p, q) => p + q);
        });
        step(first, second, x).Item<float>().Should().BeApproximately(reference(a2, b2, x).Item<float>(), 1e-4f);
    }

    [TestMethod]
    public void AnInferenceConvolutionTakesItsBiasAndReluInsideTheNchwcKernel()
    {
        var conv = new Conv(16, 32, [3, 3], new Rngs(0), strides: [2, 2]) { UseIm2Col = false };
        var reference = new Conv(16, 32, [3, 3], new Rngs(0), strides: [2, 2]) { UseIm2Col = true };
        conv.Bias!.Value = Prng.Normal(Prng.Key(4), [32]);
        reference.Bias!.Value = conv.Bias.Value;
        var f = Nnx.Jit((Conv c, Tensor x) => Nn.Relu(c.Call(x)));
        var x = Prng.Normal(Prng.Key(0), [3, 9, 8, 16]);
        var model = OnnxLowering.ToModel(JitRegistry.Of(f).Inspect([conv, x]).Optimized, inProcess: true);
        if (NchwcKernels.BlockSize > 0)
        {
            model.Graph.Node.Select(n => n.OpType).Should().NotContain(["Add", "Relu"]);
            // x is reordered from channels last, without a transpose (those left are the small kernel's).
            model.Graph.Node.Single(n => n.OpType == "ReorderInput").Input.Should().Equal(model.Graph.Input[^1].Name);
            model.Graph.Node.Single(n => n.OpType == "ReorderOutput").Attribute.Should().Contain(a => a.Name == "channels_last" && a.I == 1);
            var fused = model.Graph.Node.Should().ContainSingle(n => n.OpType == "Conv").Which;
            fused.Input.Should().HaveCount(3);
            fused.Attribute.Should().ContainSingle(a => a.Name == "activation").Which.S.ToStringUtf8().Should().Be("Relu");
        }
        Close(f(conv, x).ToArray<float>(), f(reference, x).ToArray<float>());
    }

    [TestMethod]
    public void AConvolutionWithTwoReadersIsNotComputedTwiceToFoldItsBias()
    {
        var conv = new Conv(16, 16, [3, 3], new Rngs(0)) { UseIm2Col = false };
        var reference = new Conv(16, 16, [3, 3], new Rngs(0)) { UseIm2Col = true };
        var f = Nnx.Jit((Conv c, Tensor x) =>
        {
            var y = c.Call(x);
            return Nn.Relu(y) + y * 2f; // y has two readers: the ReLU cannot move into the convolution
        });
        var x = Prng.Normal(Prng.Key(0), [2, 5, 5, 16]);
        var model = OnnxLowering.ToModel(JitRegistry.Of(f).Inspect([conv, x]).Optimized, inProcess: true);
        if (NchwcKernels.BlockSize > 0)
        {
            var convs = model.Graph.Node.Where(n => n.OpType == "Conv").ToArray();
            convs.Should().ContainSingle().Which.Domain.Should().Be(NchwcKernels.Domain);
            convs[0].Input.Should().HaveCount(3, "the bias, read only by the sum, still folds");
            convs[0].Attribute.Should().NotContain(a => a.Name == "activation");
        }
        Close(f(conv, x).ToArray<float>(), f(reference, x).ToArray<float>());
    }

    [TestMethod]
    public void OneInputChannelTakesItsBiasInsideTheProductAndItsGradientFromTheKernelGradientsProduct()
    {
        var conv = new Conv(1, 8, [3, 3], new Rngs(0));
        var step = Nnx.Jit((Conv c, Tensor x) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Conv>(m => Nn.Relu(m.Call(x)).Mean())(c);
            return (loss, grads["kernel"], grads["bias"]);
        });
        var x = Prng.Normal(Prng.Key(0), [2, 6, 6, 1]);
        var graph = JitRegistry.Of(step).Inspect([conv, x]).Optimized;
        var products = graph.Nodes.Where(n => n.Op.Name is "gemm" or "mat_mul").ToArray();
        products.Should().HaveCount(2, "the forward and the kernel's gradient; the bias's gradient is a row of the latter");
        products.Should().OnlyContain(n => n.Inputs.Length == 2 || n.Inputs[2].Shape.Rank == 0, "no product reads the bias as C");
        graph.Nodes.Should().NotContain(n => n.Op.Name == "reduce_sum" && n.Inputs[0].Shape.Rank == 2 && n.Inputs[0].Shape[0] == 72, "no separate column sum of the cotangent");
        var (loss, gk, gb) = step(conv, x);
        var reference = new Conv(1, 8, [3, 3], new Rngs(0)) { UseIm2Col = false };
        var (refLoss, refGrads) = Nnx.ValueAndGrad<Conv>(m => Nn.Relu(m.Call(x)).Mean())(reference);
        Close([loss.Item<float>()], [refLoss.Item<float>()]);
        Close(gk.ToArray<float>(), refGrads["kernel"].ToArray<float>());
        Close(gb.ToArray<float>(), refGrads["bias"].ToArray<float>());
    }

    [TestMethod]
    public void ByDefaultOneInputChannelTakesIm2ColAndMoreTakeTheConvolutionPrimitive()
    {
        var step = (Conv c, Tensor x) => Nnx.Jit((Conv m, Tensor t) => m.Call(t)).Lower(c, x);
        step(new Conv(1, 8, [3, 3], new Rngs(0)), Prng.Normal(Prng.Key(0), [2, 6, 6, 1])).Should().NotContain("conv_general");
        step(new Conv(1, 8, [3, 3], new Rngs(0), strides: [2, 2]), Prng.Normal(Prng.Key(0), [2, 6, 6, 1])).Should().Contain("conv_general");
        step(new Conv(4, 8, [3, 3], new Rngs(0)), Prng.Normal(Prng.Key(0), [2, 6, 6, 4])).Should().Contain("conv_general");
    }

    [TestMethod]
    public void TheNchwcBlockIsTheVectorWidthOfThisMachine()
    {
        var expected = System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? 16 : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? 8 : -1;
        if (expected > 0) NchwcKernels.BlockSize.Should().Be(expected);
        else NchwcKernels.BlockSize.Should().BeOneOf(0, 8, 16);
    }

    private static void Close(float[] a, float[] b)
    {
        a.Should().HaveSameCount(b);
        for (var k = 0; k < a.Length; k++) Math.Abs(a[k] - b[k]).Should().BeLessThanOrEqualTo(2e-5f * (1 + Math.Abs(b[k])), "element {0}", k);
    }
}
