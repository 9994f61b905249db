namespace NnxSharp.Primitives;

/// <summary>
/// An N-d convolution (strictly a cross-correlation) in ONNX's layout: x [N, C, s₁…s_d] and kernel
/// [O, C/G, k₁…k_d] give [N, O, o₁…o_d] with
/// y[n, o, p] = Σ_{c', q} x[n, g·C/G + c', p·stride + q·dilation − padLow] · w[o, c', q] (zero outside x), where
/// g = ⌊o / (O/G)⌋ is the output channel's group (G = 1: every input channel; G = C: depthwise), and
/// o_i = ⌊(s_i + low_i + high_i − dilation_i·(k_i − 1) − 1) / stride_i⌋ + 1. Float32 lowers to ONNX Conv;
/// float64, which ONNX Runtime's CPU Conv lacks, to the same sum as pad, gather of the windows and one MatMul.
/// Both gradients are convolutions again (see <see cref="Vjp"/>), so they lower to the runtime's Conv too.
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
        if (args.Output.DType == DType.Float32)
            return e.Node("Conv", args.Inputs,
                OnnxAttribute.Ints("strides", Strides.ToLongArray()),
                OnnxAttribute.Ints("pads", [.. PadLow.ToLongArray(), .. PadHigh.ToLongArray()]),
                OnnxAttribute.Ints("dilations", Dilation.ToLongArray()),
                OnnxAttribute.Int("group", Groups));
        return LowerAsMatMul(e, args);
    }

    /// <summary>
    /// ∂x: the cotangent dilated by the strides (zeros between its elements), convolved with the kernel
    /// transposed to [C, O, k…] and flipped, at dilation d and pads d·(k − 1) − low before and
    /// s_in − len + low after (negative pads become slices). ∂w: a convolution of x with the cotangent, batch
    /// and channels swapped ([C, N, s…] by [O, N, o…]), strides and dilation exchanged, cut to the kernel's size.
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
