using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>The Conv layer's two lowerings (the conv_general primitive, and im2col) agree in float32 on ONNX Runtime.</summary>
[TestClass]
public sealed class ConvLoweringTests
{
    [TestMethod]
    [DataRow(1, 1, "SAME", 3)]
    [DataRow(2, 1, "SAME", 3)]
    [DataRow(1, 2, "VALID", 3)]
    [DataRow(2, 2, "SAME", 3)]
    [DataRow(1, 1, "SAME", 1)] // one input channel at stride 1: im2col's transposed columns from slices
    [DataRow(1, 2, "VALID", 1)]
    [DataRow(2, 1, "SAME", 1)]
    public void NativeAndIm2ColGiveTheSameValuesAndGradientsInFloat32(int stride, int dilation, string padding, int inFeatures)
    {
        var native = new Conv(inFeatures, 4, [3, 2], new Rngs(1), strides: [stride, 1], padding: padding, kernelDilation: [dilation, 1]) { UseIm2Col = false };
        var im2col = new Conv(inFeatures, 4, [3, 2], new Rngs(1), strides: [stride, 1], padding: padding, kernelDilation: [dilation, 1]) { UseIm2Col = true };
        var x = Prng.Normal(Prng.Key(2), [2, 9, 7, inFeatures]);
        (float[] Y, float[] Gx, float[] Gk) Run(Conv c)
        {
            var r = Prng.Normal(Prng.Key(3), [.. c.Call(x).Shape]);
            var (_, (gx, gk)) = Autodiff.ValueAndGrad((Tensor a, Tensor k) =>
            {
                c.Kernel.Value = k;
                return (c.Call(a) * r).Sum();
            })(x, c.Kernel.Value);
            return (c.Call(x).ToArray<float>(), gx.ToArray<float>(), gk.ToArray<float>());
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

    private static void Close(float[] a, float[] b)
    {
        a.Should().HaveSameCount(b);
        for (var k = 0; k < a.Length; k++) Math.Abs(a[k] - b[k]).Should().BeLessThanOrEqualTo(2e-5f * (1 + Math.Abs(b[k])), "element {0}", k);
    }
}
