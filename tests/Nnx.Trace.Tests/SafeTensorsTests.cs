using System.Buffers.Binary;
using System.Text;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>
/// The safetensors reader and writer against files built byte by byte from the format's specification
/// (huggingface/safetensors README, "Format"): u64 little-endian header length, JSON header, raw data.
/// </summary>
[TestClass]
public sealed class SafeTensorsTests
{
    /// <summary>A file as the specification lays it out: the length, the header text as given (no padding added), the data.</summary>
    private static byte[] SpecFile(string header, params byte[][] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var file = new List<byte>();
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.AddRange(length);
        file.AddRange(json);
        foreach (var d in data) file.AddRange(d);
        return [.. file];
    }

    private static byte[] F32(params float[] v) => [.. v.SelectMany(BitConverter.GetBytes)];

    private static byte[] I64(params long[] v) => [.. v.SelectMany(BitConverter.GetBytes)];

    [TestMethod]
    public void WritesTheSpecificationsBytesExactly()
    {
        var tensors = new Dictionary<string, HostArray>
        {
            ["a"] = HostArray.Create([1f, -2.5f], Shape.Of(2)),
            ["b"] = HostArray.Create([7L], Shape.Scalar),
            ["c/d"] = HostArray.Create([true, false, true], Shape.Of(3)),
        };
        var bytes = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["step"] = "3" });

        // Larger elements first (b, then a, then c) so each tensor is aligned; the header padded with spaces to 8 bytes.
        const string header = "{\"__metadata__\":{\"step\":\"3\"}," +
                              "\"b\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}," +
                              "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}," +
                              "\"c/d\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]}}";
        var padded = header + new string(' ', (8 - header.Length % 8) % 8);
        var expected = SpecFile(padded, I64(7), F32(1f, -2.5f), [1, 0, 1]);
        bytes.Should().Equal(expected);
        (bytes.Length - 8 - 19).Should().Be(padded.Length);
        (padded.Length % 8).Should().Be(0);
    }

    [TestMethod]
    public void ReadsAFileLaidOutOtherwiseByTheSpecification()
    {
        // Keys in any order, whitespace, no padding, data in another order than the keys, a scalar and an empty tensor.
        var file = SpecFile(
            "{ \"w\" : {\"data_offsets\": [8, 24], \"shape\": [2, 2], \"dtype\": \"F32\"},\n" +
            "  \"__metadata__\": {\"format\": \"pt\"},\n" +
            "  \"empty\": {\"dtype\": \"F64\", \"shape\": [0, 3], \"data_offsets\": [24, 24]},\n" +
            "  \"n\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]} }",
            I64(-5), F32(1, 2, 3, 4));
        var (tensors, metadata) = SafeTensors.Deserialize(file);
        tensors.Select(t => t.Key).Should().Equal("n", "w", "empty");
        tensors[0].Value.Should().Be(HostArray.Create([-5L], Shape.Scalar));
        tensors[1].Value.Should().Be(HostArray.Create([1f, 2f, 3f, 4f], Shape.Of(2, 2)));
        tensors[2].Value.Aval.Should().Be(Aval.Of(DType.Float64, 0, 3));
        metadata.Should().Equal(new Dictionary<string, string> { ["format"] = "pt" });
    }

    [TestMethod]
    public void RoundTripsEveryDType()
    {
        var tensors = new Dictionary<string, HostArray>
        {
            ["f32"] = HostArray.Create([1.5f, -0f, float.MaxValue, float.Epsilon, float.NaN, float.NegativeInfinity], Shape.Of(2, 3)),
            ["f64"] = HostArray.Create([0.1, -0.0, double.MaxValue, double.Epsilon, double.PositiveInfinity], Shape.Of(5)),
            ["f16"] = HostArray.Create([(Half)0.1, Half.MaxValue, Half.Epsilon, (Half)(-2)], Shape.Of(4, 1)),
            ["i32"] = HostArray.Create([int.MinValue, -1, 0, int.MaxValue], Shape.Of(2, 2)),
            ["i64"] = HostArray.Create([long.MinValue, long.MaxValue], Shape.Of(2)),
            ["u32"] = HostArray.Create([0u, uint.MaxValue], Shape.Of(2)),
            ["u64"] = HostArray.Create([ulong.MaxValue], Shape.Scalar),
            ["bool"] = HostArray.Create([true, false, false], Shape.Of(3)),
            ["empty"] = HostArray.Zeros(DType.Float32, Shape.Of(0, 4)),
        };
        var (back, metadata) = SafeTensors.Deserialize(SafeTensors.Serialize(tensors));
        metadata.Should().BeEmpty();
        back.Should().HaveCount(tensors.Count);
        foreach (var (name, value) in back)
        {
            value.Should().Be(tensors[name], name);
            value.ToBytes().Should().Equal(tensors[name].ToBytes(), $"{name} round-trips bit for bit");
        }
        Enum.GetValues<DType>().Should().OnlyContain(d => tensors.Values.Any(v => v.DType == d), "every Nnx dtype is covered");
    }

    [TestMethod]
    [DataRow("{}", new byte[] { 1, 2, 3 }, "3 bytes after the last tensor")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[] { 0, 0, 0, 0 }, "past the end of the data (4 bytes; truncated?)")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, "'b' [4, 8) overlaps 'a' [0, 8)")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, "the bytes [0, 4) before 'a' belong to no tensor")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, "'a' is F32[3], 12 bytes, but its data_offsets [0, 8] hold 8")]
    [DataRow("{\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}", new byte[] { 0, 0 }, "dtype BF16, which Nnx has no type for")]
    [DataRow("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,2]}}", new byte[] { 0, 0 }, "unknown dtype 'Q4'")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", new byte[0], "shape entry -1 that is not a dimension")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[] { 0, 0, 0, 0 }, "end before they begin")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[] { 0, 0, 0, 0 }, "no data_offsets pair")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, "names 'a' twice")]
    [DataRow("{\"__metadata__\":{\"step\":3}}", new byte[0], "metadata 'step' is not a string")]
    [DataRow("{\"a\":", new byte[0], "the header is not valid JSON")]
    [DataRow("[1, 2]", new byte[0], "does not begin with '{'")]
    public void ACorruptFileIsAClearError(string header, byte[] data, string message)
    {
        var act = () => SafeTensors.Deserialize(SpecFile(header, data), "bad.safetensors");
        act.Should().Throw<InvalidDataException>().WithMessage($"safetensors: bad.safetensors: *{message}*");
    }

    [TestMethod]
    public void AHeaderLengthBeyondTheFileOrTheLimitIsAClearError()
    {
        var file = SafeTensors.Serialize([new("a", HostArray.Create([1f], Shape.Of(1)))]);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);
        FluentActions.Invoking(() => SafeTensors.Deserialize(file)).Should().Throw<InvalidDataException>().WithMessage("*header length is 1000 bytes but only*truncated?*");
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        FluentActions.Invoking(() => SafeTensors.Deserialize(file)).Should().Throw<InvalidDataException>().WithMessage("*over the format's limit*");
        FluentActions.Invoking(() => SafeTensors.Deserialize(new byte[5])).Should().Throw<InvalidDataException>().WithMessage("*5 bytes, too few*");
    }

    [TestMethod]
    public void EveryTruncationAndEveryHeaderByteFlipIsRejectedOrReadNeverACrash()
    {
        var file = SafeTensors.Serialize([
            new("w", HostArray.Create([1f, 2f, 3f], Shape.Of(3))),
            new("n", HostArray.Create([4L, 5L], Shape.Of(2))),
            new("m", HostArray.Create([true], Shape.Of(1))),
        ], new Dictionary<string, string> { ["k"] = "v" });
        for (var k = 0; k < file.Length; k++)
            FluentActions.Invoking(() => SafeTensors.Deserialize(file.AsSpan(0, k))).Should().Throw<InvalidDataException>($"a file cut at {k} bytes is incomplete");
        var headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var read = 0;
        for (var k = 0; k < headerEnd; k++)
            foreach (var flip in new byte[] { 0x01, 0x20, 0x80 })
            {
                var bad = (byte[])file.Clone();
                bad[k] ^= flip;
                try
                {
                    SafeTensors.Deserialize(bad);
                    read++;
                }
                catch (InvalidDataException)
                {
                }
            }
        read.Should().BeLessThan(3 * headerEnd / 4, "most flips break the header and are reported");
    }

    [TestMethod]
    public void SaveIsAtomicAFailedWriteLeavesThePreviousFile()
    {
        var folder = Directory.CreateTempSubdirectory("nnx-safetensors-").FullName;
        try
        {
            var path = Path.Combine(folder, "ckpt.safetensors");
            var first = new Dictionary<string, HostArray> { ["w"] = HostArray.Create([1f, 2f], Shape.Of(2)) };
            SafeTensors.Save(path, first);
            var act = () => SafeTensors.WriteAtomically(path, stream =>
            {
                stream.Write(new byte[100]);
                throw new IOException("disk full (simulated)");
            });
            act.Should().Throw<IOException>().WithMessage("disk full (simulated)");
            SafeTensors.Load(path).Tensors.Single().Value.Should().Be(first["w"]);
            Directory.GetFiles(folder).Should().Equal([path], "the temporary file is removed");

            SafeTensors.Save(path, [new("w", HostArray.Create([3f], Shape.Of(1)))]);
            SafeTensors.Load(path).Tensors.Single().Value.ToArray<float>().Should().Equal(3f);
            FluentActions.Invoking(() => SafeTensors.Load(Path.Combine(folder, "none.safetensors"))).Should().Throw<FileNotFoundException>().WithMessage("*none.safetensors*");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
