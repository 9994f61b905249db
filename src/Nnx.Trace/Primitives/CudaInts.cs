namespace NnxSharp.Primitives;

/// <summary>
/// Lowerings of the integer reductions, matrix products and padding for ONNX Runtime's CUDA provider. It has no
/// integer ArgMax/ArgMin, MatMul or Pad kernels, and its int32/int64 ReduceSum, ReduceMax and ReduceMin compute
/// through float32 (<c>reduction_ops.cc</c>: the input is cast to float, reduced by cuDNN and cast back), exact
/// only below 2^24. Each form here is exact for every value of every integer dtype, wrapping where the reference
/// wraps, and uses only kernels the provider has: integer Div, Mod, Mul, Add, Equal, Cast and Concat, and float64
/// MatMul, ReduceMax, ReduceMin and Where.
/// <list type="bullet">
/// <item>Sums and matrix products split the operands into chunks of c bits, <c>(u / 2^(c·j)) mod 2^c</c> of the
/// unsigned reinterpretation u, which float64 holds exactly; c is chosen so that every partial sum of a float64
/// MatMul of chunks stays below 2^53 (exact in any order). The chunk results go back to uint64 and are combined
/// as <c>Σ r·2^shift</c> with uint64 Mul and Add, which wrap as the reference does.</item>
/// <item>Max and min compare 32-bit halves in float64: an order-preserving uint64 key (int64: plus 2^63,
/// wrapping), the extremum of the high halves, then of the low halves among the elements that reach it.</item>
/// <item>ArgMax is the first index where the operand equals its maximum: ReduceMin over an index ramp (float64,
/// exact) of <c>Where(x == max, index, n)</c>, so the first maximum wins whatever cuDNN does with ties.</item>
/// <item>Pad concatenates blocks of zeros (ConstantOfShape) before and after the operand, one axis at a time.</item>
/// </list>
/// </summary>
internal static class CudaInts
{
    private const DType F64 = DType.Float64, U64 = DType.UInt64;

    /// <summary>Below this many terms a float64 sum of 32-bit chunks is exact: 2^21 · 2^32 = 2^53.</summary>
    private const int ExactTerms32 = 1 << 21;

    /// <summary>Σ over the last axis of an integer [rows, n] matrix, wrapping: a [rows, 1] matrix.</summary>
    public static string SumRows(IOnnxEmitter e, string rows, Shape shape, DType t)
    {
        var n = shape[1];
        if (n == 0 || shape[0] == 0) return Zeros(e, t, Shape.Of(shape[0], 1));
        // n·(2^c − 1) < 2^53: 32-bit chunks below 2^21 terms, 16-bit ones beyond (n < 2^31 < 2^37).
        var c = n < ExactTerms32 ? 32 : 16;
        var ones = e.Node("ConstantOfShape", [e.Int64s(n, 1)], OnnxAttribute.Tensor("value", HostArray.Full(F64, Shape.Of(1), 1)));
        return Combine(e, Chunks(e, rows, t, c).Select((chunk, j) => (e.Node("MatMul", [chunk, ones]), c * j)), t);
    }

    /// <summary>The integer matrix product <c>a @ b</c> (batch dimensions broadcast), wrapping.</summary>
    public static string MatMul(IOnnxEmitter e, LowerArgs args)
    {
        var t = args.Output.DType;
        var k = args.InputAvals[0].Shape[^1];
        if (k == 0 || args.Output.Shape.Size == 0) return Zeros(e, t, args.Output.Shape);
        // k·(2^c − 1)² < 2^53: 16-bit chunks below 2^21 terms, 8-bit ones beyond (k < 2^31 < 2^37).
        var c = k < ExactTerms32 ? 16 : 8;
        var (a, b) = (Chunks(e, args.Inputs[0], t, c), Chunks(e, args.Inputs[1], t, c));
        var width = CudaBits.Width(t);
        // (Σ a_i 2^(ci)) (Σ b_j 2^(cj)) = Σ a_i b_j 2^(c(i+j)); the terms with c(i+j) ≥ W vanish mod 2^W.
        var terms = new List<(string, int)>();
        for (var i = 0; i < a.Length; i++)
            for (var j = 0; c * (i + j) < width; j++)
                terms.Add((e.Node("MatMul", [a[i], b[j]]), c * (i + j)));
        return Combine(e, terms, t);
    }

    /// <summary>The maximum (or minimum) of an integer operand over <paramref name="axes"/>, kept as size 1, exactly.</summary>
    public static string Extremum(IOnnxEmitter e, string x, DType t, long[] axes, bool max)
    {
        string Reduce(string v) => e.Node(max ? "ReduceMax" : "ReduceMin", [v, e.Int64s(axes)], OnnxAttribute.Int("keepdims", 1));
        if (CudaBits.Width(t) == 32) return e.Cast(Reduce(e.Cast(x, t, F64)), F64, t);
        // 64 bits: the order-preserving key, its halves below 2^32 (exact in float64), the high halves' extremum,
        // then the low halves' among the elements whose high half reaches it (the others can neither win nor tie).
        var key = t == DType.Int64 ? e.Node("Add", [e.Cast(x, t, U64), e.Constant(TopBit)]) : x;
        var twoTo32 = e.Constant(HostArray.FromULongs(U64, Shape.Scalar, [1UL << 32]));
        var high = e.Cast(e.Node("Div", [key, twoTo32]), U64, F64);
        var low = e.Cast(e.Node("Mod", [key, twoTo32]), U64, F64);
        var bestHigh = Reduce(high);
        var outside = e.Constant(HostArray.Scalar(F64, max ? -1 : Math.ScaleB(1, 32)));
        var bestLow = Reduce(e.Node("Where", [e.Node("Equal", [high, bestHigh]), low, outside]));
        var best = e.Node("Add", [e.Node("Mul", [e.Cast(bestHigh, F64, U64), twoTo32]), e.Cast(bestLow, F64, U64)]);
        return t == DType.Int64 ? e.Cast(e.Node("Add", [best, e.Constant(TopBit)]), U64, t) : best;
    }

    /// <summary>The int64 index of the first maximum of an integer operand along <paramref name="axis"/>.</summary>
    public static string ArgMax(IOnnxEmitter e, LowerArgs args, int axis)
    {
        var x = args.InputAvals[0];
        var n = x.Shape[axis];
        if (args.Output.Shape.Size == 0) return Zeros(e, DType.Int64, args.Output.Shape);
        var best = Extremum(e, args.Inputs[0], x.DType, [axis], max: true);
        // 0, 1, …, n − 1 along the axis (trailing axes of size 1 broadcast); n where the element is not a maximum.
        var rampShape = Shape.Of([n, .. Enumerable.Repeat(1, x.Shape.Rank - axis - 1)]);
        var ramp = e.Constant(HostArray.Create(Enumerable.Range(0, n).Select(i => (double)i).ToArray(), rampShape));
        var candidates = e.Node("Where", [e.Node("Equal", [args.Inputs[0], best]), ramp, e.Constant(HostArray.Scalar(F64, n))]);
        var first = e.Cast(e.Node("ReduceMin", [candidates, e.Int64s(axis)], OnnxAttribute.Int("keepdims", 1)), F64, DType.Int64);
        return args.Output.Shape.Rank == x.Shape.Rank ? first : e.Reshape(first, args.Output.Shape);
    }

    /// <summary>The operand padded with zeros: blocks of zeros concatenated before and after it, axis by axis.</summary>
    public static string Pad(IOnnxEmitter e, LowerArgs args, Ints before, Ints after)
    {
        var t = args.Output.DType;
        var x = args.Inputs[0];
        var dims = args.InputAvals[0].Shape.ToArray();
        for (var d = 0; d < dims.Length; d++)
        {
            if (before[d] == 0 && after[d] == 0) continue;
            string Block(int size)
            {
                var s = dims.ToArray();
                s[d] = size;
                return Zeros(e, t, Shape.Of(s));
            }
            var parts = new List<string>();
            if (before[d] > 0) parts.Add(Block(before[d]));
            parts.Add(x);
            if (after[d] > 0) parts.Add(Block(after[d]));
            x = e.Node("Concat", parts, OnnxAttribute.Int("axis", d));
            dims[d] += before[d] + after[d];
        }
        return x;
    }

    /// <summary>The c-bit chunks of an integer operand as float64, lowest first: <c>(u / 2^(c·j)) mod 2^c</c>.</summary>
    private static string[] Chunks(IOnnxEmitter e, string x, DType t, int c)
    {
        var u = CudaBits.Unsigned(t);
        var width = CudaBits.Width(t);
        var bits = e.Cast(x, t, u);
        return [.. Enumerable.Range(0, width / c).Select(j =>
        {
            var shifted = j == 0 ? bits : e.Node("Div", [bits, e.Constant(HostArray.FromULongs(u, Shape.Scalar, [1UL << (c * j)]))]);
            var chunk = c * (j + 1) == width ? shifted : e.Node("Mod", [shifted, e.Constant(HostArray.FromULongs(u, Shape.Scalar, [1UL << c]))]);
            return e.Cast(chunk, u, F64);
        })];
    }

    /// <summary>Σ r·2^shift over exact float64 results r (each below 2^53), in uint64 (wrapping), as dtype <paramref name="t"/>.</summary>
    private static string Combine(IOnnxEmitter e, IEnumerable<(string Value, int Shift)> terms, DType t)
    {
        string? sum = null;
        foreach (var (value, shift) in terms)
        {
            var term = e.Cast(value, F64, U64);
            if (shift > 0) term = e.Node("Mul", [term, e.Constant(HostArray.FromULongs(U64, Shape.Scalar, [1UL << shift]))]);
            sum = sum is null ? term : e.Node("Add", [sum, term]);
        }
        // uint64 → the unsigned type of t's width → t (Cast reinterprets). 32 bits: the Mod keeps the low bits and
        // stands between the two Casts, which ONNX Runtime would otherwise fuse (its RemoveDuplicateCastTransformer
        // turns Cast(f64→u64)→Cast(u64→u32) into one f64→u32 Cast, which gives 0 past 2^32).
        var u = CudaBits.Unsigned(t);
        if (u == DType.UInt32) sum = e.Node("Mod", [sum!, e.Constant(HostArray.FromULongs(U64, Shape.Scalar, [1UL << 32]))]);
        return e.Cast(e.Cast(sum!, U64, u), u, t);
    }

    private static string Zeros(IOnnxEmitter e, DType t, Shape shape) =>
        e.Node("ConstantOfShape", [e.Int64s(shape.ToLongArray())], OnnxAttribute.Tensor("value", HostArray.Full(t, Shape.Of(1), 0)));

    private static readonly HostArray TopBit = HostArray.FromULongs(U64, Shape.Scalar, [1UL << 63]);
}
