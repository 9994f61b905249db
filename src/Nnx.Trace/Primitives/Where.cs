namespace NnxSharp.Primitives;

/// <summary><c>cond ? a : b</c> elementwise, with NumPy broadcasting of all three operands.</summary>
internal sealed record Where : Primitive
{
    public override int Arity => 3;

    public override Aval Infer(IReadOnlyList<Aval> inputs)
    {
        ShapeRules.RequireDType(Name, inputs, 0, t => t == DType.Bool, "bool");
        var t = ShapeRules.SameDType(Name, [inputs[1], inputs[2]]);
        return new Aval(ShapeRules.Broadcast(Name, inputs), t);
    }

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var shape = ShapeRules.Broadcast(Name, inputs.Select(x => x.Aval).ToArray());
        var c = Kernels.BroadcastMap(shape, inputs[0].Shape);
        var a = Kernels.BroadcastMap(shape, inputs[1].Shape);
        var b = Kernels.BroadcastMap(shape, inputs[2].Shape);
        var src = new int[shape.Size];
        var picked = new bool[shape.Size];
        for (var k = 0; k < src.Length; k++) picked[k] = inputs[0].GetLong(c[k]) != 0;
        var ta = Kernels.Take(inputs[1], shape, a);
        var tb = Kernels.Take(inputs[2], shape, b);
        for (var k = 0; k < src.Length; k++) src[k] = picked[k] ? k : shape.Size + k;
        return Kernels.Take(Concat.Flat(ta, tb), shape, src);
    }

    /// <summary>
    /// ONNX Where; uint64 branches run as int64, bool branches (and uint32 on CUDA) as int32: exact round trips. In process
    /// on the CPU, a float <c>c ? x : 0</c> (a mask applied to a cotangent, as ReLU's gradient is) whose operands all have the
    /// output's shape is Nnx's one-pass kernel (<see cref="NnxCpuOps.SelectOrZero"/>), which gives the same bits.
    /// </summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args)
    {
        var t = args.Output.DType;
        if (t is DType.Float32 or DType.Float64 && NnxCpuOps.Use(e, args.Output.Shape)
            && args.InputAvals[0].Shape.Equals(args.Output.Shape) && args.InputAvals[1].Shape.Equals(args.Output.Shape)
            && e.ConstantValue(args.Inputs[2]) is { Size: 1 } zero && zero.GetDouble(0) == 0 && !double.IsNegative(zero.GetDouble(0)))
            return e.Node(NnxCpuOps.Domain, NnxCpuOps.SelectOrZero, [args.Inputs[0], args.Inputs[1]]);
        // ORT-CPU workaround: Where has no uint64 or bool kernel; select the bits as int64 (uint64) or int32 (bool) and cast back.
        // CUDA has no uint32 Where either: as int32 (Cast between int32 and uint32 wraps, so the round trip is exact).
        var via = t switch { DType.UInt64 => DType.Int64, DType.Bool => DType.Int32, DType.UInt32 when e.Target == OnnxTarget.Cuda => DType.Int32, _ => t };
        var picked = e.Node("Where", [args.Inputs[0], e.Cast(args.Inputs[1], t, via), e.Cast(args.Inputs[2], t, via)]);
        return e.Cast(picked, via, t);
    }

    /// <summary>
    /// The condition gets none; each branch gets the cotangent where it was chosen and 0 elsewhere (a scalar
    /// zero, broadcast: no zero tensor is materialised).
    /// </summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) => [null, Tensor.Where(x[0], g, 0.0), Tensor.Where(x[0], 0.0, g)];
}

/// <summary>Converts to another dtype: floats to integers truncate toward zero; to bool is "nonzero".</summary>
/// <param name="To">The target dtype.</param>
internal sealed record Cast(DType To) : Primitive
{
    public override int Arity => 1;

    public override Aval Infer(IReadOnlyList<Aval> inputs) => inputs[0] with { DType = To };

    public override HostArray Eval(IReadOnlyList<HostArray> inputs)
    {
        var x = inputs[0];
        if (To == DType.Bool)
            return HostArray.FromLongs(To, x.Shape, Enumerable.Range(0, x.Size).Select(k => x.GetDouble(k) != 0 || (x.F is null && x.GetULong(k) != 0) ? 1L : 0L).ToArray());
        return HostArray.KindOf(To) switch
        {
            StorageKind.Float => HostArray.FromDoubles(To, x.Shape, x.ToDoubles()),
            StorageKind.Signed => HostArray.FromLongs(To, x.Shape, Enumerable.Range(0, x.Size).Select(x.GetLong).ToArray()),
            _ => HostArray.FromULongs(To, x.Shape, Enumerable.Range(0, x.Size).Select(x.GetULong).ToArray()),
        };
    }

    /// <summary>ONNX Cast; in process on the CPU a large bool → float mask is Nnx's kernel, which splits it over the threads.</summary>
    public override string Lower(IOnnxEmitter e, LowerArgs args) =>
        args.InputAvals[0].DType == DType.Bool && To is DType.Float32 or DType.Float64 && NnxCpuOps.Use(e, args.Output.Shape)
            ? e.Node(NnxCpuOps.Domain, To == DType.Float32 ? NnxCpuOps.BoolToFloat32 : NnxCpuOps.BoolToFloat64, [args.Inputs[0]])
            : e.Cast(args.Inputs[0], args.InputAvals[0].DType, To);

    /// <summary>Between float types the cotangent is cast back; to or from integers there is no gradient.</summary>
    public override Tensor?[] Vjp(Tensor[] x, Tensor y, Tensor g) =>
        [x[0].DType.IsFloat() && To.IsFloat() ? g.Cast(x[0].DType) : null];
}
