using System.Collections;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>An immutable tensor shape with structural equality; the empty shape is a scalar.</summary>
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] _dims;
    private readonly int _hash;

    /// <summary>The scalar shape <c>[]</c>.</summary>
    public static readonly Shape Scalar = new([]);

    /// <summary>Creates a shape from its dimensions; each must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"Shape [{string.Join(",", dims)}] has a negative dimension.");
        _dims = (int[])dims.Clone();
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        _hash = h.ToHashCode();
        long size = 1;
        foreach (var d in _dims)
            if ((size *= d) > int.MaxValue) break;
        if (size > int.MaxValue) throw new ArgumentException($"Shape [{string.Join(",", dims)}] has more than 2^31 elements.");
        Size = (int)size;
    }

    /// <summary>Creates a shape from its dimensions.</summary>
    public static Shape Of(params int[] dims) => dims.Length == 0 ? Scalar : new Shape(dims);

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>The number of elements.</summary>
    public int Size { get; }

    /// <summary>The size of dimension <paramref name="axis"/>.</summary>
    public int this[int axis] => _dims[axis];

    /// <inheritdoc/>
    public int Count => _dims.Length;

    /// <summary>The dimensions as a read-only span.</summary>
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => (int[])_dims.Clone();

    /// <summary>The dimensions as 64-bit integers, as ONNX wants them.</summary>
    public long[] ToLongArray() => Array.ConvertAll(_dims, d => (long)d);

    /// <summary>Row-major strides, in elements.</summary>
    public int[] Strides()
    {
        var s = new int[_dims.Length];
        var acc = 1;
        for (var i = _dims.Length - 1; i >= 0; i--) { s[i] = acc; acc *= _dims[i]; }
        return s;
    }

    /// <summary>Normalises a possibly negative axis against this rank, naming the op when it is out of range.</summary>
    public int Axis(int axis, string op)
    {
        var a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank)
            throw new ArgumentException($"{op}: axis {axis} is out of range for shape {this} (rank {Rank}).");
        return a;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(Shape? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (_hash != other._hash || _dims.Length != other._dims.Length) return false;
        for (var i = 0; i < _dims.Length; i++) // a loop of its own: no library call to tier up at every step's check
            if (_dims[i] != other._dims[i]) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Shape);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Structural equality.</summary>
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Structural inequality.</summary>
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    /// <summary>Prints as <c>[32,3]</c>.</summary>
    public override string ToString() => "[" + string.Join(",", _dims) + "]";

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _dims.GetEnumerator();

    /// <summary>The NumPy broadcast of two shapes, or null when they cannot be reconciled.</summary>
    public static Shape? TryBroadcast(Shape a, Shape b)
    {
        if (a == b) return a;
        var rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)];
            var db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da == db || db == 1) dims[i] = da;
            else if (da == 1) dims[i] = db;
            else return null;
        }
        return new Shape(dims);
    }
}
