using NnxSharp.Primitives;

namespace NnxSharp;

public sealed partial class Tensor
{
    /// <summary>
    /// Picks slices along <paramref name="axis"/> by integer indices (embedding lookup); negative indices count
    /// from the end. Out-of-range indices: a concrete index tensor is checked before anything runs (an
    /// <see cref="ArgumentOutOfRangeException"/> naming the index, its position and the shapes); inside a trace,
    /// where the indices are not known yet, the result takes JAX's "fill" mode: the slices of out-of-range
    /// indices are NaN for floats, the smallest value for signed integers, the largest for unsigned ones and
    /// true for bools, and their gradient is zero. It is never ONNX Runtime's error nor a silently wrong row.
    /// </summary>
    public Tensor Gather(Tensor indices, int axis = 0) => Gather("gather", indices, axis);

    /// <summary><see cref="Gather(Tensor, int)"/> whose errors name <paramref name="op"/> (a layer such as Embed).</summary>
    internal Tensor Gather(string op, Tensor indices, int axis)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var a = Shape.Axis(axis, op);
        if (indices.DType is not (DType.Int32 or DType.Int64))
            throw new ArgumentException($"{op}: indices must be int32 or int64 but are {indices.Aval} (data {Aval}).", nameof(indices));
        var n = Shape[a];
        var (safe, valid) = CheckIndices(op, indices, n, $"axis {a} of {Aval}");
        var gathered = new Gather(a).Bind(this, safe);
        if (valid is null) return gathered;
        // Broadcast the per-index mask over the slice dimensions and fill.
        var maskShape = Enumerable.Repeat(1, a).Concat(indices.Shape.ToArray()).Concat(Enumerable.Repeat(1, Rank - a - 1)).ToArray();
        return Where(valid.Reshape(maskShape), gathered, FillValue(DType));
    }

    /// <summary>
    /// Checks indices into an axis of size <paramref name="n"/>: a concrete tensor now (throws on the first index out of
    /// [−n, n)); a symbolic one gives indices made safe (0 where out of range) and the mask of the valid ones.
    /// </summary>
    internal static (Tensor Safe, Tensor? Valid) CheckIndices(string op, Tensor indices, int n, string into)
    {
        if (!indices.IsSymbolic)
        {
            var host = indices.ToHost();
            for (var j = 0; j < host.Size; j++)
            {
                var i = host.GetLong(j);
                if (i < -n || i >= n)
                    throw new ArgumentOutOfRangeException(nameof(indices),
                        $"{op}: index {i} at position {Position(indices.Shape, j)} of the indices {indices.Aval} is out of range [{-n}, {n}) for {into}.");
            }
            return (indices, null);
        }
        var valid = (indices >= -n) & (indices < n);
        return (Where(valid, indices, ZerosLike(indices)), valid);
    }

    private static Tensor FillValue(DType t) => t switch
    {
        DType.Float32 or DType.Float64 or DType.Float16 => Scalar(double.NaN, t),
        DType.Int32 => Scalar(int.MinValue, t),
        DType.Int64 => Scalar(long.MinValue, t),
        DType.UInt32 => Scalar(uint.MaxValue, t),
        DType.UInt64 => FromArray([ulong.MaxValue], []),
        _ => Scalar(1, t),
    };

    private static string Position(Shape shape, int flat)
    {
        if (shape.Rank <= 1) return $"[{flat}]";
        var idx = new int[shape.Rank];
        for (var d = shape.Rank - 1; d >= 0; d--)
        {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return $"[{string.Join(", ", idx)}]";
    }
}
