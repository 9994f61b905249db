namespace NnxSharp.Data;

/// <summary>
/// The contents of one IDX file (the format of MNIST and Fashion-MNIST): an element type, a shape and the
/// values in row-major order, converted from the file's big-endian layout. Read with <see cref="Idx.Read"/>.
/// </summary>
public sealed class IdxArray
{
    private readonly double[]? _wide;
    private readonly byte[]? _bytes;

    internal IdxArray(IdxType type, int[] shape, byte[]? bytes, double[]? wide)
    {
        (Type, _shape, _bytes, _wide) = (type, shape, bytes, wide);
    }

    private readonly int[] _shape;

    /// <summary>The element type stored in the file.</summary>
    public IdxType Type { get; }

    /// <summary>The dimensions, outermost first (for MNIST images [count, rows, columns]).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The number of elements.</summary>
    public int Size => _bytes?.Length ?? _wide!.Length;

    /// <summary>The raw bytes of a <see cref="IdxType.UInt8"/> file (not copied); throws for other types.</summary>
    public byte[] Bytes => _bytes is not null && Type == IdxType.UInt8
        ? _bytes
        : throw new InvalidOperationException($"IdxArray.Bytes: the file holds {Type} values, not UInt8.");

    /// <summary>Every value times <paramref name="scale"/>, as float32 (pixels ÷ 255 with scale = 1/255).</summary>
    public float[] ToFloat32(double scale = 1)
    {
        var r = new float[Size];
        if (_bytes is not null)
        {
            // One multiply per byte value, looked up: the same rounding as (float)(v·scale) element by element.
            Span<float> table = stackalloc float[256];
            for (var v = 0; v < 256; v++) table[v] = (float)((Type == IdxType.Int8 ? (sbyte)v : v) * scale);
            for (var k = 0; k < r.Length; k++) r[k] = table[_bytes[k]];
        }
        else
            for (var k = 0; k < r.Length; k++) r[k] = (float)(_wide![k] * scale);
        return r;
    }

    /// <summary>Every value as int32 (labels); throws for float files.</summary>
    public int[] ToInt32()
    {
        if (Type is IdxType.Float32 or IdxType.Float64)
            throw new InvalidOperationException($"IdxArray.ToInt32: the file holds {Type} values; use ToFloat32.");
        var r = new int[Size];
        for (var k = 0; k < r.Length; k++)
            r[k] = _bytes is not null ? (Type == IdxType.Int8 ? (sbyte)_bytes[k] : _bytes[k]) : (int)_wide![k];
        return r;
    }

    /// <summary>Prints as <c>UInt8[60000,28,28]</c>.</summary>
    public override string ToString() => $"{Type}[{string.Join(",", _shape)}]";
}
