namespace NnxSharp.Data;

/// <summary>
/// One batch: a tensor per dataset column, each [size, row dims…]. Deconstructs into its tensors
/// (<c>var (x, y) = batch</c>); disposing frees their buffers now instead of at garbage collection.
/// </summary>
public sealed class Batch : IDisposable
{
    private readonly Tensor[] _tensors;

    internal Batch(Tensor[] tensors, int index, int size) => (_tensors, Index, Size) = (tensors, index, size);

    /// <summary>The batch's position in its epoch (0, 1, …).</summary>
    public int Index { get; }

    /// <summary>The number of rows.</summary>
    public int Size { get; }

    /// <summary>The tensors, one per column.</summary>
    public IReadOnlyList<Tensor> Tensors => _tensors;

    /// <summary>The tensor of column <paramref name="column"/>.</summary>
    public Tensor this[int column] => _tensors[column];

    /// <summary>The first two columns (features, labels).</summary>
    public void Deconstruct(out Tensor x, out Tensor y)
    {
        Require(2);
        (x, y) = (_tensors[0], _tensors[1]);
    }

    /// <summary>The first three columns.</summary>
    public void Deconstruct(out Tensor a, out Tensor b, out Tensor c)
    {
        Require(3);
        (a, b, c) = (_tensors[0], _tensors[1], _tensors[2]);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in _tensors) t.Dispose();
    }

    private void Require(int n)
    {
        if (_tensors.Length != n)
            throw new InvalidOperationException($"Batch: deconstructed into {n} tensors but the dataset has {_tensors.Length} column(s).");
    }
}
