namespace NnxSharp.Data;

/// <summary>
/// An in-memory dataset: columns of equal row count (features, labels, …), batched on the host into
/// tensors. <see cref="Batches"/> shuffles reproducibly from a <see cref="Prng"/> key
/// (<c>jax.random.permutation</c>'s order) and prepares the next batches on a worker thread while the caller
/// runs a step on the current one.
/// </summary>
public sealed class ArrayDataset
{
    private readonly DataColumn[] _columns;

    /// <summary>A dataset over the given columns, which must all have the same number of rows.</summary>
    public ArrayDataset(params DataColumn[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0) throw new ArgumentException("ArrayDataset: needs at least one column.", nameof(columns));
        var counts = columns.Select(c => c.Count).Distinct().ToArray();
        if (counts.Length != 1)
            throw new ArgumentException($"ArrayDataset: the columns have different row counts ({string.Join(", ", columns.Select((c, i) => $"column {i}: {c.Count}"))}).", nameof(columns));
        _columns = [.. columns];
        Count = counts[0];
    }

    /// <summary>The number of rows (examples).</summary>
    public int Count { get; }

    /// <summary>The columns.</summary>
    public IReadOnlyList<DataColumn> Columns => _columns;

    /// <summary>
    /// The batches of one pass over the data, each column as a tensor [batch, row dims…] on the current
    /// default device.
    /// </summary>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="key">A <see cref="Prng"/> key: rows in the order of <c>Prng.Permutation(key, Count)</c>;
    /// null keeps the stored order.</param>
    /// <param name="dropLast">Leave out the last batch when it is smaller than <paramref name="batchSize"/>.</param>
    /// <param name="prefetch">How many batches a worker prepares ahead of the one being used (0: each batch
    /// is made when it is asked for, on the caller's thread).</param>
    public BatchSequence Batches(int batchSize, Tensor? key = null, bool dropLast = false, int prefetch = 1)
    {
        if (batchSize <= 0) throw new ArgumentException($"Batches: batch size must be positive but is {batchSize}.", nameof(batchSize));
        if (prefetch < 0) throw new ArgumentException($"Batches: prefetch must be ≥ 0 but is {prefetch}.", nameof(prefetch));
        var order = key is null ? null : Prng.PermutationIndices(key, Count);
        return new BatchSequence(_columns, order, batchSize, dropLast, prefetch);
    }

    /// <summary>Rows start ≤ i &lt; start + count as a new dataset (the arrays are copied).</summary>
    public ArrayDataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"ArrayDataset.Slice: rows [{start}, {start + count}) are outside [0, {Count}).");
        return new ArrayDataset([.. _columns.Select(c => c.SliceRows(start, count))]);
    }
}
