namespace NnxSharp;

/// <summary>The element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float.</summary>
    Float32,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
    /// <summary>16-bit IEEE float; a storage type (cast it to compute).</summary>
    Float16,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>64-bit signed integer.</summary>
    Int64,
    /// <summary>32-bit unsigned integer (wraps modulo 2^32).</summary>
    UInt32,
    /// <summary>64-bit unsigned integer (wraps modulo 2^64).</summary>
    UInt64,
    /// <summary>Boolean.</summary>
    Bool,
}

/// <summary>Facts about each <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloat(this DType t) => t is DType.Float32 or DType.Float64 or DType.Float16;

    /// <summary>True for the signed and unsigned integer types (not bool).</summary>
    public static bool IsInteger(this DType t) => t is DType.Int32 or DType.Int64 or DType.UInt32 or DType.UInt64;

    /// <summary>True for the unsigned integer types.</summary>
    public static bool IsUnsigned(this DType t) => t is DType.UInt32 or DType.UInt64;

    /// <summary>True for types on which arithmetic is defined (floats except float16, and integers).</summary>
    public static bool IsNumeric(this DType t) => t is not (DType.Bool or DType.Float16);

    /// <summary>Bytes per element.</summary>
    public static int ItemSize(this DType t) => t switch
    {
        DType.Float32 or DType.Int32 or DType.UInt32 => 4,
        DType.Float64 or DType.Int64 or DType.UInt64 => 8,
        DType.Float16 => 2,
        DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The short name used when printing IR, as in a jaxpr: f32, i64, u32, bool.</summary>
    public static string ShortName(this DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Float16 => "f16",
        DType.Int32 => "i32",
        DType.Int64 => "i64",
        DType.UInt32 => "u32",
        DType.UInt64 => "u64",
        DType.Bool => "bool",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The dtype that holds values of the CLR type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        typeof(T) == typeof(Half) ? DType.Float16 :
        typeof(T) == typeof(int) ? DType.Int32 :
        typeof(T) == typeof(long) ? DType.Int64 :
        typeof(T) == typeof(uint) ? DType.UInt32 :
        typeof(T) == typeof(ulong) ? DType.UInt64 :
        typeof(T) == typeof(bool) ? DType.Bool :
        throw new NotSupportedException($"No Nnx dtype holds {typeof(T).Name}.");

    /// <summary>
    /// The dtype two operands are promoted to, following JAX: bool is the weakest; any integer with a
    /// float gives that float; signed with unsigned gives the signed type that holds both.
    /// </summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        if (a == DType.Bool) return b;
        if (b == DType.Bool) return a;
        if (a.IsFloat() && b.IsFloat()) return Rank(a) >= Rank(b) ? a : b;
        if (a.IsFloat()) return a;
        if (b.IsFloat()) return b;
        if (a.IsUnsigned() == b.IsUnsigned()) return a.ItemSize() >= b.ItemSize() ? a : b;
        var (s, u) = a.IsUnsigned() ? (b, a) : (a, b);
        if (u == DType.UInt32) return DType.Int64;
        throw new ArgumentException($"No integer type holds both {a.ShortName()} and {b.ShortName()}; cast one operand explicitly.");

        static int Rank(DType t) => t switch { DType.Float16 => 0, DType.Float32 => 1, _ => 2 };
    }
}
