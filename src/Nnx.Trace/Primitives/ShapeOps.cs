namespace NnxSharp.Primitives;

/// <summary>The same elements in row-major order with another shape of the same size.</summary>
/// <param name="NewShape">The result's shape.</param>
internal sealed record Reshape(Shape NewShape) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs) => inputs[0].Shape.Size == NewShape.Size
        ? new Aval(NewShape, inputs[0].DType)
        : throw new ArgumentException($"{Name}: cannot reshape {inputs[0]} (argument 0, {inputs[0].Shape.Size} elements) to {NewShape} ({NewShape.Size} elements).");

    public override HostArray Eval(IReadOnlyList<HostArray> inputs) => inputs[0].Reshape(NewShape);

    public override string Lower(IOnnxEmitter e, LowerArgs args) => args.InputAvals[0].Shape == NewShape
        ? args.Inputs[0]
        : e.Reshape(args.Inputs[0], NewShape);

    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g.Reshape(x[0].Shape.ToArray())];
}

/// <summary>Permutes the axes: output axis i is input axis Perm[i].</summary>
/// <param name="Perm">A permutation of 0..rank−1.</param>
internal sealed record Transpose(Ints Perm) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var s = inputs[0].Shape;
        if (Perm.Count != s.Rank || !Perm.OrderBy(p => p).SequenceEqual(Enumerable.Range(0, s.Rank)))
            throw new ArgumentException($"{Name}: {Perm} is not a permutation of the axes of {inputs[0]} (argument 0).");
        return new Aval(Shape.Of(Perm.Select(p => s[p]).ToArray()), inputs[0].DType);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var x = inputs[0];
        var inStrides = x.Shape.Strides();
        return Kernels.TakeAt(x, Infer([x.Aval]).Shape, idx => idx.Select((i, d) => i * inStrides[Perm[d]]).Sum());
    }

    /// <summary>
    /// One ONNX Transpose, except where the input's producer can give the result directly: a transpose of a
    /// lowering's own transpose is one transpose by the composed permutation (none for the identity), and an NCHWc
    /// result that only this reads is reordered straight to channels last (<see cref="ConvGeneral"/>).
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var perm = Perm.ToLongArray();
        var producer = e.Producer(args.Inputs[0]);
        if (producer is not null && producer.Is("Transpose") && producer.Ints("perm") is { } inner)
        {
            var composed = perm.Select(a => inner[a]).ToArray();
            return composed.Select((a, i) => a == i).All(same => same)
                ? producer.Inputs[0]
                : e.Node("Transpose", [producer.Inputs[0]], OnnxAttribute.Ints("perm", composed));
        }
        if (producer is not null && producer.Is("ReorderOutput", ConvGeneral.NchwcDomain) && producer.Int("channels_last") == 0 && perm is [0, 2, 3, 1]
            && e.Readers(args.Inputs[0]) == 1)
            return e.Node(ConvGeneral.NchwcDomain, "ReorderOutput", [producer.Inputs[0]],
                OnnxAttribute.Int("channels", producer.Int("channels")), OnnxAttribute.Int("channels_last", 1));
        return e.Node("Transpose", args.Inputs, OnnxAttribute.Ints("perm", perm));
    }

    /// <summary>The inverse permutation.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var inv = new int[Perm.Count];
        for (var i = 0; i < inv.Length; i++) inv[Perm[i]] = i;
        return [g.Transpose(inv)];
    }
}

/// <summary>Broadcasts to a shape as NumPy does (ONNX Expand).</summary>
/// <param name="Target">The result's shape.</param>
internal sealed record BroadcastTo(Shape Target) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs) => Shape.TryBroadcast(inputs[0].Shape, Target) == Target
        ? new Aval(Target, inputs[0].DType)
        : throw new ArgumentException($"{Name}: cannot broadcast {inputs[0]} (argument 0) to {Target}.");

    public override HostArray Eval(IReadOnlyList<HostArray> inputs) =>
        Kernels.Take(inputs[0], Target, Kernels.BroadcastMap(Target, inputs[0].Shape));

    public override string Lower(IOnnxEmitter e, LowerArgs args) => args.InputAvals[0].Shape == Target
        ? args.Inputs[0]
        : e.Node("Expand", [args.Inputs[0], e.Int64s(Target.ToLongArray())]);

    /// <summary>The reverse pass sums the cotangent down to the operand's shape.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [g];
}

/// <summary>A contiguous block: on every axis d, elements Starts[d] ≤ i &lt; Ends[d] (step 1).</summary>
/// <param name="Starts">First index per axis.</param>
/// <param name="Ends">One past the last index per axis.</param>
internal sealed record Slice(Ints Starts, Ints Ends) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var s = inputs[0].Shape;
        if (Starts.Count != s.Rank || Ends.Count != s.Rank)
            throw new ArgumentException($"{Name}: starts {Starts} and ends {Ends} must have one entry per axis of {inputs[0]} (argument 0).");
        for (var d = 0; d < s.Rank; d++)
            if (Starts[d] < 0 || Ends[d] < Starts[d] || Ends[d] > s[d])
                throw new ArgumentException($"{Name}: [{Starts[d]}, {Ends[d]}) is not within axis {d} of {inputs[0]} (argument 0).");
        return new Aval(Shape.Of(Enumerable.Range(0, s.Rank).Select(d => Ends[d] - Starts[d]).ToArray()), inputs[0].DType);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var x = inputs[0];
        var strides = x.Shape.Strides();
        return Kernels.TakeAt(x, Infer([x.Aval]).Shape, idx => idx.Select((i, d) => (i + Starts[d]) * strides[d]).Sum());
    }

    /// <summary>
    /// ONNX Slice; nothing when the block is the whole operand (ONNX Runtime cannot slice a scalar). In process on the CPU a
    /// large block is Nnx's copy (<see cref="NnxCpuOps.Slice"/>), split over the session's threads.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (Starts.All(s => s == 0) && Ends.SequenceEqual(args.InputAvals[0].Shape)) return args.Inputs[0];
        string[] inputs = [args.Inputs[0], e.Int64s(Starts.ToLongArray()), e.Int64s(Ends.ToLongArray())];
        return NnxCpuOps.Use(e, args.Output.Shape) ? e.Node(NnxCpuOps.Domain, NnxCpuOps.Slice, inputs) : e.Node("Slice", inputs);
    }

    /// <summary>The cotangent padded with zeros back to the operand's shape.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) =>
        [new Pad(Starts, new Ints(Enumerable.Range(0, Ends.Count).Select(d => x[0].Shape[d] - Ends[d]).ToArray())).Bind(g)];
}

/// <summary>Pads with zeros: Before[d] elements before and After[d] after each axis d.</summary>
/// <param name="Before">Zeros before, per axis.</param>
/// <param name="After">Zeros after, per axis.</param>
internal sealed record Pad(Ints Before, Ints After) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        var s = inputs[0].Shape;
        if (Before.Count != s.Rank || After.Count != s.Rank || Before.Any(p => p < 0) || After.Any(p => p < 0))
            throw new ArgumentException($"{Name}: pads {Before} and {After} must be non-negative with one entry per axis of {inputs[0]} (argument 0).");
        return new Aval(Shape.Of(Enumerable.Range(0, s.Rank).Select(d => Before[d] + s[d] + After[d]).ToArray()), inputs[0].DType);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var x = inputs[0];
        var strides = x.Shape.Strides();
        // A padding element reads the zero appended after x's elements, at flat index x.Size.
        return Kernels.TakeAt(Concat.Flat(x, HostArray.Zeros(x.DType, Shape.Of(1))), Infer([x.Aval]).Shape, idx =>
        {
            var s = 0;
            for (var d = 0; d < idx.Length; d++)
            {
                var i = idx[d] - Before[d];
                if (i < 0 || i >= x.Shape[d]) return x.Size;
                s += i * strides[d];
            }
            return s;
        });
    }

    /// <summary>
    /// ONNX Pad; nothing when every pad is 0 (ONNX Runtime cannot pad a scalar). In process on the CPU a large result is
    /// Nnx's copy (<see cref="NnxCpuOps.Pad"/>), split over the session's threads.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        if (Before.Concat(After).All(p => p == 0)) return args.Inputs[0];
        if (e.Target == OnnxTarget.Cuda && args.Output.DType.IsInteger()) return CudaInts.Pad(e, args, Before, After); // no integer Pad kernel on CUDA: Concat with blocks of zeros
        string[] inputs = [args.Inputs[0], e.Int64s([.. Before.ToLongArray(), .. After.ToLongArray()])];
        return NnxCpuOps.Use(e, args.Output.Shape) ? e.Node(NnxCpuOps.Domain, NnxCpuOps.Pad, inputs) : e.Node("Pad", inputs);
    }

    /// <summary>The slice of the cotangent where the operand sits.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) =>
        [new Slice(Before, new Ints(Enumerable.Range(0, Before.Count).Select(d => Before[d] + x[0].Shape[d]).ToArray())).Bind(g)];
}

/// <summary>Joins operands of one dtype along an axis; the other dimensions must agree.</summary>
/// <param name="Axis">The axis joined along (non-negative).</param>
internal sealed record Concat(int Axis) : Primitive
{
    public override int Arity => -1;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        if (inputs.Count == 0) throw new ArgumentException($"{Name}: needs at least one operand.");
        var t = ShapeRules.SameDType(Name, inputs);
        var s = inputs[0].Shape;
        if (Axis < 0 || Axis >= s.Rank) throw new ArgumentException($"{Name}: axis {Axis} is out of range for {inputs[0]} (argument 0).");
        var total = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var si = inputs[i].Shape;
            if (si.Rank != s.Rank || Enumerable.Range(0, s.Rank).Any(d => d != Axis && si[d] != s[d]))
                throw new ArgumentException($"{Name}: along axis {Axis}, {inputs[i]} (argument {i}) does not fit {inputs[0]} (argument 0).");
            total += si[Axis];
        }
        var dims = s.ToArray();
        dims[Axis] = total;
        return new Aval(Shape.Of(dims), t);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var outShape = Infer(inputs.Select(x => x.Aval).ToArray()).Shape;
        var all = Flat([.. inputs]);
        var src = new int[outShape.Size];
        var outer = outShape.Take(Axis).Aggregate(1, (a, b) => a * b);
        var inner = outShape.Skip(Axis + 1).Aggregate(1, (a, b) => a * b);
        var k = 0;
        for (var o = 0; o < outer; o++)
        {
            var baseOffset = 0;
            foreach (var x in inputs)
            {
                var block = x.Shape[Axis] * inner;
                for (var j = 0; j < block; j++) src[k++] = baseOffset + o * block + j;
                baseOffset += x.Size;
            }
        }
        return Kernels.Take(all, outShape, src);
    }

    /// <summary>All elements of arrays of one dtype, one after another, as a 1-D array.</summary>
    internal static HostArray Flat(params HostArray[] xs)
    {
        var shape = Shape.Of(xs.Sum(x => x.Size));
        return HostArray.KindOf(xs[0].DType) switch
        {
            StorageKind.Float => HostArray.FromDoubles(xs[0].DType, shape, xs.SelectMany(x => x.ToDoubles()).ToArray()),
            StorageKind.Signed => HostArray.FromLongs(xs[0].DType, shape, xs.SelectMany(x => x.ToLongs()).ToArray()),
            _ => HostArray.FromULongs(xs[0].DType, shape, xs.SelectMany(x => Enumerable.Range(0, x.Size).Select(x.GetULong)).ToArray()),
        };
    }

    public override string Lower(IOnnxEmitter e, LowerArgs args) => args.Inputs.Count == 1
        ? args.Inputs[0]
        : e.Node("Concat", args.Inputs, OnnxAttribute.Int("axis", Axis));

    /// <summary>Each operand gets its slice of the cotangent.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g)
    {
        var result = new Tensor?[x.Length];
        var offset = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var n = x[i].Shape[Axis];
            result[i] = g.Slice(Axis, offset, offset + n);
            offset += n;
        }
        return result;
    }
}
