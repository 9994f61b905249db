namespace NnxSharp;

/// <summary>
/// The static half of a <see cref="State"/>: its paths and variable kinds, in order. Immutable, with value
/// equality and a precomputed hash (it is the State's auxiliary data in a <see cref="Tree"/>).
/// </summary>
internal sealed class StateDef : IEquatable<StateDef>
{
    private readonly int _hash;
    private Dictionary<string, int>? _index;

    public static readonly StateDef Empty = new([], []);

    public StateDef(string[] paths, Type[] kinds)
    {
        Paths = paths;
        Kinds = kinds;
        var h = new HashCode();
        for (var i = 0; i < paths.Length; i++)
        {
            h.Add(paths[i], StringComparer.Ordinal);
            h.Add(kinds[i]);
        }
        _hash = h.ToHashCode();
    }

    public string[] Paths { get; }

    public Type[] Kinds { get; }

    public int Count => Paths.Length;

    /// <summary>The position of <paramref name="path"/>, or −1 (the index is built on first use).</summary>
    public int IndexOf(string path)
    {
        var index = _index;
        if (index is null)
        {
            index = new Dictionary<string, int>(Paths.Length, StringComparer.Ordinal);
            for (var i = 0; i < Paths.Length; i++)
                if (!index.TryAdd(Paths[i], i))
                    throw new ArgumentException($"State: the path '{Paths[i]}' appears twice.");
            _index = index;
        }
        return index.TryGetValue(path, out var at) ? at : -1;
    }

    public bool Equals(StateDef? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._hash != _hash || other.Paths.Length != Paths.Length) return false;
        for (var i = 0; i < Paths.Length; i++)
            if (Kinds[i] != other.Kinds[i] || !string.Equals(Paths[i], other.Paths[i], StringComparison.Ordinal)) return false;
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as StateDef);

    public override int GetHashCode() => _hash;

    /// <summary>Prints the paths: <c>{linear/kernel, linear/bias}</c>.</summary>
    public override string ToString() => "{" + string.Join(", ", Paths) + "}";
}
