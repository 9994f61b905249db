namespace NnxSharp.Primitives;

/// <summary>
/// Lowerings of the integer bit operations for ONNX Runtime's CUDA provider, which has no <c>BitShift</c> and no
/// <c>Bitwise*</c> kernels (its <c>OperatorKernels.md</c>). Each one is integer arithmetic that gives exactly the
/// bits of the bitwise operator, with kernels the provider has for uint32 and uint64: Mul, Div, Mod, Add, Sub,
/// Min, Max, Less, Gather, Cast and a float64 MatMul.
/// <list type="bullet">
/// <item>Shifts by a constant are <c>x·2^s</c> (the unsigned multiply wraps) and <c>x / 2^s</c>; other shift
/// amounts look the power of two up in a table with Gather, and a shift by the width or more gives 0.</item>
/// <item>And, or and xor split both operands into their W bits along a new last axis, <c>(x / 2^k) mod 2</c>,
/// combine the bits (<c>min</c>, <c>max</c>, <c>(a + b) mod 2</c>: for xor the sum of the two quotients is
/// taken before the one Mod, its parity is the same), and put them back together with a float64 MatMul against
/// the powers of two: a sum of distinct powers of two below 2^32 is exact in float64 in any order (64-bit
/// operands use two such sums, one per half). Integer ReduceSum is not used: the CUDA provider computes it
/// through float32.</item>
/// <item>Not is <c>max − x</c> (unsigned) or <c>−1 − x</c> (signed).</item>
/// </list>
/// Signed operands are reinterpreted as unsigned of the same width (Cast wraps) and back.
/// </summary>
internal static class CudaBits
{
    /// <summary>How a bitwise combination treats the two bit tensors.</summary>
    public enum Combine
    {
        /// <summary>min(a, b).</summary>
        And,

        /// <summary>max(a, b).</summary>
        Or,

        /// <summary>(a + b) mod 2.</summary>
        Xor,
    }

    /// <summary>The bitwise combination of two integer operands (broadcast together) for the CUDA provider.</summary>
    public static string Bitwise(IOnnxEmitter e, LowerArgs args, Combine op)
    {
        var t = args.Output.DType;
        if (args.Output.Shape.Size == 0) return e.Constant(HostArray.Full(t, args.Output.Shape, 0));
        var u = Unsigned(t);
        var width = Width(t);
        var powers = e.Constant(Powers(u, width, 0));
        var two = e.Constant(HostArray.Scalar(u, 2));
        string Quotients(int i) => e.Node("Div", [BitAxis(e, e.Cast(args.Inputs[i], t, u), args.InputAvals[i].Shape), powers]);
        string bits;
        if (op == Combine.Xor)
            bits = e.Node("Mod", [e.Node("Add", [Quotients(0), Quotients(1)]), two]);
        else
            bits = e.Node(op == Combine.And ? "Min" : "Max", [e.Node("Mod", [Quotients(0), two]), e.Node("Mod", [Quotients(1), two])]);
        return e.Cast(Assemble(e, bits, u, width), u, t);
    }

    /// <summary>~x for the CUDA provider: max − x for unsigned, −1 − x for signed (neither overflows).</summary>
    public static string Not(IOnnxEmitter e, LowerArgs args)
    {
        var t = args.Output.DType;
        var all = t.IsUnsigned() ? HostArray.FromULongs(t, Shape.Scalar, [t == DType.UInt32 ? uint.MaxValue : ulong.MaxValue]) : HostArray.Scalar(t, -1);
        return e.Node("Sub", [e.Constant(all), args.Inputs[0]]);
    }

    /// <summary>x &lt;&lt; s or x &gt;&gt; s on unsigned integers for the CUDA provider; a shift by the width or more gives 0.</summary>
    public static string Shift(IOnnxEmitter e, LowerArgs args, bool left)
    {
        var t = args.Output.DType;
        var width = Width(t);
        var (x, s) = (args.Inputs[0], args.Inputs[1]);
        if (e.ConstantValue(s) is { Size: > 0 } amounts && args.Output.Shape == args.InputAvals[0].Shape
            && Enumerable.Range(0, amounts.Size).All(k => amounts.GetULong(k) == amounts.GetULong(0)))
        {
            // One amount for every element: one Mul or Div by a constant power of two (0 past the width).
            var c = amounts.GetULong(0);
            if (c >= (ulong)width) return e.Node("Mul", [x, e.Constant(HostArray.FromULongs(t, Shape.Scalar, [0]))]);
            return e.Node(left ? "Mul" : "Div", [x, e.Constant(HostArray.FromULongs(t, Shape.Scalar, [1UL << (int)c]))]);
        }
        // Any amounts: 2^min(s, W) from a table with W + 1 entries; the last entry makes shifts past the width give 0.
        var index = e.Cast(e.Node("Min", [s, e.Constant(HostArray.FromULongs(t, Shape.Scalar, [(ulong)width]))]), t, DType.Int64);
        var table = Enumerable.Range(0, width).Select(k => 1UL << k).Append(left ? 0UL : 1UL).ToArray();
        var factor = e.Node("Gather", [e.Constant(HostArray.FromULongs(t, Shape.Of(width + 1), table)), index], OnnxAttribute.Int("axis", 0));
        if (left) return e.Node("Mul", [x, factor]);
        var inRange = e.Cast(e.Node("Less", [s, e.Constant(HostArray.FromULongs(t, Shape.Scalar, [(ulong)width]))]), DType.Bool, t);
        return e.Node("Mul", [e.Node("Div", [x, factor]), inRange]);
    }

    /// <summary>The unsigned dtype of <paramref name="t"/>'s width, which Cast reinterprets it as.</summary>
    internal static DType Unsigned(DType t) => t switch
    {
        DType.UInt32 or DType.Int32 => DType.UInt32,
        DType.UInt64 or DType.Int64 => DType.UInt64,
        _ => throw new ArgumentException($"CUDA lowering: {t.ShortName()} is not an integer dtype."),
    };

    /// <summary>The width of an integer dtype in bits.</summary>
    internal static int Width(DType t) => t.ItemSize() * 8;

    /// <summary>The operand with a new last axis of size 1, where its bits will go.</summary>
    private static string BitAxis(IOnnxEmitter e, string input, Shape shape) => e.Reshape(input, Shape.Of([.. shape, 1]));

    /// <summary>2^(from + k) for k in [0, count) as a 1-D tensor of dtype <paramref name="t"/> (or float64 weights).</summary>
    private static HostArray Powers(DType t, int count, int from) => t == DType.Float64
        ? HostArray.Create(Enumerable.Range(0, count).Select(k => Math.ScaleB(1, from + k)).ToArray(), Shape.Of(count))
        : HostArray.FromULongs(t, Shape.Of(count), Enumerable.Range(0, count).Select(k => 1UL << (from + k)).ToArray());

    /// <summary>Σ bit_k·2^k over the last axis, exactly: float64 MatMuls against the powers of two, 32 bits at a time.</summary>
    private static string Assemble(IOnnxEmitter e, string bits, DType u, int width)
    {
        var asDouble = e.Cast(bits, u, DType.Float64);
        if (width == 32)
            return e.Cast(e.Node("MatMul", [asDouble, e.Constant(Powers(DType.Float64, 32, 0))]), DType.Float64, u);
        // 64 bits: the low and high halves separately (each exact below 2^32), then lo + hi·2^32 in uint64.
        var lowWeights = HostArray.Create(Enumerable.Range(0, 64).Select(k => k < 32 ? Math.ScaleB(1, k) : 0).ToArray(), Shape.Of(64));
        var highWeights = HostArray.Create(Enumerable.Range(0, 64).Select(k => k < 32 ? 0 : Math.ScaleB(1, k - 32)).ToArray(), Shape.Of(64));
        var low = e.Cast(e.Node("MatMul", [asDouble, e.Constant(lowWeights)]), DType.Float64, u);
        var high = e.Cast(e.Node("MatMul", [asDouble, e.Constant(highWeights)]), DType.Float64, u);
        return e.Node("Add", [low, e.Node("Mul", [high, e.Constant(HostArray.FromULongs(u, Shape.Scalar, [1UL << 32]))])]);
    }
}
