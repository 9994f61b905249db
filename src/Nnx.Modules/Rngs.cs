namespace NnxSharp;

/// <summary>
/// Named random streams (<c>params</c>, <c>dropout</c>, …), each a key and a counter held in variables, so a
/// jitted step advances them as state (paths <c>rngs/params/key</c>, <c>rngs/params/count</c>). As in Flax, a
/// stream that was not given falls back to <c>default</c>: <c>new Rngs(0)</c> serves every name from one
/// stream, <c>new Rngs(("params", 0), ("dropout", 1))</c> keeps them apart.
/// </summary>
public sealed class Rngs : Module
{
    /// <summary>The name of the stream that serves names without their own.</summary>
    public const string DefaultStream = "default";

    [InlinePath]
    private readonly Dictionary<string, RngStream> _streams;

    /// <summary>One <c>default</c> stream from <paramref name="seed"/>.</summary>
    public Rngs(long seed)
        : this((DefaultStream, seed))
    {
    }

    /// <summary>One stream per (name, seed).</summary>
    public Rngs(params (string Name, long Seed)[] streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        _streams = new Dictionary<string, RngStream>(StringComparer.Ordinal);
        foreach (var (name, seed) in streams)
            if (!_streams.TryAdd(name, new RngStream(name, Prng.Key(seed))))
                throw new ArgumentException($"Rngs: the stream '{name}' is given twice.");
    }

    private Rngs(Dictionary<string, RngStream> streams) => _streams = streams;

    /// <summary>The names of the streams.</summary>
    public IReadOnlyCollection<string> Names => _streams.Keys;

    /// <summary>The stream <paramref name="name"/>, else the <c>default</c> stream; throws when there is neither.</summary>
    public RngStream this[string name] =>
        _streams.TryGetValue(name, out var s) || _streams.TryGetValue(DefaultStream, out s)
            ? s
            : throw new KeyNotFoundException($"Rngs has no stream '{name}' and no '{DefaultStream}' stream; it has {string.Join(", ", _streams.Keys)}.");

    /// <summary>A fresh key from stream <paramref name="name"/> (or <c>default</c>).</summary>
    public Tensor Next(string name) => this[name].Next();

    /// <summary>A fresh key for initialising parameters.</summary>
    public Tensor Params() => Next("params");

    /// <summary>A fresh key for dropout masks.</summary>
    public Tensor Dropout() => Next("dropout");

    /// <summary>New, independent streams with the same names, each keyed by a fresh key of this stream (for a layer that keeps its own).</summary>
    public Rngs Fork()
    {
        var forked = new Dictionary<string, RngStream>(StringComparer.Ordinal);
        foreach (var (name, stream) in _streams) forked[name] = new RngStream(name, stream.Next());
        return new Rngs(forked);
    }
}
