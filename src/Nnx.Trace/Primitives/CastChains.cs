using System.Runtime.CompilerServices;

namespace NnxSharp.Primitives;

/// <summary>
/// Keeps two chained ONNX Casts apart where ONNX Runtime would merge them into a different function.
/// </summary>
/// <remarks>
/// ONNX Runtime's <c>InsertCastTransformer</c> ends with a <c>RemoveDuplicateCastTransformer</c> on every session,
/// whatever the optimization level (onnxruntime/core/optimizer/insert_cast_transformer.cc, read for 1.31). It
/// looks at each Cast A→B whose consumers are all Casts (B→C), and whose output is not a graph output, and
/// deletes it, so that B→C reads the A value and converts A→C at once (or deletes both when C is A). Its guard
/// asks whether A→B is "unsafe" (a float to a non-float, a signed or float type to an unsigned one, an unsigned
/// type to a signed one no wider, an integer to a float no wider, or a narrowing), and when it is, whether
/// C→B would be unsafe too; the merge goes ahead unless both are. So Cast(f64→u64)→Cast(u64→u32) becomes one
/// f64→u32 Cast (u32→u64 is a safe widening): 5e9 gives 0 instead of 5e9 mod 2^32, and likewise f32/f64/f16 →
/// int64 → int32, int64/uint64 → float64 → float32 (rounded once instead of twice) or → uint32.
/// <para>
/// Nnx does not copy that guard (it changes between versions, and exported models meet other runtimes); it asks
/// the question that matters: is A→C the same function as A→B→C? Yes when B holds every value of A exactly, or
/// when A, B and C are integers and C is no wider than B (wrapping to B and then to C is wrapping to C). Then the
/// Casts stay as they are. Otherwise the lowering puts an exact no-op on the B value between them, which no
/// ONNX Runtime optimizer removes: <c>Max(x, x)</c> (or <c>Or(x, x)</c> for bool), with kernels on the CPU and
/// the CUDA provider for every dtype (Identity, Add 0 and Mul 1 are removed before the transformer runs).
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
        if (sources.TryGetValue(input, out var source) && !MergeIsExact(source, from, to))
            input = e.Node(from == DType.Bool ? "Or" : "Max", [input, input]);
        var output = e.Node("Cast", [input], OnnxAttribute.ElementType("to", to));
        sources[output] = from;
        return output;
    }

    /// <summary>Whether converting <paramref name="a"/> straight to <paramref name="c"/> gives what converting through <paramref name="b"/> gives, for every value.</summary>
    public static bool MergeIsExact(DType a, DType b, DType c) =>
        Holds(b, a) || (IsInt(a) && IsInt(b) && IsInt(c) && c.ItemSize() <= b.ItemSize());

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
