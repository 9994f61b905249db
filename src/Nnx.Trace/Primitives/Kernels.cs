namespace NnxSharp.Primitives;

/// <summary>Helpers for reference evaluations and shape rules: broadcasting, index mapping, checks.</summary>
internal static class Kernels
{
    /// <summary>For each flat index of <paramref name="output"/>, the flat index of the broadcast operand.</summary>
    public static int[] BroadcastMap(Shape output, Shape input)
    {
        var map = new int[output.Size];
        var outStrides = output.Strides();
        var inStrides = input.Strides();
        var offset = output.Rank - input.Rank;
        for (var k = 0; k < map.Length; k++)
        {
            int rem = k, src = 0;
            for (var d = 0; d < output.Rank; d++)
            {
                var idx = rem / outStrides[d];
                rem %= outStrides[d];
                var id = d - offset;
                if (id >= 0 && input[id] != 1) src += idx * inStrides[id];
            }
            map[k] = src;
        }
        return map;
    }

    /// <summary>The multi-index of flat index <paramref name="k"/>.</summary>
    public static int[] Unravel(int k, Shape shape)
    {
        var idx = new int[shape.Rank];
        for (var d = shape.Rank - 1; d >= 0; d--)
        {
            if (shape[d] == 0) return idx;
            idx[d] = k % shape[d];
            k /= shape[d];
        }
        return idx;
    }

    /// <summary>Elementwise map with broadcasting over any number of operands of one storage kind.</summary>
    public static HostArray Map(DType outType, Shape shape, IReadOnlyList<HostArray> xs,
        Func<double[], double>? f, Func<long[], long>? i, Func<ulong[], ulong>? u, DType computeIn)
    {
        var maps = xs.Select(x => BroadcastMap(shape, x.Shape)).ToArray();
        var n = shape.Size;
        switch (HostArray.KindOf(computeIn))
        {
            case StorageKind.Float:
            {
                var r = new double[n];
                var a = new double[xs.Count];
                for (var k = 0; k < n; k++)
                {
                    for (var j = 0; j < xs.Count; j++) a[j] = xs[j].GetDouble(maps[j][k]);
                    r[k] = f!(a);
                }
                return HostArray.FromDoubles(outType, shape, r);
            }
            case StorageKind.Signed:
            {
                var r = new long[n];
                var a = new long[xs.Count];
                for (var k = 0; k < n; k++)
                {
                    for (var j = 0; j < xs.Count; j++) a[j] = xs[j].GetLong(maps[j][k]);
                    r[k] = i!(a);
                }
                return HostArray.FromLongs(outType, shape, r);
            }
            default:
            {
                var r = new ulong[n];
                var a = new ulong[xs.Count];
                for (var k = 0; k < n; k++)
                {
                    for (var j = 0; j < xs.Count; j++) a[j] = xs[j].GetULong(maps[j][k]);
                    r[k] = u!(a);
                }
                return HostArray.FromULongs(outType, shape, r);
            }
        }
    }

    /// <summary>Gathers elements by flat source index into a new array of the given shape.</summary>
    public static HostArray Take(HostArray x, Shape shape, int[] sourceIndex) => HostArray.KindOf(x.DType) switch
    {
        StorageKind.Float => HostArray.FromDoubles(x.DType, shape, sourceIndex.Select(x.GetDouble).ToArray()),
        StorageKind.Signed => HostArray.FromLongs(x.DType, shape, sourceIndex.Select(x.GetLong).ToArray()),
        _ => HostArray.FromULongs(x.DType, shape, sourceIndex.Select(x.GetULong).ToArray()),
    };

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
