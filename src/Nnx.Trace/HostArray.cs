using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace NnxSharp;

/// <summary>
/// Tensor data in managed memory: the reference evaluator's values and the host side of every transfer.
/// Storage is canonical per kind — floats as <c>double</c>, signed integers and bools as <c>long</c>,
/// unsigned integers as <c>ulong</c> — and every stored value is exactly representable in <see cref="DType"/>.
/// Equality is by dtype, shape and contents, so a host array can be an attribute of a primitive.
/// </summary>
public sealed class HostArray : IEquatable<HostArray>
{
    private int? _hash;

    private HostArray(DType dtype, Shape shape, double[]? f, long[]? i, ulong[]? u)
    {
        DType = dtype;
        Shape = shape;
        F = f;
        I = i;
        U = u;
    }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The shape.</summary>
    public Shape Shape { get; }

    /// <summary>The aval of this array.</summary>
    public Aval Aval => new(Shape, DType);

    /// <summary>Float storage (Float16/32/64), or null.</summary>
    internal double[]? F { get; }

    /// <summary>Signed and bool storage, or null.</summary>
    internal long[]? I { get; }

    /// <summary>Unsigned storage, or null.</summary>
    internal ulong[]? U { get; }

    /// <summary>The number of elements.</summary>
    public int Size => Shape.Size;

    /// <summary>Which canonical storage a dtype uses.</summary>
    internal static StorageKind KindOf(DType t) =>
        t.IsFloat() ? StorageKind.Float : t.IsUnsigned() ? StorageKind.Unsigned : StorageKind.Signed;

    /// <summary>An array of zeros.</summary>
    public static HostArray Zeros(DType dtype, Shape shape) => KindOf(dtype) switch
    {
        StorageKind.Float => new(dtype, shape, new double[shape.Size], null, null),
        StorageKind.Signed => new(dtype, shape, null, new long[shape.Size], null),
        _ => new(dtype, shape, null, null, new ulong[shape.Size]),
    };

    /// <summary>Wraps float storage, rounding each value to <paramref name="dtype"/>.</summary>
    internal static HostArray FromDoubles(DType dtype, Shape shape, double[] data)
    {
        Check(shape, data.Length);
        if (!dtype.IsFloat()) return FromLongsOrULongs(dtype, shape, data);
        if (dtype == DType.Float32) for (var k = 0; k < data.Length; k++) data[k] = (float)data[k];
        else if (dtype == DType.Float16) for (var k = 0; k < data.Length; k++) data[k] = (double)(Half)data[k];
        return new HostArray(dtype, shape, data, null, null);
    }

    /// <summary>Wraps signed storage, wrapping each value to <paramref name="dtype"/> (bool: nonzero is 1).</summary>
    internal static HostArray FromLongs(DType dtype, Shape shape, long[] data)
    {
        Check(shape, data.Length);
        switch (KindOf(dtype))
        {
            case StorageKind.Float: return FromDoubles(dtype, shape, Array.ConvertAll(data, v => (double)v));
            case StorageKind.Unsigned: return FromULongs(dtype, shape, Array.ConvertAll(data, v => unchecked((ulong)v)));
        }
        if (dtype == DType.Int32) for (var k = 0; k < data.Length; k++) data[k] = unchecked((int)data[k]);
        else if (dtype == DType.Bool) for (var k = 0; k < data.Length; k++) data[k] = data[k] != 0 ? 1 : 0;
        return new HostArray(dtype, shape, null, data, null);
    }

    /// <summary>Wraps unsigned storage, wrapping each value to <paramref name="dtype"/>.</summary>
    internal static HostArray FromULongs(DType dtype, Shape shape, ulong[] data)
    {
        Check(shape, data.Length);
        switch (KindOf(dtype))
        {
            case StorageKind.Float: return FromDoubles(dtype, shape, Array.ConvertAll(data, v => (double)v));
            case StorageKind.Signed: return FromLongs(dtype, shape, Array.ConvertAll(data, v => unchecked((long)v)));
        }
        if (dtype == DType.UInt32) for (var k = 0; k < data.Length; k++) data[k] &= 0xFFFF_FFFFUL;
        return new HostArray(dtype, shape, null, null, data);
    }

    private static HostArray FromLongsOrULongs(DType dtype, Shape shape, double[] data) =>
        dtype.IsUnsigned()
            ? FromULongs(dtype, shape, Array.ConvertAll(data, SaturatingToULong))
            : FromLongs(dtype, shape, Array.ConvertAll(data, SaturatingToLong));

    /// <summary>Float to signed integer, truncating toward zero; NaN gives 0.</summary>
    internal static long SaturatingToLong(double v) => double.IsNaN(v) ? 0 : v >= 9.2233720368547758e18 ? long.MaxValue : v <= -9.2233720368547758e18 ? long.MinValue : (long)v;

    /// <summary>Float to unsigned integer, truncating toward zero; negatives wrap as in C (via int64).</summary>
    internal static ulong SaturatingToULong(double v) => double.IsNaN(v) ? 0 : v >= 1.8446744073709552e19 ? ulong.MaxValue : v < 0 ? unchecked((ulong)SaturatingToLong(v)) : (ulong)v;

    private static void Check(Shape shape, int length)
    {
        if (shape.Size != length)
            throw new ArgumentException($"{length} values do not fill shape {shape} ({shape.Size} elements).");
    }

    /// <summary>Copies a CLR array into a host array of the matching dtype.</summary>
    public static HostArray Create<T>(T[] data, Shape shape) where T : unmanaged
    {
        var dtype = DTypes.Of<T>();
        Check(shape, data.Length);
        return data switch
        {
            float[] a => FromDoubles(dtype, shape, Array.ConvertAll(a, v => (double)v)),
            double[] a => FromDoubles(dtype, shape, (double[])a.Clone()),
            Half[] a => FromDoubles(dtype, shape, Array.ConvertAll(a, v => (double)v)),
            int[] a => FromLongs(dtype, shape, Array.ConvertAll(a, v => (long)v)),
            long[] a => FromLongs(dtype, shape, (long[])a.Clone()),
            bool[] a => FromLongs(dtype, shape, Array.ConvertAll(a, v => v ? 1L : 0L)),
            uint[] a => FromULongs(dtype, shape, Array.ConvertAll(a, v => (ulong)v)),
            ulong[] a => FromULongs(dtype, shape, (ulong[])a.Clone()),
            _ => throw new NotSupportedException(typeof(T).Name),
        };
    }

    /// <summary>A scalar of the given dtype holding <paramref name="value"/> (rounded or wrapped to the dtype).</summary>
    public static HostArray Scalar(DType dtype, double value) => Full(dtype, Shape.Scalar, value);

    /// <summary>An array filled with <paramref name="value"/> (rounded or wrapped to the dtype).</summary>
    public static HostArray Full(DType dtype, Shape shape, double value) => KindOf(dtype) switch
    {
        StorageKind.Float => FromDoubles(dtype, shape, Enumerable.Repeat(value, shape.Size).ToArray()),
        StorageKind.Signed => FromLongs(dtype, shape, Enumerable.Repeat(SaturatingToLong(value), shape.Size).ToArray()),
        _ => FromULongs(dtype, shape, Enumerable.Repeat(SaturatingToULong(value), shape.Size).ToArray()),
    };

    /// <summary>The element at flat index <paramref name="k"/> as a double.</summary>
    public double GetDouble(int k) => F?[k] ?? (I is not null ? I[k] : (double)U![k]);

    /// <summary>The element at flat index <paramref name="k"/> as a signed integer (floats truncate).</summary>
    public long GetLong(int k) => I?[k] ?? (U is not null ? unchecked((long)U[k]) : SaturatingToLong(F![k]));

    /// <summary>The element at flat index <paramref name="k"/> as an unsigned integer (floats truncate).</summary>
    public ulong GetULong(int k) => U?[k] ?? (I is not null ? unchecked((ulong)I[k]) : SaturatingToULong(F![k]));

    /// <summary>All elements as doubles.</summary>
    public double[] ToDoubles() => F is not null ? (double[])F.Clone() : Enumerable.Range(0, Size).Select(GetDouble).ToArray();

    /// <summary>All elements as signed integers.</summary>
    public long[] ToLongs() => I is not null ? (long[])I.Clone() : Enumerable.Range(0, Size).Select(GetLong).ToArray();

    /// <summary>Copies the elements into a CLR array; <typeparamref name="T"/> must match <see cref="DType"/>.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (DTypes.Of<T>() != DType)
            throw new InvalidCastException($"Cannot read a {DType.ShortName()}{Shape} tensor as {typeof(T).Name}[]; cast it to {DTypes.Of<T>().ShortName()} first.");
        object result = DType switch
        {
            DType.Float32 => Array.ConvertAll(F!, v => (float)v),
            DType.Float64 => (double[])F!.Clone(),
            DType.Float16 => Array.ConvertAll(F!, v => (Half)v),
            DType.Int32 => Array.ConvertAll(I!, v => (int)v),
            DType.Int64 => (long[])I!.Clone(),
            DType.Bool => Array.ConvertAll(I!, v => v != 0),
            DType.UInt32 => Array.ConvertAll(U!, v => (uint)v),
            DType.UInt64 => (ulong[])U!.Clone(),
            _ => throw new NotSupportedException(DType.ToString()),
        };
        return (T[])result;
    }

    /// <summary>The same data viewed with another shape of the same size.</summary>
    public HostArray Reshape(Shape shape)
    {
        Check(shape, Size);
        return new HostArray(DType, shape, F, I, U);
    }

    /// <summary>The raw little-endian bytes, as ONNX's <c>raw_data</c> and ONNX Runtime's buffers hold them.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Size * DType.ItemSize()];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>Writes the raw bytes into <paramref name="dest"/>, which holds exactly Size × ItemSize bytes.</summary>
    public void WriteBytes(Span<byte> dest)
    {
        switch (DType)
        {
            case DType.Float32: { var s = MemoryMarshal.Cast<byte, float>(dest); for (var k = 0; k < Size; k++) s[k] = (float)F![k]; break; }
            case DType.Float64: MemoryMarshal.Cast<double, byte>(F!.AsSpan()).CopyTo(dest); break;
            case DType.Float16: { var s = MemoryMarshal.Cast<byte, Half>(dest); for (var k = 0; k < Size; k++) s[k] = (Half)F![k]; break; }
            case DType.Int32: { var s = MemoryMarshal.Cast<byte, int>(dest); for (var k = 0; k < Size; k++) s[k] = (int)I![k]; break; }
            case DType.Int64: MemoryMarshal.Cast<long, byte>(I!.AsSpan()).CopyTo(dest); break;
            case DType.Bool: for (var k = 0; k < Size; k++) dest[k] = (byte)(I![k] != 0 ? 1 : 0); break;
            case DType.UInt32: { var s = MemoryMarshal.Cast<byte, uint>(dest); for (var k = 0; k < Size; k++) s[k] = (uint)U![k]; break; }
            case DType.UInt64: MemoryMarshal.Cast<ulong, byte>(U!.AsSpan()).CopyTo(dest); break;
        }
    }

    /// <summary>Reads raw little-endian bytes of the given dtype and shape.</summary>
    public static HostArray FromBytes(DType dtype, Shape shape, ReadOnlySpan<byte> src)
    {
        if (src.Length != shape.Size * dtype.ItemSize())
            throw new ArgumentException($"{src.Length} bytes do not hold {dtype.ShortName()}{shape}.");
        return dtype switch
        {
            DType.Float32 => Create(MemoryMarshal.Cast<byte, float>(src).ToArray(), shape),
            DType.Float64 => FromDoubles(dtype, shape, MemoryMarshal.Cast<byte, double>(src).ToArray()),
            DType.Float16 => Create(MemoryMarshal.Cast<byte, Half>(src).ToArray(), shape),
            DType.Int32 => Create(MemoryMarshal.Cast<byte, int>(src).ToArray(), shape),
            DType.Int64 => FromLongs(dtype, shape, MemoryMarshal.Cast<byte, long>(src).ToArray()),
            DType.Bool => FromLongs(dtype, shape, src.ToArray().Select(b => (long)b).ToArray()),
            DType.UInt32 => Create(MemoryMarshal.Cast<byte, uint>(src).ToArray(), shape),
            DType.UInt64 => FromULongs(dtype, shape, MemoryMarshal.Cast<byte, ulong>(src).ToArray()),
            _ => throw new NotSupportedException(dtype.ToString()),
        };
    }

    /// <inheritdoc/>
    public bool Equals(HostArray? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (DType != other.DType || Shape != other.Shape || GetHashCode() != other.GetHashCode()) return false;
        return F is not null ? F.AsSpan().SequenceEqual(other.F) : I is not null ? I.AsSpan().SequenceEqual(other.I) : U!.AsSpan().SequenceEqual(other.U);
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as HostArray);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        if (_hash is { } h) return h;
        var hc = new HashCode();
        hc.Add(DType);
        hc.Add(Shape);
        for (var k = 0; k < Math.Min(Size, 64); k++) hc.Add(F is not null ? F[k].GetHashCode() : I is not null ? I[k].GetHashCode() : U![k].GetHashCode());
        _hash = hc.ToHashCode();
        return _hash.Value;
    }

    /// <summary>Formats one element as the IR printer and <c>Tensor.ToString</c> show it.</summary>
    public string FormatElement(int k) => DType switch
    {
        DType.Bool => I![k] != 0 ? "true" : "false",
        DType.Float32 or DType.Float16 => ((float)F![k]).ToString("G7", CultureInfo.InvariantCulture),
        DType.Float64 => F![k].ToString("G10", CultureInfo.InvariantCulture),
        _ => I is not null ? I[k].ToString(CultureInfo.InvariantCulture) : U![k].ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Nested brackets of values, eliding the middle of large dimensions.</summary>
    public string FormatValues(int edge = 3)
    {
        var sb = new StringBuilder();
        var strides = Shape.Strides();
        void Rec(int axis, int offset)
        {
            if (axis == Shape.Rank) { sb.Append(FormatElement(offset)); return; }
            sb.Append('[');
            var n = Shape[axis];
            for (var j = 0; j < n; j++)
            {
                if (n > 2 * edge && j == edge) { sb.Append("..., "); j = n - edge - 1; continue; }
                Rec(axis + 1, offset + j * strides[axis]);
                if (j < n - 1) sb.Append(axis == Shape.Rank - 1 ? ", " : ",\n" + new string(' ', axis + 1));
            }
            sb.Append(']');
        }
        if (Size == 0) return "[]";
        Rec(0, 0);
        return sb.ToString();
    }

    /// <summary>Prints values with the aval.</summary>
    public override string ToString() => $"{Aval} {FormatValues()}";
}

/// <summary>The canonical managed storage of a dtype.</summary>
internal enum StorageKind
{
    Float,
    Signed,
    Unsigned,
}
