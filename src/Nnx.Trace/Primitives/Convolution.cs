namespace NnxSharp.Primitives;

/// <summary>
/// An N-d convolution (strictly a cross-correlation) in ONNX's layout: x [N, C, s₁…s_d] and kernel
/// [O, C/G, k₁…k_d] give [N, O, o₁…o_d] with
/// y[n, o, p] = Σ_{c', q} x[n, g·C/G + c', p·stride + q·dilation − padLow] · w[o, c', q] (zero outside x), where
/// g = ⌊o / (O/G)⌋ is the output channel's group (G = 1: every input channel; G = C: depthwise), and
/// o_i = ⌊(s_i + low_i + high_i − dilation_i·(k_i − 1) − 1) / stride_i⌋ + 1. Float32 lowers to ONNX Runtime's
/// NCHWc direct convolution when the graph runs in this process on a CPU that has it (<see cref="IOnnxEmitter.NchwcBlockSize"/>)
/// and to ONNX Conv otherwise (exported files, CUDA); float64, which ONNX Runtime's CPU Conv lacks, to the same sum
/// as pad, gather of the windows and one MatMul. The input gradient is a convolution again; the kernel gradient
/// (one group) is one matrix product of the gathered windows with the cotangent (see <see cref="Vjp"/>).
/// </summary>
/// <param name="Strides">The step per spatial axis.</param>
/// <param name="PadLow">Zeros before each spatial axis.</param>
/// <param name="PadHigh">Zeros after each spatial axis.</param>
/// <param name="Dilation">The kernel's dilation per spatial axis (1: dense).</param>
/// <param name="Groups">The feature groups G (ONNX's <c>group</c>, Flax's <c>feature_group_count</c>): C and O are multiples of it.</param>
internal sealed record ConvGeneral(Ints Strides, Ints PadLow, Ints PadHigh, Ints Dilation, int Groups = 1) : Primitive
{
    public override int Arity => 2;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var t = ShapeRules.SameDType(Name, inputs);
        ShapeRules.RequireDType(Name, inputs, 0, d => d is DType.Float32 or DType.Float64, "float32 or float64");
        var (x, w) = (inputs[0].Shape, inputs[1].Shape);
        var d = Strides.Count;
        if (d == 0 || PadLow.Count != d || PadHigh.Count != d || Dilation.Count != d)
            throw new ArgumentException($"{Name}: strides {Strides}, pads {PadLow} {PadHigh} and dilation {Dilation} need one entry per spatial axis.");
        if (Strides.Any(s => s <= 0) || Dilation.Any(s => s <= 0) || PadLow.Any(p => p < 0) || PadHigh.Any(p => p < 0))
            throw new ArgumentException($"{Name}: strides {Strides} and dilation {Dilation} must be positive and pads {PadLow} {PadHigh} non-negative.");
        if (x.Rank != d + 2 || w.Rank != d + 2)
            throw new ArgumentException($"{Name}: expects x [N, C, {d} spatial] and kernel [O, C, {d} spatial] but got {ShapeRules.Describe(inputs)}.");
        if (Groups < 1 || w[0] % Groups != 0)
            throw new ArgumentException($"{Name}: {Groups} feature groups must be positive and divide the kernel's {w[0]} output channels ({ShapeRules.Describe(inputs)}).");
        if (x[1] != w[1] * Groups)
            throw new ArgumentException($"{Name}: x has {x[1]} channels but the kernel expects {w[1]}{(Groups > 1 ? $" per group × {Groups} groups" : "")} ({ShapeRules.Describe(inputs)}).");
        var output = new int[d];
        for (var i = 0; i < d; i++)
        {
            var padded = x[2 + i] + PadLow[i] + PadHigh[i];
            var extent = Dilation[i] * (w[2 + i] - 1) + 1;
            if (padded < extent)
                throw new ArgumentException($"{Name}: spatial axis {i} of x padded to {padded} is smaller than the dilated kernel's extent {extent} ({ShapeRules.Describe(inputs)}).");
            output[i] = (padded - extent) / Strides[i] + 1;
        }
        return new Aval(Shape.Of([x[0], w[0], .. output]), t);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var (x, w) = (inputs[0], inputs[1]);
        var outShape = Infer([x.Aval, w.Aval]).Shape;
        var d = Strides.Count;
        var (n, c, o) = (x.Shape[0], x.Shape[1], w.Shape[0]);
        var (cg, og) = (c / Groups, o / Groups);
        var inSp = x.Shape.Skip(2).ToArray();
        var kSp = w.Shape.Skip(2).ToArray();
        var outSp = outShape.Skip(2).ToArray();
        var (inSize, kSize, outSize) = (Product(inSp), Product(kSp), Product(outSp));
        var r = new double[outShape.Size];
        var (po, pk) = (new int[d], new int[d]);
        for (var p = 0; p < outSize; p++)
        {
            Windows.Unravel(p, outSp, po);
            for (var q = 0; q < kSize; q++)
            {
                Windows.Unravel(q, kSp, pk);
                var flat = 0;
                var inside = true;
                for (var i = 0; i < d && inside; i++)
                {
                    var at = po[i] * Strides[i] + pk[i] * Dilation[i] - PadLow[i];
                    inside = at >= 0 && at < inSp[i];
                    flat = flat * inSp[i] + at;
                }
                if (!inside) continue;
                for (var b = 0; b < n; b++)
                    for (var oc = 0; oc < o; oc++)
                    {
                        double s = 0;
                        for (var ic = 0; ic < cg; ic++) s += x.F![(b * c + oc / og * cg + ic) * inSize + flat] * w.F![(oc * cg + ic) * kSize + q];
                        r[(b * o + oc) * outSize + p] += s;
                    }
            }
        }
        return HostArray.FromDoubles(x.DType, outShape, r);
    }

    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (args.Output.DType != DType.Float32) return LowerAsMatMul(e, args);
        if (e.NchwcBlockSize > 0 && Blockable(args, e.NchwcBlockSize)) return LowerAsNchwc(e, args, e.NchwcBlockSize);
        return e.Node("Conv", args.Inputs, ConvAttributes());
    }

    private OnnxAttribute[] ConvAttributes() =>
    [
        OnnxAttribute.Ints("strides", Strides.ToLongArray()),
        OnnxAttribute.Ints("pads", [.. PadLow.ToLongArray(), .. PadHigh.ToLongArray()]),
        OnnxAttribute.Ints("dilations", Dilation.ToLongArray()),
        OnnxAttribute.Int("group", Groups),
    ];

    /// <summary>
    /// Whether ONNX Runtime's NCHWc direct convolution takes this one: 2-D, one group, both channel counts multiples
    /// of the block, and a kernel no larger than the output. The last leaves out convolutions like a kernel gradient
    /// written as one (a [O, N, o…] cotangent as the kernel over a few output positions), where the direct kernel has
    /// little to vectorise over: for the Fashion-MNIST convnet's conv2 that took 31 ms against the NCHWc forward's 13.5
    /// (1 thread).
    /// </summary>
    private bool Blockable(LowerArgs args, int block)
    {
        var (x, w, y) = (args.InputAvals[0].Shape, args.InputAvals[1].Shape, args.Output.Shape);
        return Strides.Count == 2 && Groups == 1 && x[1] % block == 0 && w[0] % block == 0 && w[2] * w[3] <= y[2] * y[3];
    }

    /// <summary>
    /// The convolution through ONNX Runtime's NCHWc kernels, which its optimizer picks only for constant weights
    /// (so never in a training step): x reordered to channel blocks, the kernel [O, C, kh, kw] reordered to
    /// [O/B, C/B, kh, kw, B(in), B(out)] (a reshape and a transpose of the small kernel, every call), the direct
    /// convolution, and the result reordered back to [N, O, o…]. A transpose from channels last before it, and one to
    /// channels last after it (<see cref="Transpose.Lower"/>), fold into the reorders.
    /// </summary>
    private string LowerAsNchwc(IOnnxEmitter e, LowerArgs args, int block)
    {
        var w = args.InputAvals[1].Shape;
        var (o, c) = (w[0], w[1]);
        // x transposed from channels last (a channels-last layer's input) is reordered from channels last instead.
        var x = e.Producer(args.Inputs[0]) is { } p && p.Is("Transpose") && p.Ints("perm") is [0, 3, 1, 2]
            ? e.Node(NchwcDomain, "ReorderInput", [p.Inputs[0]], OnnxAttribute.Int("channels_last", 1))
            : e.Node(NchwcDomain, "ReorderInput", [args.Inputs[0]]);
        var split = e.Reshape(args.Inputs[1], Shape.Of(o / block, block, c / block, block, w[2], w[3]));
        var kernel = e.Reshape(e.Node("Transpose", [split], OnnxAttribute.Ints("perm", 0, 2, 4, 5, 3, 1)), w);
        var y = e.Node(NchwcDomain, "Conv", [x, kernel], ConvAttributes());
        return e.Node(NchwcDomain, "ReorderOutput", [y], OnnxAttribute.Int("channels", o));
    }

    /// <summary>
    /// x + bias with x an NCHWc convolution read channels last and bias [O] along its last axis, as that convolution
    /// with the bias as its B input; null when the pattern does not hold or the convolution has another reader.
    /// </summary>
    internal static string? FuseBias(IOnnxEmitter e, LowerArgs args)
    {
        if (args.Output.DType != DType.Float32 || args.InputAvals[1].Shape.Rank != 1 || args.InputAvals[0] != args.Output
            || args.InputAvals[1].Shape[0] != args.Output.Shape[^1] || ChannelsLast(e, args.Inputs[0]) is not var (reorder, conv)
            || conv.Inputs.Count != 2 || conv.Attributes.Any(a => a.Name == "activation"))
            return null;
        return Rebuilt(e, reorder, conv, [conv.Inputs[0], conv.Inputs[1], args.Inputs[1]], conv.Attributes);
    }

    /// <summary>relu(x) with x an NCHWc convolution read channels last, as that convolution with its Relu activation; or null.</summary>
    internal static string? FuseRelu(IOnnxEmitter e, LowerArgs args)
    {
        if (args.Output.DType != DType.Float32 || ChannelsLast(e, args.Inputs[0]) is not var (reorder, conv) || conv.Attributes.Any(a => a.Name == "activation"))
            return null;
        return Rebuilt(e, reorder, conv, conv.Inputs, [.. conv.Attributes, OnnxAttribute.String("activation", "Relu")]);
    }

    /// <summary>
    /// The ReorderOutput (channels last) and the NCHWc Conv behind <paramref name="name"/>, when this lowering is its only
    /// reader (and so the convolution's: <see cref="Transpose.Lower"/> reorders it channels last only for a sole reader).
    /// </summary>
    private static (OnnxNode Reorder, OnnxNode Conv)? ChannelsLast(IOnnxEmitter e, string name) =>
        e.Readers(name) == 1 && e.Producer(name) is { } r && r.Is("ReorderOutput", NchwcDomain) && r.Int("channels_last") == 1
        && e.Producer(r.Inputs[0]) is { } c && c.Is("Conv", NchwcDomain)
            ? (r, c) : null;

    /// <summary>The convolution again with other inputs or attributes, reordered as before; the first becomes unread and is dropped.</summary>
    private static string Rebuilt(IOnnxEmitter e, OnnxNode reorder, OnnxNode conv, IReadOnlyList<string> inputs, IReadOnlyList<OnnxAttribute> attributes) =>
        e.Node(NchwcDomain, "ReorderOutput", [e.Node(NchwcDomain, "Conv", inputs, [.. attributes])], [.. reorder.Attributes]);

    /// <summary>The domain of ONNX Runtime's NCHWc CPU operators.</summary>
    internal const string NchwcDomain = "com.microsoft.nchwc";

    /// <summary>
    /// ∂x: the cotangent dilated by the strides (zeros between its elements), convolved with the kernel
    /// transposed to [C, O, k…] and flipped, at dilation d and pads d·(k − 1) − low before and
    /// s_in − len + low after (negative pads become slices). ∂w: with one group, gᵀ times x's windows (im2col);
    /// with groups, a convolution of x with the cotangent, batch and channels swapped ([C, N, s…] by [O, N, o…]),
    /// strides and dilation exchanged, cut to the kernel's size.
    /// </summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [InputGradient(x[0], x[1], g), KernelGradient(x[0], x[1], g)];

    private Tensor InputGradient(Tensor x, Tensor w, Tensor g)
    {
        var d = Strides.Count;
        var (n, c, o) = (x.Shape[0], x.Shape[1], w.Shape[0]);
        var outSp = g.Shape.Skip(2).ToArray();
        var gd = g;
        if (Strides.Any(s => s > 1))
        {
            int[] spread = [n, o, .. outSp.SelectMany(v => new[] { v, 1 })];
            int[] after = [0, 0, .. Strides.SelectMany(s => new[] { 0, s - 1 })];
            gd = new Pad(new Ints(new int[spread.Length]), new Ints(after)).Bind(g.Reshape(spread))
                .Reshape([n, o, .. outSp.Select((v, i) => v * Strides[i])])
                .Slice(new int[d + 2], [n, o, .. outSp.Select((v, i) => (v - 1) * Strides[i] + 1)]);
        }
        var wf = Groups == 1
            ? w.Transpose([1, 0, .. Enumerable.Range(2, d)])
            : w.Reshape([Groups, o / Groups, c / Groups, .. w.Shape.Skip(2)]).Transpose([0, 2, 1, .. Enumerable.Range(3, d)]).Reshape([c, o / Groups, .. w.Shape.Skip(2)]);
        for (var i = 0; i < d; i++)
        {
            var k = w.Shape[2 + i];
            if (k > 1) wf = wf.Gather(Tensor.FromArray(Enumerable.Range(0, k).Select(j => (long)(k - 1 - j)).ToArray(), k), axis: 2 + i);
        }
        var low = new int[d];
        var high = new int[d];
        var start = new int[d + 2];
        for (var i = 0; i < d; i++)
        {
            var l = Dilation[i] * (w.Shape[2 + i] - 1) - PadLow[i];
            var h = x.Shape[2 + i] - gd.Shape[2 + i] + PadLow[i];
            (low[i], high[i], start[2 + i]) = (Math.Max(l, 0), Math.Max(h, 0), Math.Max(-l, 0));
        }
        var dx = new ConvGeneral(new Ints([.. Enumerable.Repeat(1, d)]), new Ints(low), new Ints(high), Dilation, Groups).Bind(gd, wf);
        return dx.Slice(start, [n, c, .. Enumerable.Range(0, d).Select(i => start[2 + i] + x.Shape[2 + i])]);
    }

    private Tensor KernelGradient(Tensor x, Tensor w, Tensor g)
    {
        if (Groups == 1) return KernelGradientAsProduct(x, w, g);
        var d = Strides.Count;
        int[] swap = [1, 0, .. Enumerable.Range(2, d)];
        var high = new int[d];
        for (var i = 0; i < d; i++)
            high[i] = Math.Max(Dilation[i] * (w.Shape[2 + i] - 1) + (g.Shape[2 + i] - 1) * Strides[i] + 1 - x.Shape[2 + i] - PadLow[i], 0);
        // Groups: x as [C/G, G·N, s…] (channel c' of group g at g·N + n) against g as [O, N, o…] in G groups, so that
        // group g's outputs see only its inputs.
        var (n, c) = (x.Shape[0], x.Shape[1]);
        var xs = Groups == 1
            ? x.Transpose(swap)
            : x.Reshape([n, Groups, c / Groups, .. x.Shape.Skip(2)]).Transpose([2, 1, 0, .. Enumerable.Range(3, d)]).Reshape([c / Groups, Groups * n, .. x.Shape.Skip(2)]);
        var dw = new ConvGeneral(Dilation, PadLow, new Ints(high), Strides, Groups).Bind(xs, g.Transpose(swap));
        return dw.Slice(new int[d + 2], [c / Groups, w.Shape[0], .. w.Shape.Skip(2)]).Transpose(swap);
    }

    /// <summary>
    /// ∂w for one group as im2col: x channels last and padded, the rows of every window gathered into columns
    /// [n·outputs, k·C] (one constant index), and gᵀ [O, n·outputs] · columns: one product whose contraction runs over
    /// every output position. One input channel at stride 1 takes its columns from slices, and 16 or more channels
    /// at stride 1 skip the columns altogether (<see cref="ProductPerOffset"/>). As the convolution of x with the
    /// cotangent (the form above) ONNX Runtime has only its generic kernel, at 52 against about 30 ms (product and
    /// gather) for the Fashion-MNIST convnet's conv2, 1 thread; x's transpose to channels last cancels against a
    /// channels-last layer's own.
    /// </summary>
    private Tensor KernelGradientAsProduct(Tensor x, Tensor w, Tensor g)
    {
        var d = Strides.Count;
        var (n, c, o) = (x.Shape[0], x.Shape[1], w.Shape[0]);
        var kSp = w.Shape.Skip(2).ToArray();
        var outSp = g.Shape.Skip(2).ToArray();
        int[] channelsLast = [0, .. Enumerable.Range(2, d), 1];
        var xl = x.Transpose(channelsLast);
        if (PadLow.Concat(PadHigh).Any(p => p != 0)) xl = xl.Pad([0, .. PadLow, 0], [0, .. PadHigh, 0]);
        var (k, outputs) = (Product(kSp), Product(outSp));
        if (c == 1 && Strides.All(v => v == 1)) return Reorder(SingleChannelColumns(xl, kSp, Dilation.ToArray(), outSp).MatMul(g.Transpose(channelsLast).Reshape(n * outputs, o)));
        if (c >= MinSlicedChannels && Strides.All(v => v == 1)) return ToKernel(ProductPerOffset(xl, g, kSp, Dilation.ToArray(), outSp));
        var padded = xl.Shape.Skip(1).Take(d).ToArray();
        var positions = Product(padded);
        var index = Windows.Rows(n, padded, outSp, kSp, Strides, Dilation);
        var columns = xl.Reshape(n * positions, c).Gather(Tensor.FromArray(index, index.Length), axis: 0).Reshape(n * outputs, k * c);
        // gᵀ [O, n·outputs] from g's own channels-first layout (a copy of whole planes, where transposing the
        // channels-last [n·outputs, O] moves single floats), then gᵀ · columns [O, k·C]: an untransposed product.
        var gt = g.Transpose([1, 0, .. Enumerable.Range(2, d)]).Reshape(o, n * outputs);
        return ToKernel(gt.MatMul(columns));

        // [k·C, O] → [O, C, k…]
        Tensor Reorder(Tensor dw) => dw.Reshape([.. kSp, c, o]).Transpose([d + 1, d, .. Enumerable.Range(0, d)]);

        // [O, k·C] → [O, C, k…]
        Tensor ToKernel(Tensor dw) => dw.Reshape([o, .. kSp, c]).Transpose([0, d + 1, .. Enumerable.Range(1, d)]);
    }

    /// <summary>The fewest input channels for which <see cref="ProductPerOffset"/> replaces the gathered columns.</summary>
    private const int MinSlicedChannels = 16;

    /// <summary>
    /// ∂w at stride 1 as [O, k·C]: for each kernel offset, gᵀ times the input window at that offset (a slice of the
    /// padded channels-last xl, [n·outputs, C]), the k products side by side. No gathered columns: the slices copy whole
    /// rows. The contraction runs over the batch in two halves, as one batched product [2, O, n/2·outputs] ·
    /// [2, n/2·outputs, C] summed, so that two threads each take one (ONNX Runtime splits a product over its O × C
    /// outputs only, too few here). The Fashion-MNIST convnet's conv2 ([128, 32, 14, 14] → 64 channels, 3×3):
    /// 16.1 against 21.3 ms for the gather and one product on 1 thread, 12.2 against 13.4 on 2 (notes/layers.md).
    /// </summary>
    private static Tensor ProductPerOffset(Tensor xl, Tensor g, int[] kSp, int[] dilation, int[] outSp)
    {
        var d = kSp.Length;
        var (n, c, o) = (xl.Shape[0], xl.Shape[^1], g.Shape[1]);
        var halves = n % 2 == 0 ? 2 : 1;
        var rows = n / halves * Product(outSp);
        // gᵀ per half from g's channels-first layout: [halves, n/halves, O, outputs…] → [halves, O, n/halves·outputs].
        var gt = g.Reshape([halves, n / halves, o, .. outSp]).Transpose([0, 2, 1, .. Enumerable.Range(3, d)]).Reshape(halves, o, rows);
        var parts = new Tensor[Product(kSp)];
        for (var q = 0; q < parts.Length; q++)
        {
            var product = gt.MatMul(WindowAt(xl, q, kSp, dilation, outSp).Reshape(halves, rows, c));
            parts[q] = halves == 1 ? product.Reshape(o, c) : product.Sum(0);
        }
        return Tensor.Concat(1, parts);
    }

    /// <summary>
    /// The im2col columns of one input channel at stride 1, transposed: [k, n·outputs] from the padded channels-last
    /// xl [n, padded…, 1], one slice per kernel offset (contiguous copies, where a gather of [n·positions, 1] rows
    /// copies single floats: 12.4 ms for the convnet's first layer, 1 thread). Products with them need no transposed
    /// operand: ∂w = columnsᵀᵀ · g here, and <c>Conv</c>'s forward columnsᵀ · kernel.
    /// </summary>
    internal static Tensor SingleChannelColumns(Tensor xl, int[] kSp, int[] dilation, int[] outSp)
    {
        var columns = xl.Shape[0] * Product(outSp);
        var rows = new Tensor[Product(kSp)];
        for (var q = 0; q < rows.Length; q++) rows[q] = WindowAt(xl, q, kSp, dilation, outSp).Reshape(1, columns);
        return Tensor.Concat(0, rows);
    }

    /// <summary>
    /// The input every output position sees at kernel offset <paramref name="q"/> (flat, row-major over
    /// <paramref name="kSp"/>): the slice [n, outSp…, C] of the padded channels-last <paramref name="xl"/> at stride 1.
    /// </summary>
    private static Tensor WindowAt(Tensor xl, int q, int[] kSp, int[] dilation, int[] outSp)
    {
        var offset = new int[kSp.Length];
        Windows.Unravel(q, kSp, offset);
        int[] starts = [0, .. offset.Select((v, i) => v * dilation[i]), 0];
        int[] ends = [xl.Shape[0], .. offset.Select((v, i) => v * dilation[i] + outSp[i]), xl.Shape[^1]];
        return xl.Slice(starts, ends);
    }

    /// <summary>The flat padded position of every (output position, kernel offset) pair, output positions outer.</summary>
    private long[] WindowIndex(int[] padded, int[] outSp, int[] kSp) => Windows.Positions(padded, outSp, kSp, Strides, Dilation);

    /// <summary>
    /// The convolution as im2col for dtypes without an ONNX Runtime Conv kernel: pad, gather every window's
    /// positions (one constant index), then per group [N·outputs, C/G·k] × [C/G·k, O/G] (one batched MatMul).
    /// </summary>
    private string LowerAsMatMul(IOnnxEmitter e, LowerArgs args)
    {
        var (x, w) = (args.InputAvals[0].Shape, args.InputAvals[1].Shape);
        var d = Strides.Count;
        var (n, c, o) = (x[0], x[1], w[0]);
        var padded = Enumerable.Range(0, d).Select(i => x[2 + i] + PadLow[i] + PadHigh[i]).ToArray();
        var kSp = w.Skip(2).ToArray();
        var outSp = args.Output.Shape.Skip(2).ToArray();
        var (kSize, outSize) = (Product(kSp), Product(outSp));
        var xp = PadLow.Concat(PadHigh).All(p => p == 0)
            ? args.Inputs[0]
            : e.Node("Pad", [args.Inputs[0], e.Int64s([0, 0, .. PadLow.ToLongArray(), 0, 0, .. PadHigh.ToLongArray()])]);
        var index = WindowIndex(padded, outSp, kSp);
        var flatX = e.Reshape(xp, Shape.Of(n, c, Product(padded)));
        var windows = e.Node("Gather", [flatX, e.Constant(HostArray.Create(index, Shape.Of(index.Length)))], OnnxAttribute.Int("axis", 2));
        var (gs, cg, og) = (Groups, c / Groups, o / Groups);
        var grouped = e.Node("Transpose", [e.Reshape(windows, Shape.Of(n, gs, cg, outSize, kSize))], OnnxAttribute.Ints("perm", 1, 0, 3, 2, 4));
        var columns = e.Reshape(grouped, Shape.Of(gs, n * outSize, cg * kSize));
        var kernel = e.Node("Transpose", [e.Reshape(args.Inputs[1], Shape.Of(gs, og, cg * kSize))], OnnxAttribute.Ints("perm", 0, 2, 1));
        var product = e.Node("MatMul", [columns, kernel]);
        var channelsFirst = e.Node("Transpose", [e.Reshape(product, Shape.Of(gs, n, outSize, og))], OnnxAttribute.Ints("perm", 1, 0, 3, 2));
        return e.Reshape(channelsFirst, args.Output.Shape);
    }

    private static int Product(int[] dims) => dims.Aggregate(1, (a, b) => a * b);

}
