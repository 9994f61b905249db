using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NnxSharp;

/// <summary>
/// The safetensors format (huggingface/safetensors), read and written to its specification: an 8-byte
/// little-endian unsigned header length N; N bytes of UTF-8 JSON, an object mapping each tensor's name to
/// <c>{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}</c> plus an optional <c>__metadata__</c>
/// object of strings, padded with spaces; then the tensors' raw little-endian row-major bytes, offsets relative
/// to the end of the header, covering the buffer exactly (no holes, no overlaps). Every file is validated
/// completely before any tensor is made, so a bad file gives one clear <see cref="InvalidDataException"/>
/// and never a partial result. Writing pads the header to 8 bytes and orders tensors by element size (largest
/// first), so every tensor is aligned for readers that map the file; <see cref="Save"/> is atomic.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header accepted (the reference implementation's limit, 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The format's other dtypes, which Nnx has no type for: named in the error instead of "unknown".
    private static readonly string[] ForeignDTypes = ["BF16", "I8", "U8", "I16", "U16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"];

    /// <summary>The format's name of a dtype: F32, F64, F16, I32, I64, U32, U64, BOOL.</summary>
    public static string DTypeName(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Float16 => "F16",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        DType.UInt32 => "U32",
        DType.UInt64 => "U64",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>The bytes of a safetensors file holding <paramref name="tensors"/> (names unique) and <paramref name="metadata"/>.</summary>
    public static byte[] Serialize(IEnumerable<KeyValuePair<string, HostArray>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>Writes a safetensors file to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, HostArray>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        Write(stream, [.. list.Select(t => (t.Key, t.Value?.Aval ?? throw new ArgumentNullException(nameof(tensors), $"safetensors: the value of '{t.Key}' is null.")))], i => list[i].Value, metadata);
    }

    /// <summary>
    /// Writes a safetensors file whose tensors have the given names and avals; <paramref name="value"/>(i) gives
    /// tensor i's data when its turn comes, so a large state is written one tensor at a time.
    /// </summary>
    internal static void Write(Stream stream, IReadOnlyList<(string Name, Aval Aval)> entries, Func<int, HostArray> value, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in entries)
        {
            ArgumentException.ThrowIfNullOrEmpty(name, nameof(entries));
            if (name == MetadataKey) throw new ArgumentException($"safetensors: '{MetadataKey}' is reserved and cannot name a tensor.", nameof(entries));
            if (!names.Add(name)) throw new ArgumentException($"safetensors: the name '{name}' appears twice.", nameof(entries));
        }
        // Largest elements first (stable), so each tensor starts at a multiple of its element size.
        var order = Enumerable.Range(0, entries.Count).OrderByDescending(i => entries[i].Aval.DType.ItemSize()).ToArray();
        var header = Header(entries, order, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var i in order)
        {
            var data = value(i);
            if (data.Aval != entries[i].Aval)
                throw new InvalidOperationException($"safetensors: '{entries[i].Name}' was announced as {entries[i].Aval} but its value is {data.Aval}.");
            stream.Write(data.ToBytes());
        }
    }

    private static byte[] Header(IReadOnlyList<(string Name, Aval Aval)> entries, int[] order, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) json.WriteString(k, v ?? throw new ArgumentNullException(nameof(metadata), $"safetensors: metadata '{k}' is null."));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var i in order)
            {
                var (name, aval) = entries[i];
                var bytes = (long)aval.Shape.Size * aval.DType.ItemSize();
                json.WriteStartObject(name);
                json.WriteString("dtype", DTypeName(aval.DType));
                json.WriteStartArray("shape");
                foreach (var d in aval.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        var padded = (buffer.Length + 7) / 8 * 8;
        while (buffer.Length < padded) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    /// <summary>
    /// Reads a safetensors file from its bytes: the tensors in the order of their data, and the metadata.
    /// Throws <see cref="InvalidDataException"/> naming <paramref name="source"/> and what is wrong (header length,
    /// JSON, an entry's dtype, shape or offsets, holes, overlaps, data past the end) before making any tensor.
    /// </summary>
    public static (IReadOnlyList<KeyValuePair<string, HostArray>> Tensors, IReadOnlyDictionary<string, string> Metadata) Deserialize(ReadOnlySpan<byte> file, string source = "safetensors data")
    {
        var (entries, metadata, dataStart) = Parse(file, source);
        var tensors = new KeyValuePair<string, HostArray>[entries.Count];
        for (var i = 0; i < tensors.Length; i++)
        {
            var e = entries[i];
            tensors[i] = new(e.Name, HostArray.FromBytes(e.DType, e.Shape, file.Slice((int)(dataStart + e.Begin), (int)(e.End - e.Begin))));
        }
        return (tensors, metadata);
    }

    /// <summary>Reads the safetensors file at <paramref name="path"/> (validated completely, as <see cref="Deserialize"/>).</summary>
    public static (IReadOnlyList<KeyValuePair<string, HostArray>> Tensors, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"safetensors: there is no file '{path}'.", path);
        if (info.Length > int.MaxValue) throw new InvalidDataException($"safetensors: '{path}' is {info.Length} bytes; Nnx reads files up to 2 GiB.");
        return Deserialize(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Writes a safetensors file atomically: to a temporary file in the same folder, flushed to disk, then renamed
    /// over <paramref name="path"/>. A failure on the way leaves the previous file as it was.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, HostArray>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        WriteAtomically(path, s => Write(s, list, metadata));
    }

    /// <summary>Runs <paramref name="write"/> on a temporary file next to <paramref name="path"/>, flushes it to disk and renames it over the path.</summary>
    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private sealed record Entry(string Name, DType DType, Shape Shape, long Begin, long End);

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) Parse(ReadOnlySpan<byte> file, string source)
    {
        InvalidDataException Bad(string what) => new($"safetensors: {source}: {what}.");
        if (file.Length < 8) throw Bad($"the file has {file.Length} bytes, too few for the 8-byte header length (truncated?)");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n > MaxHeaderBytes) throw Bad($"the header length is {n} bytes, over the format's limit of {MaxHeaderBytes} (not a safetensors file?)");
        if ((long)n > file.Length - 8) throw Bad($"the header length is {n} bytes but only {file.Length - 8} follow (truncated?)");
        var headerBytes = file.Slice(8, (int)n);
        if (n < 2 || headerBytes[0] != (byte)'{') throw Bad("the header does not begin with '{' (not a safetensors file?)");
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes)) throw Bad("the header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(headerBytes.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Bad($"the header is not valid JSON ({e.Message})");
        }
        var dataLength = file.Length - 8 - (long)n;
        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("the header is not a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name)) throw Bad($"the header names '{p.Name}' twice");
                if (p.Name == MetadataKey)
                {
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad($"'{MetadataKey}' is not an object of strings");
                    foreach (var m in p.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw Bad($"metadata '{m.Name}' is not a string");
                    continue;
                }
                entries.Add(ParseEntry(p, Bad));
            }
        }
        CheckLayout(entries, dataLength, Bad);
        return (entries, metadata, 8 + (long)n);
    }

    private static Entry ParseEntry(JsonProperty p, Func<string, InvalidDataException> bad)
    {
        var name = p.Name;
        if (p.Value.ValueKind != JsonValueKind.Object) throw bad($"the entry of '{name}' is not an object");
        if (!p.Value.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw bad($"'{name}' has no dtype string");
        var dtypeName = dt.GetString()!;
        var dtype = ParseDType(dtypeName) ?? throw bad(ForeignDTypes.Contains(dtypeName)
            ? $"'{name}' has dtype {dtypeName}, which Nnx has no type for (it reads F32, F64, F16, I32, I64, U32, U64, BOOL)"
            : $"'{name}' has an unknown dtype '{dtypeName}'");
        if (!p.Value.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw bad($"'{name}' has no shape array");
        var dims = new List<int>();
        long elements = 1;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var v) || v < 0) throw bad($"'{name}' has a shape entry {d.GetRawText()} that is not a dimension");
            dims.Add(v);
            elements *= v;
            if (elements > int.MaxValue) throw bad($"'{name}' has shape [{string.Join(",", dims)}…], over 2^31 elements");
        }
        if (!p.Value.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw bad($"'{name}' has no data_offsets pair [begin, end]");
        var begin = Offset(off[0]);
        var end = Offset(off[1]);
        if (begin < 0 || end < 0) throw bad($"'{name}' has data_offsets {off.GetRawText()} that are not byte offsets");
        if (end < begin) throw bad($"'{name}' has data_offsets [{begin}, {end}] that end before they begin");
        var shape = Shape.Of([.. dims]);
        if (end - begin != elements * dtype.ItemSize())
            throw bad($"'{name}' is {dtypeName}{shape}, {elements * dtype.ItemSize()} bytes, but its data_offsets [{begin}, {end}] hold {end - begin}");
        return new Entry(name, dtype, shape, begin, end);

        static long Offset(JsonElement e) => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v) ? v : -1;
    }

    /// <summary>The buffer is covered exactly: offsets in order from 0, each tensor starting where the previous ends, the last at the end.</summary>
    private static void CheckLayout(List<Entry> entries, long dataLength, Func<string, InvalidDataException> bad)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long at = 0;
        Entry? previous = null;
        foreach (var e in entries)
        {
            if (e.End > dataLength)
                throw bad($"'{e.Name}' has data_offsets [{e.Begin}, {e.End}] past the end of the data ({dataLength} bytes; truncated?)");
            if (e.Begin < at)
                throw bad($"'{e.Name}' [{e.Begin}, {e.End}) overlaps '{previous!.Name}' [{previous.Begin}, {previous.End})");
            if (e.Begin > at)
                throw bad($"the bytes [{at}, {e.Begin}) before '{e.Name}' belong to no tensor (the buffer must be covered exactly)");
            at = e.End;
            previous = e;
        }
        if (at != dataLength) throw bad($"the data has {dataLength - at} bytes after the last tensor that belong to no tensor");
    }

    private static DType? ParseDType(string name) => name switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "F16" => DType.Float16,
        "I32" => DType.Int32,
        "I64" => DType.Int64,
        "U32" => DType.UInt32,
        "U64" => DType.UInt64,
        "BOOL" => DType.Bool,
        _ => null,
    };
}
