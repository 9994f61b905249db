using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// The boxes of a jitted function's last primitive and enum arguments (static ints, floats, bools, enums): the
/// typed wrapper passes an argument equal to the last call's (bit for bit, as <see cref="StaticEquality"/> compares
/// statics) in the same box, so a cached call with a static argument allocates nothing. Other value types (a tuple
/// of tensors) are boxed each call. Thread-safe: a box is immutable, and a race at worst boxes once more.
/// </summary>
internal sealed class ArgBoxes(int count)
{
    private readonly object?[] _last = new object?[count];

    /// <summary><paramref name="value"/> as an object: the last box of argument <paramref name="index"/> when it holds an equal value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public object? Of<T>(int index, T value)
    {
        if (!typeof(T).IsValueType || !(typeof(T).IsPrimitive || typeof(T).IsEnum)) return value;
        var last = _last[index];
        if (last is T previous && StaticEquality.Same(previous, value)) return last;
        object? box = value;
        _last[index] = box;
        return box;
    }
}
