using NnxSharp.Primitives;

namespace NnxSharp;

public sealed partial class Tensor
{
    /// <summary>The matrix product; 1-D operands are treated as a row (left) or a column (right) and that axis is dropped.</summary>
    public Tensor MatMul(Tensor other)
    {
        var (a, b) = Promoted(this, other);
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"mat_mul: operands must have rank ≥ 1 but got {a.Aval} (argument 0) and {b.Aval} (argument 1).");
        // A vector operand becomes a matrix for the primitive; the user's shapes are checked first, so that the message
        // names them rather than the reshaped ones.
        var (ka, kb) = (a.Shape[a.Rank - 1], b.Rank == 1 ? b.Shape[0] : b.Shape[b.Rank - 2]);
        if ((a.Rank == 1 || b.Rank == 1) && ka != kb)
            throw Primitives.MatMul.ContractingSizesDiffer([a.Aval, b.Aval], ka, kb);
        var a2 = a.Rank == 1 ? a.Reshape(1, a.Shape[0]) : a;
        var b2 = b.Rank == 1 ? b.Reshape(b.Shape[0], 1) : b;
        var r = new MatMul().Bind(a2, b2);
        if (a.Rank == 1) r = r.Squeeze(-2);
        if (b.Rank == 1) r = r.Squeeze(-1);
        return r;
    }

    /// <summary>The same elements with another shape; one dimension may be −1 (inferred).</summary>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var dims = (int[])shape.Clone();
        var unknown = Array.IndexOf(dims, -1);
        if (unknown >= 0 && Array.IndexOf(dims, -1, unknown + 1) >= 0)
            throw new ArgumentException($"reshape: the target [{string.Join(",", shape)}] for {Aval} has more than one -1; at most one dimension can be inferred.", nameof(shape));
        for (var i = 0; i < dims.Length; i++)
            if (dims[i] < -1)
                throw new ArgumentException($"reshape: dimension {i} of the target [{string.Join(",", shape)}] for {Aval} is {dims[i]}; sizes are ≥ 0, or -1 for one inferred size.", nameof(shape));
        if (unknown >= 0)
        {
            var known = dims.Where((d, i) => i != unknown).Aggregate(1, (a, b) => a * b);
            if (known == 0 || Size % known != 0)
                throw new ArgumentException($"reshape: cannot reshape {Aval} to [{string.Join(",", shape)}].");
            dims[unknown] = Size / known;
        }
        var target = Shape.Of(dims);
        return target == Shape ? this : new Reshape(target).Bind(this);
    }

    /// <summary>Permutes the axes (reverses them when no permutation is given).</summary>
    public Tensor Transpose(params int[] perm)
    {
        var p = perm.Length == 0 ? Enumerable.Range(0, Rank).Reverse().ToArray() : perm.Select(a => Shape.Axis(a, "transpose")).ToArray();
        return p.SequenceEqual(Enumerable.Range(0, Rank)) ? this : new Transpose(new Ints(p)).Bind(this);
    }

    /// <summary>Swaps the last two axes (the matrix transpose of a batch).</summary>
    public Tensor SwapLastAxes()
    {
        if (Rank < 2) throw new ArgumentException($"swap_last_axes: {Aval} has rank < 2.");
        var p = Enumerable.Range(0, Rank).ToArray();
        (p[^1], p[^2]) = (p[^2], p[^1]);
        return Transpose(p);
    }

    /// <summary>Broadcasts to a shape as NumPy does.</summary>
    public Tensor BroadcastTo(params int[] shape)
    {
        var target = Shape.Of(shape);
        return target == Shape ? this : new BroadcastTo(target).Bind(this);
    }

    /// <summary>Inserts an axis of size 1 at <paramref name="axis"/>.</summary>
    public Tensor ExpandDims(int axis)
    {
        var a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank) throw new ArgumentException($"expand_dims: axis {axis} is out of range for {Aval}.");
        var dims = Shape.ToList();
        dims.Insert(a, 1);
        return Reshape([.. dims]);
    }

    /// <summary>Removes an axis of size 1.</summary>
    public Tensor Squeeze(int axis)
    {
        var a = Shape.Axis(axis, "squeeze");
        if (Shape[a] != 1) throw new ArgumentException($"squeeze: axis {axis} of {Aval} has size {Shape[a]}, not 1.");
        var dims = Shape.ToList();
        dims.RemoveAt(a);
        return Reshape([.. dims]);
    }

    /// <summary>Elements start ≤ i &lt; end along one axis (negative bounds count from the end; clamped as in NumPy).</summary>
    public Tensor Slice(int axis, int start, int end)
    {
        var a = Shape.Axis(axis, "slice");
        var n = Shape[a];
        int Clamp(int i) => Math.Clamp(i < 0 ? i + n : i, 0, n);
        var (s, e) = (Clamp(start), Clamp(end));
        var starts = new int[Rank];
        var ends = Shape.ToArray();
        starts[a] = s;
        ends[a] = Math.Max(s, e);
        return Slice(starts, ends);
    }

    /// <summary>The block starts[d] ≤ i &lt; ends[d] on every axis d.</summary>
    public Tensor Slice(int[] starts, int[] ends) =>
        starts.All(s => s == 0) && ends.SequenceEqual(Shape) ? this : new Slice(new Ints(starts), new Ints(ends)).Bind(this);

    /// <summary>
    /// Pads with zeros: <paramref name="before"/>[d] elements before and <paramref name="after"/>[d] after each axis d
    /// (one non-negative entry per axis).
    /// </summary>
    public Tensor Pad(int[] before, int[] after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return before.All(p => p == 0) && after.All(p => p == 0) && before.Length == Rank && after.Length == Rank
            ? this : new Pad(new Ints(before), new Ints(after)).Bind(this);
    }

    /// <summary>Joins tensors along an axis (promoted to one dtype).</summary>
    public static Tensor Concat(int axis, params Tensor[] tensors)
    {
        if (tensors.Length == 0) throw new ArgumentException("concat: needs at least one tensor.");
        var t = tensors.Select(x => x.DType).Aggregate(DTypes.Promote);
        return new Concat(tensors[0].Shape.Axis(axis, "concat")).Bind(tensors.Select(x => x.Cast(t)).ToArray());
    }

    /// <summary>
    /// Picks one element per position along <paramref name="axis"/>: <c>out[i] = x[i, indices[i]]</c> for a
    /// matrix and axis 1 (picking class scores). Indices have this tensor's shape without that axis.
    /// </summary>
    public Tensor TakeAlongAxis(Tensor indices, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var a = Shape.Axis(axis, "take_along_axis");
        if (indices.DType is not (DType.Int32 or DType.Int64))
            throw new ArgumentException($"take_along_axis: indices must be int32 or int64 but are {indices.Aval} (data {Aval}).", nameof(indices));
        var moved = a == Rank - 1 ? this : Transpose([.. Enumerable.Range(0, Rank).Where(d => d != a), a]);
        var n = moved.Shape[^1];
        var rows = moved.Size / Math.Max(1, n);
        if (indices.Size != rows)
            throw new ArgumentException($"take_along_axis: indices {indices.Aval} do not match {Aval} without axis {axis}.");
        // Each index is checked against its own axis (flattened, an index past the end would silently pick the next row).
        var (safe, valid) = CheckIndices("take_along_axis", indices, n, $"axis {a} of {Aval}");
        var local = safe.Reshape(rows).Cast(DType.Int64);
        local = Where(local < 0, local + n, local);
        var flatIdx = Arange(rows, DType.Int64) * n + local;
        var picked = moved.Reshape(-1).Gather(flatIdx).Reshape(indices.Shape.ToArray());
        return valid is null ? picked : Where(valid, picked, FillValue(DType));
    }
}
