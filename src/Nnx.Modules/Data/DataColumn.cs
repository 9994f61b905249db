using NnxSharp.Backends;

namespace NnxSharp.Data;

/// <summary>
/// One array of a dataset: <c>count</c> rows of a fixed shape, held in managed memory in row-major order
/// (float, double, int, long, uint, ulong or bool elements). Batches copy whole rows.
/// </summary>
public sealed class DataColumn
{
    private readonly Array _data;
    private readonly int[] _rowShape;

    private DataColumn(Array data, int count, int[] rowShape, DType dtype)
    {
        (_data, Count, _rowShape, DType) = (data, count, rowShape, dtype);
        RowSize = rowShape.Aggregate(1, (a, b) => a * b);
    }

    /// <summary>
    /// A column over <paramref name="data"/> (not copied) of shape [count, row dims…]; <c>shape[0]</c> is the
    /// number of rows. Throws when the shape does not match the data's length.
    /// </summary>
    public static DataColumn Create<T>(T[] data, params int[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        var dtype = DTypes.Of<T>();
        if (dtype == DType.Float16) throw new ArgumentException("DataColumn: float16 columns are not supported; store float32.");
        if (shape.Length == 0 || shape.Any(d => d < 0))
            throw new ArgumentException($"DataColumn: shape [{string.Join(",", shape)}] must be [count, row dims…] with sizes ≥ 0.", nameof(shape));
        var size = shape.Aggregate(1L, (a, b) => a * b);
        if (size != data.Length)
            throw new ArgumentException($"DataColumn: {data.Length} {dtype.ShortName()} values do not fill shape [{string.Join(",", shape)}] ({size} elements).", nameof(data));
        return new DataColumn(data, shape[0], shape[1..], dtype);
    }

    /// <summary>The number of rows.</summary>
    public int Count { get; }

    /// <summary>The shape of one row.</summary>
    public IReadOnlyList<int> RowShape => _rowShape;

    /// <summary>The number of elements in one row.</summary>
    public int RowSize { get; }

    /// <summary>The element type of the tensors made from it.</summary>
    public DType DType { get; }

    /// <summary>The underlying array (row-major, not a copy).</summary>
    public Array Data => _data;

    /// <summary>Rows <c>rows[start..start+count]</c> as a new tensor [count, row dims…] on <paramref name="backend"/>.</summary>
    internal Tensor Gather(int[]? rows, int start, int count, IBackend backend)
    {
        var shape = Shape.Of([count, .. _rowShape]);
        var host = _data switch
        {
            float[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            double[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            int[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            long[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            uint[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            ulong[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            bool[] a => HostArray.Create(Copy(a, rows, start, count), shape),
            _ => throw new InvalidOperationException($"DataColumn: unsupported storage {_data.GetType().Name}."),
        };
        return new Tensor(backend.Upload(host));
    }

    /// <summary>Rows start ≤ i &lt; start + count, copied.</summary>
    internal DataColumn SliceRows(int start, int count)
    {
        var into = Array.CreateInstance(_data.GetType().GetElementType()!, (long)count * RowSize);
        Array.Copy(_data, (long)start * RowSize, into, 0, (long)count * RowSize);
        return new DataColumn(into, count, _rowShape, DType);
    }

    private T[] Copy<T>(T[] source, int[]? rows, int start, int count)
    {
        var n = RowSize;
        var into = new T[count * n];
        for (var i = 0; i < count; i++)
        {
            var row = rows is null ? start + i : rows[start + i];
            Array.Copy(source, (long)row * n, into, (long)i * n, n);
        }
        return into;
    }
}
