namespace NnxSharp.Primitives;

/// <summary>
/// The checks that shape rules (<see cref="Primitive.Infer"/>) share: broadcasting, one dtype, accepted dtypes, axes.
/// Each failure is an <see cref="ArgumentException"/> naming the op and its operands.
/// </summary>
internal static class ShapeRules
{
    /// <summary>The NumPy broadcast of operand shapes, or an error naming the op and every operand.</summary>
    public static Shape Broadcast(string op, IReadOnlyList<Aval> xs)
    {
        var s = xs[0].Shape;
        for (var i = 1; i < xs.Count; i++)
            s = Shape.TryBroadcast(s, xs[i].Shape)
                ?? throw new ArgumentException($"{op}: cannot broadcast {Describe(xs)}.");
        return s;
    }

    /// <summary>Requires every operand to have the same dtype.</summary>
    public static DType SameDType(string op, IReadOnlyList<Aval> xs)
    {
        for (var i = 1; i < xs.Count; i++)
            if (xs[i].DType != xs[0].DType)
                throw new ArgumentException($"{op}: operands must have one dtype but got {Describe(xs)}.");
        return xs[0].DType;
    }

    /// <summary>Requires operand <paramref name="index"/> to satisfy <paramref name="ok"/>.</summary>
    public static void RequireDType(string op, IReadOnlyList<Aval> xs, int index, Func<DType, bool> ok, string what)
    {
        if (!ok(xs[index].DType))
            throw new ArgumentException($"{op}: argument {index} must be {what} but is {xs[index]}.");
    }

    /// <summary>"f32[3,4] (argument 0) and f32[5] (argument 1)".</summary>
    public static string Describe(IReadOnlyList<Aval> xs) =>
        string.Join(" and ", xs.Select((a, i) => $"{a} (argument {i})"));

    /// <summary>Normalises and checks a list of axes: in range, no repeats.</summary>
    public static Ints Axes(string op, Shape shape, IEnumerable<int> axes)
    {
        var list = axes.Select(a => shape.Axis(a, op)).ToArray();
        if (list.Distinct().Count() != list.Length)
            throw new ArgumentException($"{op}: axes ({string.Join(",", axes)}) repeat an axis of shape {shape}.");
        Array.Sort(list);
        return new Ints(list);
    }
}
