namespace NnxSharp;

/// <summary>
/// One named random stream: a key and a counter, held as <see cref="RngKey"/> and <see cref="RngCount"/>
/// variables so that a traced step advances them as state. Draw i is <c>Prng.FoldIn(key, i)</c>.
/// </summary>
public sealed class RngStream : Module
{
    /// <summary>A stream named <paramref name="name"/> starting from <paramref name="key"/> (a u32[2] key) with its counter at 0.</summary>
    public RngStream(string name, Tensor key)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(key);
        Threefry.Words(key, $"RngStream '{name}'");
        Name = name;
        Key = new RngKey(key);
        Count = new RngCount(Tensor.Scalar(0, DType.UInt32));
    }

    /// <summary>The stream's name (<c>params</c>, <c>dropout</c>, …).</summary>
    public string Name { get; }

    /// <summary>The stream's key.</summary>
    public RngKey Key { get; }

    /// <summary>How many keys the stream has given.</summary>
    public RngCount Count { get; }

    /// <summary>A fresh key, <c>FoldIn(key, count)</c> (as Flax's <c>RngStream.__call__</c>); the counter advances.</summary>
    public Tensor Next()
    {
        var (k0, k1) = Threefry.Words(Key.Value, $"RngStream '{Name}'");
        var count = Count.Value;
        var (y0, y1) = Threefry.Hash(k0, k1, null, count.Reshape(1));
        Count.Value = count + 1;
        return Tensor.Concat(0, y0, y1);
    }
}
