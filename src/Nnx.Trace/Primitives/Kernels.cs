namespace NnxSharp.Primitives;

/// <summary>
/// Helpers of the reference evaluations (<see cref="Primitive.Eval"/>): broadcast index maps, unravelling, elementwise
/// maps. The checks of shape rules are in <see cref="ShapeRules"/>.
/// </summary>
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
        return HostArray.KindOf(computeIn) switch
        {
            StorageKind.Float => HostArray.FromDoubles(outType, shape, MapElements(xs, maps, shape.Size, (x, k) => x.GetDouble(k), f!)),
            StorageKind.Signed => HostArray.FromLongs(outType, shape, MapElements(xs, maps, shape.Size, (x, k) => x.GetLong(k), i!)),
            _ => HostArray.FromULongs(outType, shape, MapElements(xs, maps, shape.Size, (x, k) => x.GetULong(k), u!)),
        };
    }

    /// <summary>The <paramref name="n"/> values of <paramref name="f"/> over the operands' elements read through their broadcast maps.</summary>
    private static T[] MapElements<T>(IReadOnlyList<HostArray> xs, int[][] maps, int n, Func<HostArray, int, T> get, Func<T[], T> f)
    {
        var r = new T[n];
        var a = new T[xs.Count];
        for (var k = 0; k < n; k++)
        {
            for (var j = 0; j < xs.Count; j++) a[j] = get(xs[j], maps[j][k]);
            r[k] = f(a);
        }
        return r;
    }

    /// <summary>
    /// The array of <paramref name="shape"/> whose element at multi-index idx is <paramref name="x"/>'s element at flat
    /// index <paramref name="source"/>(idx): transposes, slices, pads.
    /// </summary>
    public static HostArray TakeAt(HostArray x, Shape shape, Func<int[], int> source)
    {
        var src = new int[shape.Size];
        for (var k = 0; k < src.Length; k++) src[k] = source(Unravel(k, shape));
        return Take(x, shape, src);
    }

    /// <summary>Gathers elements by flat source index into a new array of the given shape.</summary>
    public static HostArray Take(HostArray x, Shape shape, int[] sourceIndex) => HostArray.KindOf(x.DType) switch
    {
        StorageKind.Float => HostArray.FromDoubles(x.DType, shape, sourceIndex.Select(x.GetDouble).ToArray()),
        StorageKind.Signed => HostArray.FromLongs(x.DType, shape, sourceIndex.Select(x.GetLong).ToArray()),
        _ => HostArray.FromULongs(x.DType, shape, sourceIndex.Select(x.GetULong).ToArray()),
    };
}
