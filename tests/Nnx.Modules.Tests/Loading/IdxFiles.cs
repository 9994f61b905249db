using System.Buffers.Binary;
using System.IO.Compression;
using NnxSharp.Data;

namespace NnxSharp.Tests;

/// <summary>Writes small IDX files for the tests, byte by byte as the format specifies (big-endian).</summary>
internal static class IdxFiles
{
    /// <summary>The bytes of an IDX file: magic 00 00 type rank, the sizes, then each value big-endian.</summary>
    public static byte[] Bytes(IdxType type, int[] shape, double[] values)
    {
        var item = Idx.ItemSize(type);
        var bytes = new byte[4 + 4 * shape.Length + item * values.Length];
        (bytes[2], bytes[3]) = ((byte)type, (byte)shape.Length);
        for (var d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        var body = bytes.AsSpan(4 + 4 * shape.Length);
        for (var k = 0; k < values.Length; k++)
        {
            var at = body[(k * item)..];
            switch (type)
            {
                case IdxType.UInt8: at[0] = (byte)values[k]; break;
                case IdxType.Int8: at[0] = unchecked((byte)(sbyte)values[k]); break;
                case IdxType.Int16: BinaryPrimitives.WriteInt16BigEndian(at, (short)values[k]); break;
                case IdxType.Int32: BinaryPrimitives.WriteInt32BigEndian(at, (int)values[k]); break;
                case IdxType.Float32: BinaryPrimitives.WriteSingleBigEndian(at, (float)values[k]); break;
                default: BinaryPrimitives.WriteDoubleBigEndian(at, values[k]); break;
            }
        }
        return bytes;
    }

    /// <summary>Writes bytes to a new temporary file, gzip-compressed when asked; returns its path.</summary>
    public static string Write(byte[] bytes, bool gzip = false)
    {
        var path = Path.Combine(Path.GetTempPath(), $"nnx-idx-{Guid.NewGuid():N}{(gzip ? ".gz" : "")}");
        if (!gzip) File.WriteAllBytes(path, bytes);
        else
        {
            using var file = File.Create(path);
            using var z = new GZipStream(file, CompressionLevel.Fastest);
            z.Write(bytes);
        }
        return path;
    }

    /// <summary>An images file [n, rows, cols] of pixel k = (k·7) mod 256 and a labels file [n] of label i = i mod 10.</summary>
    public static (string Images, string Labels) Mnist(int n, int rows, int cols, bool gzip)
    {
        var pixels = Enumerable.Range(0, n * rows * cols).Select(k => (double)(k * 7 % 256)).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => (double)(i % 10)).ToArray();
        return (Write(Bytes(IdxType.UInt8, [n, rows, cols], pixels), gzip), Write(Bytes(IdxType.UInt8, [n], labels), gzip));
    }
}
