using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Bad inputs get an ArgumentException naming the layer, the shapes and what was expected.</summary>
[TestClass]
public sealed class LayerErrorTests
{
    private static readonly Rngs Rngs = new(0);

    [TestMethod]
    public void LinearNamesTheFeatureMismatchAndRejectsIntegers()
    {
        var linear = new Linear(3, 2, Rngs);
        var act = () => linear.Call(Tensor.Zeros(5, 4));
        act.Should().Throw<ArgumentException>().WithMessage("Linear: expected 3 features on axis -1 but the input f32[5,4] has 4.*");
        var ints = () => linear.Call(Tensor.FromArray(new long[] { 1, 2, 3 }, 3));
        ints.Should().Throw<ArgumentException>().WithMessage("Linear: expected a float input but got i64[3]*");
        var scalar = () => linear.Call(Tensor.Scalar(1f));
        scalar.Should().Throw<ArgumentException>().WithMessage("Linear: expected an input of rank ≥ 1 but got f32[]*");
        var size = () => new Linear(0, 2, Rngs);
        size.Should().Throw<ArgumentException>().WithMessage("Linear: inFeatures must be positive but is 0*");
    }

    [TestMethod]
    public void ConvNamesTheExpectedLayout()
    {
        var conv = new Conv(3, 4, [3, 3], Rngs);
        var rank = () => conv.Call(Tensor.Zeros(5, 5, 3));
        rank.Should().Throw<ArgumentException>().WithMessage("Conv: expected an input of rank ≥ 4 ([batch, spatial1, spatial2, 3]) but got f32[5,5,3]*");
        var channels = () => conv.Call(Tensor.Zeros(1, 5, 5, 2));
        channels.Should().Throw<ArgumentException>().WithMessage("Conv: expected 3 features on axis -1 but the input f32[1,5,5,2] has 2.*");
        var grey = () => new Conv(1, 4, [3, 3], Rngs).Call(Tensor.Zeros(1, 5, 5, 3));
        grey.Should().Throw<ArgumentException>().WithMessage("Conv: expected 1 feature on axis -1 but the input f32[1,5,5,3] has 3.*");
        var small = () => new Conv(3, 4, [3, 3], Rngs, padding: "VALID").Call(Tensor.Zeros(1, 2, 5, 3));
        small.Should().Throw<ArgumentException>().WithMessage("Conv: the input f32[1,2,5,3] padded to spatial size [2,5] is smaller than the kernel [3,3]*");
        var strides = () => new Conv(3, 4, [3, 3], Rngs, strides: [1]);
        strides.Should().Throw<ArgumentException>().WithMessage("Conv: strides [1] must be positive, one per spatial axis*");
        var padding = () => new Conv(3, 4, [3, 3], Rngs, padding: "FULL");
        padding.Should().Throw<ArgumentException>().WithMessage("*\"SAME\" or \"VALID\"*FULL*");
        var pairs = () => new Conv(3, 4, [3, 3], Rngs, padding: Padding.Explicit((1, 1))).Call(Tensor.Zeros(1, 5, 5, 3));
        pairs.Should().Throw<ArgumentException>().WithMessage("Conv: explicit padding [(1, 1)] has 1 pairs but the kernel has 2 spatial axes*");
        var groups = () => new Conv(6, 4, [3, 3], Rngs, featureGroupCount: 3);
        groups.Should().Throw<ArgumentException>().WithMessage("Conv: feature group count 3 must be positive and divide both in features 6 and out features 4.*");
    }

    [TestMethod]
    public void ConvTransposeNamesTheExpectedLayout()
    {
        var layer = new ConvTranspose(3, 4, [3, 3], Rngs, strides: [2, 2]);
        layer.Call(Tensor.Zeros(1, 5, 4, 3)).Shape.Should().Equal(1, 10, 8, 4);
        var channels = () => layer.Call(Tensor.Zeros(1, 5, 5, 2));
        channels.Should().Throw<ArgumentException>().WithMessage("ConvTranspose: expected 3 features on axis -1 but the input f32[1,5,5,2] has 2.*");
        var strides = () => new ConvTranspose(3, 4, [3, 3], Rngs, strides: [0, 1]);
        strides.Should().Throw<ArgumentException>().WithMessage("ConvTranspose: strides [0,1] must be positive, one per spatial axis*");
        var pairs = () => new ConvTranspose(3, 4, [3, 3], Rngs, padding: Padding.Explicit((1, 1))).Call(Tensor.Zeros(1, 5, 5, 3));
        pairs.Should().Throw<ArgumentException>().WithMessage("ConvTranspose: explicit padding [(1, 1)] has 1 pairs but the kernel has 2 spatial axes*");
        var small = () => new ConvTranspose(3, 4, [3, 3], Rngs, padding: Padding.Explicit((0, 0), (0, 0))).Call(Tensor.Zeros(1, 2, 5, 3));
        small.Should().Throw<ArgumentException>().WithMessage("ConvTranspose: the input f32[1,2,5,3] dilated and padded to spatial size [2,5] is smaller than the kernel [3,3]*");
    }

    [TestMethod]
    public void NormalisationAndEmbeddingAndAttentionErrors()
    {
        var bn = () => new BatchNorm(4, Rngs).Call(Tensor.Zeros(2, 3));
        bn.Should().Throw<ArgumentException>().WithMessage("BatchNorm: expected 4 features on axis -1 but the input f32[2,3] has 3.*");
        var ln = () => new LayerNorm(4, Rngs).Call(Tensor.FromArray(new int[] { 1, 2, 3, 4 }, 4));
        ln.Should().Throw<ArgumentException>().WithMessage("LayerNorm: expected a float input but got i32[4]*");
        var embed = () => new Embed(5, 2, Rngs).Call(Tensor.Zeros(3));
        embed.Should().Throw<ArgumentException>().WithMessage("Embed: expected int32 or int64 indices but got f32[3]*");
        var heads = () => new MultiHeadAttention(3, 8, Rngs);
        heads.Should().Throw<ArgumentException>().WithMessage("MultiHeadAttention: qkv features (8) must be a positive multiple of the number of heads (3)*");
        var mha = new MultiHeadAttention(2, 8, Rngs);
        var kv = () => mha.Call(Tensor.Zeros(1, 3, 8), Tensor.Zeros(1, 4, 6));
        kv.Should().Throw<ArgumentException>().WithMessage("MultiHeadAttention: expected 8 features on axis -1 but the input f32[1,4,6] has 6.*");
        var mask = () => mha.Call(Tensor.Zeros(1, 3, 8), mask: Tensor.Ones(3, 3));
        mask.Should().Throw<ArgumentException>().WithMessage("MultiHeadAttention: the mask must be bool*f32[3,3]*");
    }
}
