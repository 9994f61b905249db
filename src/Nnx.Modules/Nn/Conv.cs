using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// A convolution over channels-last inputs (Flax's <c>nnx.Conv</c>): x is [batch..., spatial..., in], the
/// kernel is [k₁, …, k_d, in, out] (LeCun normal), the bias [out] (zeros). Strictly a cross-correlation, as in
/// every framework: y[n, p, o] = Σ_{offset, c} x[n, p·s + offset·dilation − padLow, c] · K[offset, c, o] + b[o].
/// Lowers as the <see cref="ConvGeneral"/> primitive between transposes to and from channels-first (ONNX Runtime's
/// direct convolutions) or as im2col (pad, gather of the windows, one matrix product); <see cref="UseIm2Col"/> chooses. With feature groups G
/// (Flax's <c>feature_group_count</c>; G = in is depthwise) the kernel is [k…, in/G, out] and output channel o sees only
/// the input channels of its group ⌊o / (out/G)⌋.
/// </summary>
public sealed class Conv : Module, ILayer
{
    /// <summary>Creates the layer, drawing the kernel's key and then the bias's key from <c>rngs.Params()</c>, as Flax does.</summary>
    /// <param name="inFeatures">The number of input channels (the last axis).</param>
    /// <param name="outFeatures">The number of output channels.</param>
    /// <param name="kernelSize">The window's size along each spatial axis (two numbers for a 2-D convolution).</param>
    /// <param name="rngs">The random streams; <c>params</c> (or <c>default</c>) gives the keys.</param>
    /// <param name="strides">The step along each spatial axis; 1 when null.</param>
    /// <param name="padding">SAME (the default), VALID, or explicit pairs.</param>
    /// <param name="kernelDilation">The kernel's dilation along each spatial axis (Flax's <c>kernel_dilation</c>); 1 when null.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="kernelInit">The kernel initializer; LeCun normal (fan in = in·k₁·…·k_d) when null.</param>
    /// <param name="biasInit">The bias initializer; zeros when null.</param>
    /// <param name="paramDType">The parameters' dtype.</param>
    /// <param name="featureGroupCount">The feature groups G (Flax's <c>feature_group_count</c>): in and out are multiples of it.</param>
    public Conv(int inFeatures, int outFeatures, int[] kernelSize, Rngs rngs, int[]? strides = null, Padding? padding = null, bool useBias = true,
        Initializer? kernelInit = null, Initializer? biasInit = null, DType paramDType = DType.Float32, int[]? kernelDilation = null, int featureGroupCount = 1)
    {
        ArgumentNullException.ThrowIfNull(rngs);
        LayerChecks.Positive("Conv", nameof(inFeatures), inFeatures);
        LayerChecks.Positive("Conv", nameof(outFeatures), outFeatures);
        var (s, dil) = LayerChecks.Window("Conv", kernelSize, strides, kernelDilation);
        if (featureGroupCount < 1 || inFeatures % featureGroupCount != 0 || outFeatures % featureGroupCount != 0)
            throw new ArgumentException($"Conv: feature group count {featureGroupCount} must be positive and divide both in features {inFeatures} and out features {outFeatures}.", nameof(featureGroupCount));
        (InFeatures, OutFeatures, KernelSize, Strides, Padding, KernelDilation) = (inFeatures, outFeatures, [.. kernelSize], s, padding ?? Padding.Same, dil);
        FeatureGroupCount = featureGroupCount;
        Kernel = new Param((kernelInit ?? Init.LecunNormal())(rngs.Params(), [.. kernelSize, inFeatures / featureGroupCount, outFeatures], paramDType));
        if (useBias) Bias = new Param((biasInit ?? Init.Zeros)(rngs.Params(), [outFeatures], paramDType));
    }

    /// <summary>The number of input channels.</summary>
    public int InFeatures { get; }

    /// <summary>The number of output channels.</summary>
    public int OutFeatures { get; }

    /// <summary>The window's size along each spatial axis.</summary>
    public int[] KernelSize { get; }

    /// <summary>The step along each spatial axis.</summary>
    public int[] Strides { get; }

    /// <summary>How the input is padded.</summary>
    public Padding Padding { get; }

    /// <summary>The kernel's dilation along each spatial axis.</summary>
    public int[] KernelDilation { get; }

    /// <summary>The feature groups (1: every output channel sees every input channel).</summary>
    public int FeatureGroupCount { get; }

    /// <summary>
    /// How the convolution lowers. Null (the default) chooses: im2col for one input channel at stride 1 (a first
    /// layer on grey images, whose columns are plain slices), the <see cref="ConvGeneral"/> primitive otherwise.
    /// True: im2col, pad + one gather of every window + one matrix product (a k-fold copy of the input). False: the
    /// primitive, which runs ONNX Runtime's direct NCHWc convolutions on CPUs with AVX2 or AVX-512 for the
    /// forward and the input gradient (channels in multiples of 8 or 16) and ONNX Conv elsewhere, with the kernel
    /// gradient as one matrix product (notes/layers.md has the measurements). A static attribute: part of the GraphDef.
    /// </summary>
    public bool? UseIm2Col { get; init; }

    /// <summary>The kernel, [k₁, …, k_d, in/groups, out] (PyTorch's weight is [out, in/groups, k₁, …, k_d]).</summary>
    public Param Kernel { get; }

    /// <summary>The bias, [out], or null.</summary>
    public Param? Bias { get; }

    /// <summary>
    /// The convolution of x [batch..., spatial..., in] (at least one batch axis); the result is
    /// [batch..., out spatial..., out].
    /// </summary>
    public Tensor Call(Tensor x)
    {
        var d = KernelSize.Length;
        var (batch, sizes) = Spatial("Conv", x, d, InFeatures);
        var extent = KernelSize.Select((k, i) => KernelDilation[i] * (k - 1) + 1).ToArray();
        var pads = Padding.Resolve(sizes, extent, Strides, "Conv");
        var padded = sizes.Select((n, i) => n + pads[i].Low + pads[i].High).ToArray();
        var output = padded.Select((n, i) => n < extent[i] ? 0 : (n - extent[i]) / Strides[i] + 1).ToArray();
        if (output.Any(n => n == 0))
            throw new ArgumentException($"Conv: the input {x.Aval} padded to spatial size [{string.Join(",", padded)}] is smaller than the kernel [{string.Join(",", KernelSize)}]{(KernelDilation.Any(v => v > 1) ? $" dilated by [{string.Join(",", KernelDilation)}]" : "")}.", nameof(x));

        var (xn, kernel) = Operands(x, Kernel.Value, batch, sizes, InFeatures);
        var y = Convolve(xn, kernel, KernelSize, Strides, pads, KernelDilation, FeatureGroupCount, UseIm2Col, Bias?.Value);
        return y.Reshape([.. batch, .. output, OutFeatures]);
    }

    /// <summary>
    /// Checks x [batch..., spatial..., in] (float, d spatial axes, <paramref name="inFeatures"/> channels last) for a
    /// convolution layer and splits its shape into the batch axes and the spatial sizes.
    /// </summary>
    internal static (int[] Batch, int[] Sizes) Spatial(string layer, Tensor x, int d, int inFeatures)
    {
        LayerChecks.Float(layer, x, d + 2, $"[batch, {string.Join(", ", Enumerable.Range(1, d).Select(i => $"spatial{i}"))}, {inFeatures}]");
        LayerChecks.Features(layer, x, -1, inFeatures);
        return (x.Shape.Take(x.Rank - d - 1).ToArray(), x.Shape.Skip(x.Rank - d - 1).Take(d).ToArray());
    }

    /// <summary>x with its batch axes flattened into one, [n, sizes…, in], and the kernel, both in their promoted dtype.</summary>
    internal static (Tensor Xn, Tensor Kernel) Operands(Tensor x, Tensor kernel, int[] batch, int[] sizes, int inFeatures)
    {
        var xn = x.Reshape([batch.Aggregate(1, (a, b) => a * b), .. sizes, inFeatures]);
        if (x.DType == kernel.DType) return (xn, kernel);
        var t = DTypes.Promote(x.DType, kernel.DType);
        return (xn.Cast(t), kernel.Cast(t));
    }

    /// <summary>
    /// The convolution of xn [n, spatial…, in] with kernel [k…, in/groups, out] at the given pads (non-negative),
    /// strides and dilation, channels last: [n, out spatial…, out]; lowered as im2col or as <see cref="ConvGeneral"/>
    /// (null: as <see cref="UseIm2Col"/> describes).
    /// The bias [out], if any, is added to im2col's [positions, out] product, where the fusion pass makes product and
    /// bias one Gemm (the separate broadcast addition over the whole output was 2–4 % of the convnet's step); with one
    /// input channel at stride 1 it goes inside the product itself (<see cref="SingleChannel"/>).
    /// </summary>
    internal static Tensor Convolve(Tensor xn, Tensor kernel, int[] kernelSize, int[] strides, (int Low, int High)[] pads, int[] dilation, int groups, bool? useIm2Col, Tensor? bias = null)
    {
        var im2col = useIm2Col ?? (xn.Shape[^1] == 1 && groups == 1 && strides.All(s => s == 1));
        var d = kernelSize.Length;
        var sizes = xn.Shape.Skip(1).Take(d).ToArray();
        var padded = sizes.Select((v, i) => v + pads[i].Low + pads[i].High).ToArray();
        var output = padded.Select((v, i) => (v - dilation[i] * (kernelSize[i] - 1) - 1) / strides[i] + 1).ToArray();
        var (n, outFeatures) = (xn.Shape[0], kernel.Shape[^1]);
        if (!im2col)
        {
            var y = Native(xn, kernel, strides, pads, dilation, groups);
            return bias is null ? y : y + bias;
        }
        return Im2Col(xn, kernel, kernelSize, strides, pads, dilation, groups, padded, output, bias).Reshape([n, .. output, outFeatures]);
    }

    /// <summary>[n, spatial…, in] → channels first → <see cref="ConvGeneral"/> with the kernel as [out, in/G, k…] → channels last.</summary>
    private static Tensor Native(Tensor xn, Tensor kernel, int[] strides, (int Low, int High)[] pads, int[] dilation, int groups)
    {
        var d = strides.Length;
        var spatial = Enumerable.Range(1, d).ToArray();
        var xc = xn.Transpose([0, d + 1, .. spatial]);
        var kc = kernel.Transpose([d + 1, d, .. Enumerable.Range(0, d)]);
        var y = xc.ConvGeneral(kc, strides, [.. pads.Select(p => p.Low)], [.. pads.Select(p => p.High)], dilation, groups);
        return y.Transpose([0, .. Enumerable.Range(2, d), 1]);
    }

    /// <summary>
    /// im2col: pad, gather every window's positions with one constant index, then one [positions, k·in] × [k·in, out]
    /// product (per group), plus the bias, if any: [n·positions, out].
    /// </summary>
    private static Tensor Im2Col(Tensor xn, Tensor kernel, int[] kernelSize, int[] strides, (int Low, int High)[] pads, int[] dilation, int groups, int[] padded, int[] output, Tensor? bias)
    {
        var (n, inFeatures, outFeatures) = (xn.Shape[0], xn.Shape[^1], kernel.Shape[^1]);
        if (pads.Any(p => p.Low != 0 || p.High != 0))
            xn = xn.Pad([0, .. pads.Select(p => p.Low), 0], [0, .. pads.Select(p => p.High), 0]);
        if (inFeatures == 1 && groups == 1 && strides.All(s => s == 1)) return SingleChannel(xn, kernel, kernelSize, dilation, output, bias);
        var positions = padded.Aggregate(1, (a, b) => a * b);
        var windows = xn.Reshape(n * positions, inFeatures).Gather(WindowIndex(n, padded, output, kernelSize, strides, dilation), axis: 0);
        var outPositions = output.Aggregate(1, (a, b) => a * b);
        var k = kernelSize.Aggregate(1, (a, b) => a * b);
        Tensor product;
        if (groups == 1) product = windows.Reshape(n * outPositions, k * inFeatures).MatMul(kernel.Reshape(k * inFeatures, outFeatures));
        else
        {
            // Per group g: the windows' channels of g, [n·positions, k·in/G], times its kernel block [k·in/G, out/G].
            var (cg, og) = (inFeatures / groups, outFeatures / groups);
            var columns = windows.Reshape(n * outPositions, k, groups, cg).Transpose([2, 0, 1, 3]).Reshape(groups, n * outPositions, k * cg);
            var blocks = kernel.Reshape(k * cg, groups, og).Transpose([1, 0, 2]);
            product = columns.MatMul(blocks).Transpose([1, 0, 2]).Reshape(n * outPositions, outFeatures);
        }
        return bias is null ? product : product + bias;
    }

    /// <summary>
    /// im2col for one input channel at stride 1 (a network's first layer on grey images): the columns transposed,
    /// [k, n·positions], one slice of the padded input per kernel offset concatenated along axis 0 (contiguous
    /// copies, where the gather copied single floats), then columnsᵀ·kernel. The kernel's gradient columnsᵀ·g is then
    /// a product of untransposed operands; with [n·positions, k] columns it was MLAS's transposed-A path
    /// (notes/layers.md). The input gets no gradient when it is data. A bias goes inside the product: a row of ones
    /// under the columns and the bias under the kernel, so that ONNX Runtime's Gemm does not first copy the broadcast
    /// bias over the whole output (single-threaded), and the bias's gradient comes out of the kernel's gradient
    /// product instead of a second pass over the cotangent.
    /// </summary>
    private static Tensor SingleChannel(Tensor xp, Tensor kernel, int[] kernelSize, int[] dilation, int[] output, Tensor? bias)
    {
        var columns = ConvGeneral.SingleChannelColumns(xp, kernelSize, dilation, output);
        var flat = kernel.Reshape(kernelSize.Aggregate(1, (a, b) => a * b), kernel.Shape[^1]);
        if (bias is null) return columns.Transpose(1, 0).MatMul(flat);
        if (bias.DType != columns.DType) return columns.Transpose(1, 0).MatMul(flat) + bias;
        var ones = Tensor.Ones(columns.DType, 1, columns.Shape[1]);
        return Tensor.Concat(0, columns, ones).Transpose(1, 0).MatMul(Tensor.Concat(0, flat, bias.Reshape(1, bias.Shape[0])));
    }

    /// <summary>
    /// The row of [n·padded positions, in] of every (example, output position, kernel offset), offsets inner (row-major),
    /// so that the gathered rows line up with the kernel flattened to [k·in, out]. The gather is along axis 0, whose
    /// gradient scatters straight into the rows; along axis 1 ([n, positions, in]) the gradient moved the whole
    /// [n, windows, in] cotangent to the front and back (notes/layers.md).
    /// </summary>
    private static Tensor WindowIndex(int n, int[] padded, int[] output, int[] kernelSize, int[] strides, int[] dilation)
    {
        var index = Windows.Rows(n, padded, output, kernelSize, strides, dilation);
        return Tensor.FromArray(index, index.Length);
    }
}
