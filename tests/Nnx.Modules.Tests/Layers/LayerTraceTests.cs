using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Tests;

namespace UserCode.Tests;

/// <summary>Layers under a trace (Jit.Pure with Split/Merge), finite-difference gradients, Sequential.</summary>
[TestClass]
public sealed class LayerTraceTests
{
    private static Sequential Model(Rngs rngs) => new(
        new Conv(2, 3, [3, 3], rngs, strides: [2, 2]),
        new Activation(static x => Nn.Gelu(x)),
        new Flatten(),
        new LayerNorm(12, rngs),
        new Linear(12, 8, rngs),
        new BatchNorm(8, rngs, momentum: 0.9),
        new Activation(Nn.Relu),
        new Dropout(0.25, rngs),
        new Linear(8, 3, rngs));

    [TestMethod]
    public void AJittedStepOverSplitStateGivesTheEagerOutputAndState()
    {
        var x = Prng.Normal(Prng.Key(5), [4, 4, 4, 2]);
        var (graphdef, state) = Nnx.Split(Model(new Rngs(0)));

        var eager = Nnx.Merge<Sequential>(graphdef, state);
        var yEager = eager.Call(x);
        var stateEager = Nnx.Split(eager).State;

        var step = Jit.Pure((GraphDef g, State s, Tensor input) =>
        {
            var m = Nnx.Merge<Sequential>(g, s);
            var y = m.Call(input);
            return (y, Nnx.Split(m).State);
        });
        var (yJit, stateJit) = step(graphdef, state, x);
        var (yJit2, _) = step(graphdef, stateJit, x);
        step.TraceCount().Should().Be(1);

        Reference.Compare("jitted output", yJit, yEager, 1e-5);
        foreach (var entry in stateEager)
            Reference.Compare(entry.Path, stateJit[entry.Path].Cast(DType.Float64), entry.Value.Cast(DType.Float64), 1e-5);
        stateJit["layers/7/rngs/default/count"].Item<uint>().Should().Be(stateEager["layers/7/rngs/default/count"].Item<uint>());
        yJit2.ToArray<float>().Should().NotEqual(yJit.ToArray<float>(), "the second step draws a new dropout mask and has new batch statistics");
    }

    [TestMethod]
    public void SequentialPathsAndStructure()
    {
        var model = Model(new Rngs(0));
        var (graphdef, state) = Nnx.Split(model);
        state.Select(e => e.Path).Should().Contain(["layers/0/kernel", "layers/0/bias", "layers/3/scale", "layers/4/kernel", "layers/5/mean", "layers/5/scale", "layers/8/bias"]);
        Nnx.GraphDef(Model(new Rngs(1))).Should().Be(graphdef, "activations compare as delegates of the same method, sizes by value");
        var y = model.Call(Tensor.Ones(2, 4, 4, 2));
        y.Shape.Should().Equal([2, 3]);
        model.Eval();
        ((Dropout)model.Layers[7]).Training.Should().BeFalse();
    }

    [TestMethod]
    public void LinearIsOneGemmAfterThePasses()
    {
        var (graphdef, state) = Nnx.Split(new Linear(3, 4, new Rngs(0)));
        var f = Jit.Pure((GraphDef g, State s, Tensor x) => Nnx.Merge<Linear>(g, s).Call(x));
        var ir = f.Lower(graphdef, state, Tensor.Ones(8, 3));
        Console.WriteLine(ir);
        ir.Should().Contain("gemm").And.NotContain("mat_mul").And.NotContain(" add");
        f.Lower(graphdef, state, Tensor.Ones(2, 5, 3)).Should().Contain("gemm", "leading axes are folded into the rows of one 2-D product");
    }

    [TestMethod]
    public void ALayerCapturedByAJittedFunctionGivesTheEagerResult()
    {
        var mha = new MultiHeadAttention(2, 6, new Rngs(2), causal: true);
        var x = Prng.Normal(Prng.Key(1), [2, 5, 6]);
        var f = Jit.Pure((Tensor t) => mha.Call(t));
        Reference.Compare("jitted attention", f(x), mha.Call(x), 1e-5);
    }

    [TestMethod]
    public void ConvGradientsMatchFiniteDifferencesInFloat64()
    {
        var rng = new Random(7);
        var r = Numeric.Random(rng, [1, 2, 3, 2]);
        var conv = new Conv(2, 2, [3, 2], new Rngs(0), strides: [2, 1], padding: Padding.Explicit((1, 0), (0, 1)), paramDType: DType.Float64);
        var largest = Numeric.CheckGrad(p =>
        {
            conv.Kernel.Value = p[1];
            conv.Bias!.Value = p[2];
            return (conv.Call(p[0]) * r).Sum();
        }, [Numeric.Random(rng, [1, 4, 3, 2]), Numeric.Random(rng, [3, 2, 2, 2]), Numeric.Random(rng, [2])]);
        Console.WriteLine($"conv: largest scaled error against finite differences {largest:e2}");
    }

    [TestMethod]
    public void SingleChannelConvGradientsMatchFiniteDifferencesInFloat64()
    {
        // One input channel at stride 1 takes im2col's slice-and-concatenate columns (transposed).
        var rng = new Random(5);
        var r = Numeric.Random(rng, [2, 4, 3, 3]);
        var conv = new Conv(1, 3, [3, 2], new Rngs(0), padding: Padding.Explicit((1, 2), (0, 1)), kernelDilation: [2, 1], paramDType: DType.Float64);
        var largest = Numeric.CheckGrad(p =>
        {
            conv.Kernel.Value = p[1];
            conv.Bias!.Value = p[2];
            return (conv.Call(p[0]) * r).Sum();
        }, [Numeric.Random(rng, [2, 5, 3, 1]), Numeric.Random(rng, [3, 2, 1, 3]), Numeric.Random(rng, [3])]);
        Console.WriteLine($"single-channel conv: largest scaled error against finite differences {largest:e2}");
    }

    [TestMethod]
    public void SingleChannelConvWithItsBiasInsideTheProductMatchesFiniteDifferencesIn1D()
    {
        // One spatial axis, SAME padding, dilation 2: the columns' row of ones and the bias under the kernel.
        var rng = new Random(6);
        var r = Numeric.Random(rng, [3, 7, 2]);
        var conv = new Conv(1, 2, [3], new Rngs(0), kernelDilation: [2], paramDType: DType.Float64);
        var largest = Numeric.CheckGrad(p =>
        {
            conv.Kernel.Value = p[1];
            conv.Bias!.Value = p[2];
            return (conv.Call(p[0]) * r).Sum();
        }, [Numeric.Random(rng, [3, 7, 1]), Numeric.Random(rng, [3, 1, 2]), Numeric.Random(rng, [2])]);
        Console.WriteLine($"single-channel 1-D conv: largest scaled error against finite differences {largest:e2}");
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void GroupedConvAndConvTransposeGradientsMatchFiniteDifferencesInFloat64(bool im2col)
    {
        var rng = new Random(11);
        var grouped = new Conv(4, 2, [2, 3], new Rngs(0), strides: [1, 2], padding: Padding.Explicit((1, 0), (1, 1)), paramDType: DType.Float64, featureGroupCount: 2) { UseIm2Col = im2col };
        var rg = Numeric.Random(rng, [1, 4, 2, 2]);
        var largest = Numeric.CheckGrad(p =>
        {
            grouped.Kernel.Value = p[1];
            grouped.Bias!.Value = p[2];
            return (grouped.Call(p[0]) * rg).Sum();
        }, [Numeric.Random(rng, [1, 4, 3, 4]), Numeric.Random(rng, [2, 3, 2, 2]), Numeric.Random(rng, [2])]);
        var transposed = new ConvTranspose(2, 3, [3, 2], new Rngs(0), strides: [2, 3], kernelDilation: [1, 2], paramDType: DType.Float64) { UseIm2Col = im2col };
        var rt = Numeric.Random(rng, [1, 6, 6, 3]);
        largest = Math.Max(largest, Numeric.CheckGrad(p =>
        {
            transposed.Kernel.Value = p[1];
            transposed.Bias!.Value = p[2];
            return (transposed.Call(p[0]) * rt).Sum();
        }, [Numeric.Random(rng, [1, 3, 2, 2]), Numeric.Random(rng, [3, 2, 2, 3]), Numeric.Random(rng, [3])]));
        Console.WriteLine($"grouped conv and conv transpose: largest scaled error against finite differences {largest:e2}");
    }

    [TestMethod]
    public void LayerNormAndBatchNormGradientsMatchFiniteDifferencesInFloat64()
    {
        var rng = new Random(8);
        var ln = new LayerNorm(4, new Rngs(0), paramDType: DType.Float64);
        var r = Numeric.Random(rng, [3, 4]);
        var largest = Numeric.CheckGrad(p =>
        {
            ln.Scale!.Value = p[1];
            ln.Bias!.Value = p[2];
            return (ln.Call(p[0]) * r).Sum();
        }, [Numeric.Random(rng, [3, 4]), Numeric.Random(rng, [4]), Numeric.Random(rng, [4])]);
        var bn = new BatchNorm(4, new Rngs(0), paramDType: DType.Float64);
        largest = Math.Max(largest, Numeric.CheckGrad(p => (bn.Call(p[0]) * r).Sum(), [Numeric.Random(rng, [3, 4])]));
        Console.WriteLine($"layer/batch norm: largest scaled error against finite differences {largest:e2}");
    }
}
