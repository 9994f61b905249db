using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// Equality of static values in cache keys: <c>Equals</c>, except that floating-point values compare by their
/// bits, so <c>0.0</c> and <c>-0.0</c> are different statics (they give different results: <c>1/x</c>) and a NaN
/// equals the same NaN. Used by pure jit's tree structures and the module jit's GraphDef.
/// </summary>
internal static class StaticEquality
{
    /// <summary>True when two static values are the same for compilation.</summary>
    public static bool Same(object? a, object? b) => a switch
    {
        _ when ReferenceEquals(a, b) => true,
        null => false,
        double x => b is double y && BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        float x => b is float y && BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
        Half x => b is Half y && BitConverter.HalfToInt16Bits(x) == BitConverter.HalfToInt16Bits(y),
        _ => a.Equals(b),
    };

    /// <summary>A hash consistent with <see cref="Same"/>.</summary>
    public static int Hash(object? a) => a switch
    {
        null => 0,
        double x => BitConverter.DoubleToInt64Bits(x).GetHashCode(),
        float x => BitConverter.SingleToInt32Bits(x),
        Half x => BitConverter.HalfToInt16Bits(x),
        _ => a.GetHashCode(),
    };

    /// <summary><see cref="Same"/> for a value of a known type, without boxing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Same<T>(T a, T b)
    {
        if (typeof(T) == typeof(double)) return BitConverter.DoubleToInt64Bits((double)(object)a!) == BitConverter.DoubleToInt64Bits((double)(object)b!);
        if (typeof(T) == typeof(float)) return BitConverter.SingleToInt32Bits((float)(object)a!) == BitConverter.SingleToInt32Bits((float)(object)b!);
        return EqualityComparer<T>.Default.Equals(a, b);
    }
}
