using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>
/// Each layer's output and gradients (of sum(output · r) with respect to its input and parameters) against
/// PyTorch in float64. The parameters are set inside the differentiated function (<c>layer.Kernel.Value = k</c>),
/// which is how a loss over a module's parameters is written as a function of tensors.
/// </summary>
[TestClass]
public sealed class LayerReferenceTests
{
    /// <summary>|ours − PyTorch| ≤ Tolerance·(1 + |PyTorch|) elementwise, float64.</summary>
    private const double Tolerance = 1e-12;

    private static readonly Rngs Rngs = new(0);

    [TestMethod]
    [DataRow("linear")]
    [DataRow("linear_rank3")]
    public void Linear(string name)
    {
        var kernel = Reference.Input(Reference.Case(name), "kernel");
        var layer = new Linear(kernel.Shape[0], kernel.Shape[1], Rngs, paramDType: DType.Float64);
        Reference.Check(name, ["x", "kernel", "bias"], p =>
        {
            layer.Kernel.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    [DataRow("batch_norm_2d")]
    [DataRow("batch_norm_nhwc")]
    public void BatchNormTrainingOutputGradientsAndRunningStatistics(string name)
    {
        var c = Reference.Case(name);
        var features = Reference.Input(c, "scale").Shape[0];
        var layer = new BatchNorm(features, Rngs, momentum: c.GetProperty("momentum").GetDouble(), paramDType: DType.Float64);
        layer.Mean.Value = Reference.Read(c.GetProperty("mean0"));
        layer.Var.Value = Reference.Read(c.GetProperty("var0"));
        Reference.Check(name, ["x", "scale", "bias"], p =>
        {
            layer.Scale!.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);

        // Flax's update: momentum·old + (1 − momentum)·batch, with the biased batch variance.
        Reference.Compare($"{name} running mean", layer.Mean.Value, Reference.Read(c.GetProperty("new_mean")), Tolerance);
        Reference.Compare($"{name} running var", layer.Var.Value, Reference.Read(c.GetProperty("new_var")), Tolerance);

        layer.Eval();
        var before = layer.Mean.Value.ToArray<double>();
        Reference.Compare($"{name} evaluation", layer.Call(Reference.Read(c.GetProperty("x_eval"))), Reference.Read(c.GetProperty("eval_output")), Tolerance);
        layer.Mean.Value.ToArray<double>().Should().Equal(before, "evaluation leaves the running statistics alone");
    }

    [TestMethod]
    [DataRow("layer_norm")]
    [DataRow("layer_norm_rank3")]
    public void LayerNorm(string name)
    {
        var c = Reference.Case(name);
        var layer = new LayerNorm(Reference.Input(c, "scale").Shape[0], Rngs, epsilon: c.GetProperty("epsilon").GetDouble(), paramDType: DType.Float64);
        Reference.Check(name, ["x", "scale", "bias"], p =>
        {
            layer.Scale!.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    [DataRow("conv_same_s1")]
    [DataRow("conv_same_s2")]
    [DataRow("conv_valid_s1")]
    [DataRow("conv_valid_s2")]
    [DataRow("conv_same_even_kernel")]
    [DataRow("conv_same_s2_even")]
    public void Conv(string name)
    {
        var c = Reference.Case(name);
        var kernel = Reference.Input(c, "kernel");
        var stride = c.GetProperty("stride").GetInt32();
        var layer = new Conv(kernel.Shape[2], kernel.Shape[3], [kernel.Shape[0], kernel.Shape[1]], Rngs, strides: [stride, stride],
            padding: c.GetProperty("padding").GetString()!, paramDType: DType.Float64);
        Reference.Check(name, ["x", "kernel", "bias"], p =>
        {
            layer.Kernel.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    [DataRow("conv_same_s1", false)]
    [DataRow("conv_same_dil2", false)]
    [DataRow("conv_same_dil2", true)]
    [DataRow("conv_valid_s2_dil21", false)]
    [DataRow("conv_valid_s2_dil21", true)]
    [DataRow("conv_same_s2_dil3", false)]
    [DataRow("conv_same_s2_dil3", true)]
    public void ConvWithDilationInBothLowerings(string name, bool im2col)
    {
        var c = Reference.Case(name);
        var kernel = Reference.Input(c, "kernel");
        int[] Ints(string p) => c.TryGetProperty(p, out var v) ? [.. v.EnumerateArray().Select(e => e.GetInt32())] : [1, 1];
        var strides = c.TryGetProperty("strides", out _) ? Ints("strides") : [c.GetProperty("stride").GetInt32(), c.GetProperty("stride").GetInt32()];
        var layer = new Conv(kernel.Shape[2], kernel.Shape[3], [kernel.Shape[0], kernel.Shape[1]], Rngs, strides: strides,
            padding: c.GetProperty("padding").GetString()!, paramDType: DType.Float64, kernelDilation: Ints("dilation")) { UseIm2Col = im2col };
        Reference.Check(name, ["x", "kernel", "bias"], p =>
        {
            layer.Kernel.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    [DataRow("conv_groups2_same", false)]
    [DataRow("conv_groups2_same", true)]
    [DataRow("conv_groups3_valid_s2", false)]
    [DataRow("conv_groups3_valid_s2", true)]
    [DataRow("conv_depthwise_same_dil2", false)]
    [DataRow("conv_depthwise_same_dil2", true)]
    public void ConvWithFeatureGroupsInBothLowerings(string name, bool im2col)
    {
        var c = Reference.Case(name);
        var kernel = Reference.Input(c, "kernel");
        var groups = c.GetProperty("groups").GetInt32();
        var layer = new Conv(kernel.Shape[2] * groups, kernel.Shape[3], [kernel.Shape[0], kernel.Shape[1]], Rngs, strides: Ints(c, "strides"),
            padding: c.GetProperty("padding").GetString()!, paramDType: DType.Float64, kernelDilation: Ints(c, "dilation"), featureGroupCount: groups) { UseIm2Col = im2col };
        layer.Kernel.Value.Shape.Should().Equal(kernel.Shape);
        Reference.Check(name, ["x", "kernel", "bias"], p =>
        {
            layer.Kernel.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    [DataRow("conv_transpose_same_s2", false)]
    [DataRow("conv_transpose_same_s2", true)]
    [DataRow("conv_transpose_valid_s2", true)]
    [DataRow("conv_transpose_same_s1", true)]
    [DataRow("conv_transpose_same_s3_k2", false)]
    [DataRow("conv_transpose_same_s3_k2", true)]
    [DataRow("conv_transpose_same_s2_dil2", false)]
    [DataRow("conv_transpose_same_s2_dil2", true)]
    [DataRow("conv_transpose_explicit", true)]
    public void ConvTransposeInBothLowerings(string name, bool im2col)
    {
        var c = Reference.Case(name);
        var kernel = Reference.Input(c, "kernel");
        var pad = c.GetProperty("padding");
        Padding padding = pad.ValueKind == System.Text.Json.JsonValueKind.String
            ? pad.GetString()!
            : Padding.Explicit([.. pad.EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetInt32()))]);
        var layer = new ConvTranspose(kernel.Shape[2], kernel.Shape[3], [kernel.Shape[0], kernel.Shape[1]], Rngs, strides: Ints(c, "strides"),
            padding: padding, kernelDilation: Ints(c, "dilation"), paramDType: DType.Float64) { UseIm2Col = im2col };
        Reference.Check(name, ["x", "kernel", "bias"], p =>
        {
            layer.Kernel.Value = p[1];
            layer.Bias!.Value = p[2];
            return layer.Call(p[0]);
        }, Tolerance);
    }

    private static int[] Ints(System.Text.Json.JsonElement c, string property) =>
        c.TryGetProperty(property, out var v) ? [.. v.EnumerateArray().Select(e => e.GetInt32())] : [1, 1];

    [TestMethod]
    public void EmbedGathersRowsAndRepeatedIndicesAddUpInTheGradient()
    {
        var c = Reference.Case("embed");
        var indices = Reference.ReadInt64(c.GetProperty("indices"));
        var layer = new Embed(6, 4, Rngs, paramDType: DType.Float64);
        Reference.Check("embed", ["embedding"], p =>
        {
            layer.Embedding.Value = p[0];
            return layer.Call(indices);
        }, Tolerance);
        layer.Call(indices.Cast(DType.Int32)).ToArray<double>().Should().Equal(layer.Call(indices).ToArray<double>(), "int32 indices work too");
    }

    [TestMethod]
    [DataRow("attention")]
    [DataRow("attention_causal")]
    public void MultiHeadAttentionMatchesPyTorch(string name)
    {
        var c = Reference.Case(name);
        var layer = new MultiHeadAttention(c.GetProperty("heads").GetInt32(), 8, Rngs, causal: c.GetProperty("causal").GetBoolean(), paramDType: DType.Float64);
        Reference.Check(name, ["x", "wq", "wk", "wv", "bq", "bk", "bv", "wo", "bo"], p =>
        {
            (layer.Query.Kernel.Value, layer.Key.Kernel.Value, layer.Value.Kernel.Value) = (p[1], p[2], p[3]);
            (layer.Query.Bias!.Value, layer.Key.Bias!.Value, layer.Value.Bias!.Value) = (p[4], p[5], p[6]);
            (layer.Out.Kernel.Value, layer.Out.Bias!.Value) = (p[7], p[8]);
            return layer.Call(p[0]);
        }, Tolerance);
    }

    [TestMethod]
    public void AnExplicitCausalMaskEqualsTheCausalFlag()
    {
        var rngs = new Rngs(3);
        var plain = new MultiHeadAttention(2, 4, rngs, qkvFeatures: 6, outFeatures: 5);
        var causal = new MultiHeadAttention(2, 4, new Rngs(3), qkvFeatures: 6, outFeatures: 5, causal: true);
        var x = Prng.Normal(Prng.Key(1), [2, 3, 4]);
        var masked = plain.Call(x, mask: MultiHeadAttention.CausalMask(3, 3));
        masked.Shape.Should().Equal([2, 3, 5]);
        masked.ToArray<float>().Should().Equal(causal.Call(x).ToArray<float>());
        plain.Query.Kernel.Shape.Should().Equal([4, 2, 3], "Flax's query kernel is [in, heads, head_dim]");
        plain.Out.Kernel.Shape.Should().Equal([2, 3, 5], "and the output kernel [heads, head_dim, out]");
        // The first query position attends only to the first key: its output does not depend on later positions.
        var changed = x.ToArray<float>();
        for (var i = 4; i < 12; i++) changed[i] += 1;
        var y2 = causal.Call(Tensor.FromArray(changed, 2, 3, 4));
        y2.Slice(1, 0, 1).ToArray<float>().Should().Equal(causal.Call(x).Slice(1, 0, 1).ToArray<float>());
    }
}
