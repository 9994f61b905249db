using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NnxSharp;

/// <summary>
/// Static attributes as the GraphDef keeps them. Most values are kept as they are and compared with
/// <c>Equals</c>; arrays and lists of values or strings (mutable, and compared by reference in .NET) are
/// copied into a <see cref="StaticSequence"/> that compares by elements, and copied back out by Merge.
/// </summary>
internal static class StaticValue
{
    /// <summary>
    /// The form kept in the GraphDef of a static found at <paramref name="path"/> (for errors). Numbers, strings,
    /// enums, delegates, types and the library's own immutable values (transformations, schedules, filters,
    /// paddings) are kept as they are; arrays and lists of values are copied; any other object (a user's
    /// configuration class, a record) is snapshotted by value (<see cref="StaticObject"/>).
    /// </summary>
    public static object? Capture(object? value, string path = "", int depth = 0) => value switch
    {
        null or string or Type or Delegate => value,
        Array a when a.Rank == 1 && a.GetType().IsSZArray && IsValueElement(a.GetType().GetElementType()!) => StaticSequence.Of(a, isList: false),
        IList l when IsValueList(l.GetType()) => StaticSequence.Of(l, isList: true),
        Array or System.Collections.IEnumerable when !IsLibraryValue(value.GetType()) => throw new NotSupportedException(
            $"Nnx: the static attribute '{path}' is a {NodeType.Describe(value.GetType())}, a collection that cannot be compared by value; " +
            "use an array or List of numbers or strings, or a record."),
        _ when value.GetType().IsValueType || IsLibraryValue(value.GetType()) => value,
        _ => StaticObject.Capture(value, path, depth),
    };

    /// <summary>The value a merged field gets (a fresh copy of a sequence or snapshotted object).</summary>
    public static object? Restore(object? captured) => captured switch
    {
        StaticSequence s => s.Materialize(),
        StaticObject o => o.Materialize(),
        _ => captured,
    };

    /// <summary>True when a field's current value equals a captured one (no allocation, except to read a snapshotted object's fields).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Matches(object? current, object? captured) =>
        ReferenceEquals(current, captured) || captured switch
        {
            StaticSequence s => s.Matches(current),
            StaticObject o => o.Matches(current),
            null => false,
            _ => StaticEquality.Same(captured, current),
        };

    /// <summary>Equality of two captured values (floating-point numbers by their bits: 0.0 and −0.0 differ).</summary>
    public static new bool Equals(object? a, object? b) => StaticEquality.Same(a, b);

    /// <summary>The hash of a captured value.</summary>
    public static int Hash(object? a) => StaticEquality.Hash(a);

    /// <summary>The library's immutable value types with value equality (they are not snapshotted).</summary>
    private static bool IsLibraryValue(Type t) => t.Assembly == typeof(StaticValue).Assembly || t.Assembly == typeof(Tensor).Assembly;

    private static bool IsValueElement(Type element) => element.IsValueType || element == typeof(string);

    /// <summary>Prints a static value for GraphDef listings.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? value.GetType().Name,
    };

    private static bool IsValueList(Type t) =>
        t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>)
        && (t.GetGenericArguments()[0].IsValueType || t.GetGenericArguments()[0] == typeof(string));
}

/// <summary>An immutable copy of an array or list of values, with element-wise equality and hash.</summary>
internal abstract class StaticSequence
{
    private static readonly ConcurrentDictionary<Type, Func<IList, bool, StaticSequence>> Makers = new();

    /// <summary>Copies a <c>T[]</c> or <c>List&lt;T&gt;</c>.</summary>
    public static StaticSequence Of(IList items, bool isList)
    {
        var element = isList ? items.GetType().GetGenericArguments()[0] : items.GetType().GetElementType()!;
        var make = Makers.GetOrAdd(element, e =>
            (Func<IList, bool, StaticSequence>)Delegate.CreateDelegate(
                typeof(Func<IList, bool, StaticSequence>),
                typeof(StaticSequence<>).MakeGenericType(e).GetMethod(nameof(StaticSequence<int>.Create))!));
        return make(items, isList);
    }

    /// <summary>A fresh array or list with the same elements.</summary>
    public abstract object Materialize();

    /// <summary>True when <paramref name="current"/> is an array or list (as captured) with equal elements.</summary>
    public abstract bool Matches(object? current);
}

/// <summary>A <see cref="StaticSequence"/> of <typeparamref name="T"/>.</summary>
internal sealed class StaticSequence<T> : StaticSequence, IEquatable<StaticSequence<T>>
{
    private readonly T[] _items;
    private readonly bool _isList;
    private readonly int _hash;

    private StaticSequence(T[] items, bool isList)
    {
        _items = items;
        _isList = isList;
        var h = new HashCode();
        h.Add(isList);
        foreach (var x in items) h.Add(x);
        _hash = h.ToHashCode();
    }

    /// <summary>Copies an array or list of <typeparamref name="T"/>.</summary>
    public static StaticSequence Create(IList items, bool isList) =>
        new StaticSequence<T>(isList ? [.. (List<T>)items] : (T[])((T[])items).Clone(), isList);

    /// <inheritdoc/>
    public override object Materialize() => _isList ? new List<T>(_items) : _items.Clone();

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override bool Matches(object? current) => current switch
    {
        T[] a when !_isList => Same(a),
        List<T> l when _isList => Same(CollectionsMarshal.AsSpan(l)),
        _ => false,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Same(ReadOnlySpan<T> span)
    {
        if (span.Length != _items.Length) return false;
        var cmp = EqualityComparer<T>.Default;
        for (var i = 0; i < span.Length; i++)
            if (!cmp.Equals(span[i], _items[i])) return false;
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(StaticSequence<T>? other) => other is not null && other._hash == _hash && other._isList == _isList && Same(other._items);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as StaticSequence<T>);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Prints as <c>[64, 64]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", _items.Select(x => StaticValue.Format(x))) + "]";
}
