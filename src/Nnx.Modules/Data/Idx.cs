using System.Buffers.Binary;
using System.IO.Compression;

namespace NnxSharp.Data;

/// <summary>
/// Reads IDX files (Yann LeCun's format for MNIST, also Fashion-MNIST's), plain or gzip-compressed (detected
/// by the gzip magic bytes, not the file name). Layout: two zero bytes, a type code, the number of
/// dimensions d, d big-endian int32 sizes, then the values big-endian in row-major order. A file that does
/// not follow it (wrong magic, unknown type, truncated, bytes left over) fails with an
/// <see cref="InvalidDataException"/> naming the file and what was wrong.
/// </summary>
public static class Idx
{
    /// <summary>Reads a whole IDX file.</summary>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        byte[] data;
        bool gzip;
        try
        {
            (data, gzip) = ReadAllBytes(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"IDX file '{path}' starts like a gzip file but does not decompress: {e.Message}", e);
        }
        if (!gzip) return Parse(data, path);
        try
        {
            return Parse(data, path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message} (After gzip decompression: the .gz file may be cut short or corrupt.)", e);
        }
    }

    /// <summary>Parses IDX bytes (already decompressed); <paramref name="name"/> is used in messages.</summary>
    public static IdxArray Parse(ReadOnlySpan<byte> data, string name = "<bytes>")
    {
        if (data.Length < 4)
            throw new InvalidDataException($"IDX file '{name}' is truncated: it has {data.Length} byte(s), fewer than the 4 of the magic number.");
        if (data[0] != 0 || data[1] != 0)
            throw new InvalidDataException($"'{name}' is not an IDX file: its magic number starts 0x{data[0]:X2} 0x{data[1]:X2}, not 0x00 0x00.");
        var type = (IdxType)data[2];
        if (!Enum.IsDefined(type))
            throw new InvalidDataException($"IDX file '{name}' has the unknown type code 0x{data[2]:X2} (known: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double).");
        var rank = data[3];
        var header = 4 + 4 * rank;
        if (data.Length < header)
            throw new InvalidDataException($"IDX file '{name}' is truncated: its header of {rank} dimension(s) needs {header} bytes but the file has {data.Length}.");
        var shape = new int[rank];
        long count = 1;
        for (var d = 0; d < rank; d++)
        {
            var n = BinaryPrimitives.ReadInt32BigEndian(data[(4 + 4 * d)..]);
            if (n < 0) throw new InvalidDataException($"IDX file '{name}' declares a negative size {n} for dimension {d}.");
            shape[d] = n;
            count *= n;
        }
        var item = ItemSize(type);
        var expected = count * item;
        var body = data[header..];
        var dims = $"[{string.Join(",", shape)}]";
        if (body.Length < expected)
            throw new InvalidDataException($"IDX file '{name}' is truncated: {type} values of shape {dims} need {expected} bytes of data but it holds {body.Length}.");
        if (body.Length > expected)
            throw new InvalidDataException($"IDX file '{name}' has {body.Length - expected} byte(s) after the {expected} bytes of its {type} values of shape {dims}.");
        if (expected > Array.MaxLength)
            throw new InvalidDataException($"IDX file '{name}' holds {count} values of shape {dims}, more than one array can hold.");

        if (item == 1) return new IdxArray(type, shape, body.ToArray(), null);
        var wide = new double[count];
        for (var k = 0; k < wide.Length; k++)
        {
            var at = body[(k * item)..];
            wide[k] = type switch
            {
                IdxType.Int16 => BinaryPrimitives.ReadInt16BigEndian(at),
                IdxType.Int32 => BinaryPrimitives.ReadInt32BigEndian(at),
                IdxType.Float32 => BinaryPrimitives.ReadSingleBigEndian(at),
                _ => BinaryPrimitives.ReadDoubleBigEndian(at),
            };
        }
        return new IdxArray(type, shape, null, wide);
    }

    /// <summary>The bytes per value of an IDX type.</summary>
    public static int ItemSize(IdxType type) => type switch
    {
        IdxType.UInt8 or IdxType.Int8 => 1,
        IdxType.Int16 => 2,
        IdxType.Int32 or IdxType.Float32 => 4,
        IdxType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an IDX type"),
    };

    private static (byte[] Data, bool Gzip) ReadAllBytes(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        var got = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        if (got < 2 || head[0] != 0x1F || head[1] != 0x8B) return (File.ReadAllBytes(path), false);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return (memory.ToArray(), true);
    }
}
