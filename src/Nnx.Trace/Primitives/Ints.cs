using System.Collections;
using System.Collections.Immutable;

namespace NnxSharp.Primitives;

/// <summary>An immutable list of integers with structural equality: axes, permutations, starts and ends.</summary>
internal sealed class Ints : IEquatable<Ints>, IReadOnlyList<int>
{
    private readonly ImmutableArray<int> _items;

    /// <summary>The empty list.</summary>
    public static readonly Ints Empty = new([]);

    /// <summary>Creates a list.</summary>
    public Ints(params int[] items) => _items = [.. items];

    /// <summary>Creates a list.</summary>
    public static Ints Of(params int[] items) => new(items);

    public int this[int index] => _items[index];

    public int Count => _items.Length;

    /// <summary>The items as 64-bit integers, as ONNX wants them.</summary>
    public long[] ToLongArray() => _items.Select(i => (long)i).ToArray();

    /// <summary>A copy as an array.</summary>
    public int[] ToArray() => [.. _items];

    /// <summary>True when the list holds <paramref name="value"/>.</summary>
    public bool Contains(int value) => _items.Contains(value);

    public bool Equals(Ints? other) => other is not null && _items.SequenceEqual(other._items);

    public override bool Equals(object? obj) => Equals(obj as Ints);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var i in _items) h.Add(i);
        return h.ToHashCode();
    }

    /// <summary>Prints as <c>(0,1)</c>.</summary>
    public override string ToString() => "(" + string.Join(",", _items) + ")";

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
