using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// A transposed convolution over channels-last inputs (Flax's <c>nnx.ConvTranspose</c>, i.e. <c>lax.conv_transpose</c>
/// with <c>transpose_kernel=False</c>): x [batch..., spatial..., in] is dilated by the strides (s − 1 zeros between
/// neighbours), padded, and cross-correlated at stride 1 with the kernel [k₁, …, k_d, in, out] (LeCun normal, not
/// flipped) dilated by <see cref="KernelDilation"/>; plus the bias [out] (zeros). SAME and VALID pad each axis as
/// JAX's <c>_conv_transpose_padding</c> of the dilated extent e = d·(k − 1) + 1: SAME (e + s − 2 in all; e − 1 before
/// when s > e − 1, else half rounded up) gives n·s outputs, VALID (e − 1 before, s − 1 + max(e − s, 0) after) gives
/// n·s + max(e − s, 0); explicit pairs pad the dilated input as given. Written with primitives (Pad, Reshape, Slice
/// and <see cref="Conv"/>'s lowerings), so its gradients are theirs.
/// </summary>
public sealed class ConvTranspose : Module, ILayer
{
    /// <summary>Creates the layer, drawing the kernel's key and then the bias's key from <c>rngs.Params()</c>, as Flax does.</summary>
    /// <param name="inFeatures">The number of input channels (the last axis).</param>
    /// <param name="outFeatures">The number of output channels.</param>
    /// <param name="kernelSize">The window's size along each spatial axis.</param>
    /// <param name="rngs">The random streams; <c>params</c> (or <c>default</c>) gives the keys.</param>
    /// <param name="strides">The input's dilation (the upsampling factor) along each spatial axis; 1 when null.</param>
    /// <param name="padding">SAME (the default), VALID, or explicit pairs on the dilated input.</param>
    /// <param name="kernelDilation">The kernel's dilation along each spatial axis; 1 when null.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="kernelInit">The kernel initializer; LeCun normal (fan in = in·k₁·…·k_d, from the kernel's shape) when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The parameters' dtype.</param>
    public ConvTranspose(int inFeatures, int outFeatures, int[] kernelSize, Rngs rngs, int[]? strides = null, Padding? padding = null,
        int[]? kernelDilation = null, bool useBias = true, Initializer? kernelInit = null, Initializer? biasInit = null, DType paramDType = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("ConvTranspose", nameof(inFeatures), inFeatures);
        LayerChecks.Positive("ConvTranspose", nameof(outFeatures), outFeatures);
        var (s, dil) = LayerChecks.Window("ConvTranspose", kernelSize, strides, kernelDilation);
        (InFeatures, OutFeatures, KernelSize, Strides, Padding, KernelDilation) = (inFeatures, outFeatures, [.. kernelSize], s, padding ?? Padding.Same, dil);
        Kernel = new Param((kernelInit ?? Init.LecunNormal())(rngs.Params(), [.. kernelSize, inFeatures, outFeatures], paramDType));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [outFeatures], paramDType));
    }

    /// <summary>The number of input channels.</summary>
    public int InFeatures { get; }

    /// <summary>The number of output channels.</summary>
    public int OutFeatures { get; }

    /// <summary>The window's size along each spatial axis.</summary>
    public int[] KernelSize { get; }

    /// <summary>The input's dilation (upsampling factor) along each spatial axis.</summary>
    public int[] Strides { get; }

    /// <summary>How the dilated input is padded.</summary>
    public Padding Padding { get; }

    /// <summary>The kernel's dilation along each spatial axis.</summary>
    public int[] KernelDilation { get; }

    /// <summary>As <see cref="Conv.UseIm2Col"/>: true lowers the inner convolution as im2col, false as <see cref="ConvGeneral"/>.</summary>
    public bool UseIm2Col { get; init; } = true;

    /// <summary>The kernel, [k₁, …, k_d, in, out].</summary>
    public Param Kernel { get; }

    /// <summary>The bias, [out], or null.</summary>
    public Param? Bias { get; }

    /// <summary>The transposed convolution of x [batch..., spatial..., in] (at least one batch axis): [batch..., out spatial..., out].</summary>
    public Tensor Call(Tensor x)
    {
        var d = KernelSize.Length;
        var (batch, sizes) = Conv.Spatial("ConvTranspose", x, d, InFeatures);
        var extent = KernelSize.Select((k, i) => KernelDilation[i] * (k - 1) + 1).ToArray();
        var pads = Pads(extent);
        var dilated = sizes.Select((v, i) => (v - 1) * Strides[i] + 1).ToArray();
        var padded = dilated.Select((v, i) => v + pads[i].Low + pads[i].High).ToArray();
        if (padded.Where((v, i) => v < extent[i]).Any())
            throw new ArgumentException($"ConvTranspose: the input {x.Aval} dilated and padded to spatial size [{string.Join(",", padded)}] is smaller than the kernel [{string.Join(",", KernelSize)}]{(KernelDilation.Any(v => v > 1) ? $" dilated by [{string.Join(",", KernelDilation)}]" : "")}.", nameof(x));

        var (xn, kernel) = Conv.Operands(x, Kernel.Value, batch, sizes, InFeatures);
        var y = Conv.Convolve(Dilate(xn, sizes), kernel, KernelSize, [.. Enumerable.Repeat(1, d)], pads, KernelDilation, 1, UseIm2Col);
        if (Bias is not null) y += Bias;
        return y.Reshape([.. batch, .. y.Shape.Skip(1)]);
    }

    /// <summary>The pads of the dilated input: JAX's <c>_conv_transpose_padding</c> for SAME and VALID, else the explicit pairs.</summary>
    private (int Low, int High)[] Pads(int[] extent)
    {
        var d = extent.Length;
        if (Padding.Mode == "EXPLICIT")
        {
            if (Padding.Pairs.Count != d)
                throw new ArgumentException($"ConvTranspose: explicit padding {Padding} has {Padding.Pairs.Count} pairs but the kernel has {d} spatial axes.");
            return [.. Padding.Pairs];
        }
        return [.. extent.Select((e, i) =>
        {
            var s = Strides[i];
            if (Padding.Mode == "SAME")
            {
                var total = e + s - 2;
                var low = s > e - 1 ? e - 1 : (total + 1) / 2;
                return (low, total - low);
            }
            return (e - 1, s - 1 + Math.Max(e - s, 0));
        })];
    }

    /// <summary>Puts s − 1 zeros between neighbours along each spatial axis: [n, v…, c] → [n, (v − 1)·s + 1…, c].</summary>
    private Tensor Dilate(Tensor xn, int[] sizes)
    {
        if (Strides.All(s => s == 1)) return xn;
        var d = sizes.Length;
        var (n, c) = (xn.Shape[0], xn.Shape[^1]);
        int[] spread = [n, .. sizes.SelectMany(v => new[] { v, 1 }), c];
        int[] after = [0, .. Strides.SelectMany(s => new[] { 0, s - 1 }), 0];
        return xn.Reshape(spread).Pad(new int[spread.Length], after)
            .Reshape([n, .. sizes.Select((v, i) => v * Strides[i]), c])
            .Slice(new int[d + 2], [n, .. sizes.Select((v, i) => (v - 1) * Strides[i] + 1), c]);
    }
}
