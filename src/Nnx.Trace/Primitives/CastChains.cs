using System.Runtime.CompilerServices;

namespace NnxSharp.Primitives;

/// <summary>
/// Keeps two chained ONNX Casts apart where ONNX Runtime would merge them into a different function.
/// </summary>
/// <remarks>
/// ONNX Runtime's <c>InsertCastTransformer</c> ends with a <c>RemoveDuplicateCastTransformer</c> on every session,
/// whatever the optimization level (onnxruntime/core/optimizer/insert_cast_transformer.cc, read for this fix). It
/// looks at each Cast A→B whose consumers are all Casts (B→C) and whose output is not a graph output, and deletes
/// it, so that B→C reads the A value and converts A→C at once (or deletes both when C is A). Its guard calls a
/// conversion "unsafe" when it goes from a float to a non-float, from a signed or float type to an unsigned one,
/// from an unsigned type to a signed one no wider, from an integer to a float no wider, or to fewer bits; the
/// first Cast is kept only when A→B is unsafe and C→B is unsafe too. So Cast(f64→u64)→Cast(u64→u32) becomes one
/// f64→u32 Cast (u32→u64 is a safe widening): 5e9 gives 0 instead of 5e9 mod 2^32; likewise f32/f64/f16 → int64
/// → int32, and int64/uint64 → float64 → float32 (rounded once instead of twice) or → uint32.
/// <para>
/// Nnx keeps two Casts apart when that guard lets the merge happen (<see cref="MayMerge"/>: the guard as read;
/// ONNX Runtime 1.31 merges no more than it: <c>CastChainTests</c> checks every triple) and the merge would change
/// the function (<see cref="MergeIsExact"/>: A→C equals A→B→C when B holds every value of A exactly, or when A, B
/// and C are integers and C is no wider than B, since wrapping to B and then to C is wrapping to C). Between them
/// goes an exact no-op on the B value that no ONNX Runtime optimizer removes: <c>Max(x, x)</c>, with kernels on the
/// CPU and the CUDA provider for every numeric dtype and float16 (Identity, Add 0 and Mul 1 would be removed before
/// the transformer runs). Other chains get no extra node.
/// </para>
/// </remarks>
internal static class CastChains
{
    // Per emitter (one graph being lowered): the output of each Cast it emitted → that Cast's input dtype.
    private static readonly ConditionalWeakTable<IOnnxEmitter, Dictionary<string, DType>> Sources = new();

    /// <summary>A Cast node from <paramref name="from"/> to <paramref name="to"/>, kept apart from a Cast that produced its input where merging the two would not be exact.</summary>
    public static string Cast(IOnnxEmitter e, string input, DType from, DType to)
    {
        var sources = Sources.GetOrCreateValue(e);
        if (sources.TryGetValue(input, out var source) && MayMerge(source, from, to) && !MergeIsExact(source, from, to))
            input = e.Node("Max", [input, input]); // from is never bool: the guard keeps every Cast to bool (A→bool is unsafe, C→bool too)
        var output = e.Node("Cast", [input], OnnxAttribute.ElementType("to", to));
        sources[output] = from;
        return output;
    }

    /// <summary>Whether converting <paramref name="a"/> straight to <paramref name="c"/> gives what converting through <paramref name="b"/> gives, for every value.</summary>
    public static bool MergeIsExact(DType a, DType b, DType c) =>
        Holds(b, a) || (IsInt(a) && IsInt(b) && IsInt(c) && c.ItemSize() <= b.ItemSize());

    /// <summary>Whether ONNX Runtime's guard lets it delete a Cast A→B whose consumer is a Cast B→C.</summary>
    public static bool MayMerge(DType a, DType b, DType c) => !Unsafe(a, b) || !Unsafe(c, b);

    // The guard's notion of an unsafe conversion, in its order of checks.
    private static bool Unsafe(DType from, DType to)
    {
        if (from is not (DType.Bool or DType.UInt32 or DType.UInt64) && to.IsUnsigned()) return true;
        if (from.IsFloat() && !to.IsFloat()) return true;
        if (from.IsUnsigned() && to is DType.Int32 or DType.Int64) return Bits(to) <= Bits(from);
        if (from.IsInteger() && to.IsFloat()) return Bits(to) <= Bits(from);
        return Bits(from) > Bits(to);
    }

    private static int Bits(DType t) => t == DType.Bool ? 1 : 8 * t.ItemSize();

    /// <summary>Whether every value of <paramref name="a"/> is exactly a value of <paramref name="b"/>.</summary>
    public static bool Holds(DType b, DType a) => a == b || a switch
    {
        DType.Bool => true,
        DType.Int32 => b is DType.Int64 or DType.Float64,
        DType.UInt32 => b is DType.Int64 or DType.UInt64 or DType.Float64,
        DType.Float16 => b is DType.Float32 or DType.Float64,
        DType.Float32 => b is DType.Float64,
        _ => false,
    };

    private static bool IsInt(DType t) => t.IsInteger();
}
