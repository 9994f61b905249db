using NnxSharp.Primitives;

namespace NnxSharp;

public sealed partial class Tensor
{
    /// <summary>
    /// An N-d convolution (a cross-correlation) in ONNX's channels-first layout: this tensor [N, C, s₁…s_d] with
    /// <paramref name="kernel"/> [O, C, k₁…k_d] gives [N, O, o₁…o_d]. <paramref name="padLow"/>/<paramref name="padHigh"/>
    /// are the zeros before/after each spatial axis; each argument has one entry per spatial axis (dilation 1 is dense).
    /// With <paramref name="groups"/> G &gt; 1 (ONNX's <c>group</c>, Flax's <c>feature_group_count</c>) the kernel is
    /// [O, C/G, k₁…k_d] and each group of C/G input channels makes O/G outputs. Layers (<c>Conv</c>) call it with
    /// channels-last data transposed; gradients flow to both operands.
    /// </summary>
    public Tensor ConvGeneral(Tensor kernel, int[] strides, int[] padLow, int[] padHigh, int[] dilation, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return new ConvGeneral(new Ints(strides), new Ints(padLow), new Ints(padHigh), new Ints(dilation), groups).Bind(this, kernel);
    }
}
