using System.Collections;
using System.Diagnostics;
using NnxSharp.Backends;

namespace NnxSharp.Data;

/// <summary>
/// The batches of one pass over an <see cref="ArrayDataset"/> in a fixed row order (see
/// <see cref="ArrayDataset.Batches"/>). Enumerating it again gives the same batches. With prefetch &gt; 0 a
/// worker thread copies the rows and uploads the tensors of the next batches while the caller runs its
/// step on the current one; <see cref="PrepareTime"/> and <see cref="WaitTime"/> measure how well that
/// overlaps (the wait is the part of the preparation the caller did not hide).
/// </summary>
public sealed class BatchSequence : IEnumerable<Batch>
{
    private readonly DataColumn[] _columns;
    private readonly int[]? _order;
    private readonly int _rows;
    private long _prepareTicks;
    private long _waitTicks;

    internal BatchSequence(DataColumn[] columns, int[]? order, int batchSize, bool dropLast, int prefetch)
    {
        (_columns, _order, BatchSize, DropLast, Prefetch) = (columns, order, batchSize, dropLast, prefetch);
        _rows = columns[0].Count;
        Count = dropLast ? _rows / batchSize : (_rows + batchSize - 1) / batchSize;
    }

    /// <summary>Rows per batch (the last one may have fewer unless <see cref="DropLast"/>).</summary>
    public int BatchSize { get; }

    /// <summary>Whether a smaller last batch is left out.</summary>
    public bool DropLast { get; }

    /// <summary>How many batches are prepared ahead.</summary>
    public int Prefetch { get; }

    /// <summary>The number of batches in one pass.</summary>
    public int Count { get; }

    /// <summary>The row order (dataset indices), or null for the stored order.</summary>
    public IReadOnlyList<int>? Order => _order;

    /// <summary>The time spent making batches (copying rows and uploading), on whichever thread made them.</summary>
    public TimeSpan PrepareTime => TimeSpan.FromTicks(Interlocked.Read(ref _prepareTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    /// <summary>The time the enumerating thread waited for a batch (all of <see cref="PrepareTime"/> when prefetch is 0).</summary>
    public TimeSpan WaitTime => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    /// <inheritdoc/>
    public IEnumerator<Batch> GetEnumerator() => new Enumerator(this, Backend.Default);

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Batch Make(int index, IBackend backend)
    {
        var start = Stopwatch.GetTimestamp();
        var first = index * BatchSize;
        var size = Math.Min(BatchSize, _rows - first);
        var tensors = _columns.Select(c => c.Gather(_order, first, size, backend)).ToArray();
        Interlocked.Add(ref _prepareTicks, Stopwatch.GetTimestamp() - start);
        return new Batch(tensors, index, size);
    }

    private sealed class Enumerator(BatchSequence owner, IBackend backend) : IEnumerator<Batch>
    {
        private readonly Queue<Task<Batch>> _pending = new();
        private int _scheduled;
        private Batch? _current;

        public Batch Current => _current ?? throw new InvalidOperationException("BatchSequence: Current before MoveNext or after the last batch.");

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (owner.Prefetch == 0)
            {
                if (_scheduled >= owner.Count) return Done();
                var start = Stopwatch.GetTimestamp();
                _current = owner.Make(_scheduled++, backend);
                Interlocked.Add(ref owner._waitTicks, Stopwatch.GetTimestamp() - start);
                return true;
            }
            TopUp(Math.Max(1, owner.Prefetch));
            if (_pending.Count == 0) return Done();
            var next = _pending.Dequeue();
            if (!next.IsCompleted)
            {
                var start = Stopwatch.GetTimestamp();
                next.Wait();
                Interlocked.Add(ref owner._waitTicks, Stopwatch.GetTimestamp() - start);
            }
            _current = next.Result;
            TopUp(owner.Prefetch);
            return true;
        }

        public void Reset() => throw new NotSupportedException("BatchSequence: enumerate the sequence again instead of Reset.");

        public void Dispose()
        {
            // Batches prepared ahead and never handed out are freed now.
            while (_pending.TryDequeue(out var task))
            {
                try
                {
                    task.Result.Dispose();
                }
                catch (AggregateException)
                {
                    // The error was the caller's to see only if it had asked for that batch.
                }
            }
        }

        private void TopUp(int depth)
        {
            while (_pending.Count < depth && _scheduled < owner.Count)
            {
                var index = _scheduled++;
                _pending.Enqueue(Task.Run(() => owner.Make(index, backend)));
            }
        }

        private bool Done()
        {
            _current = null;
            return false;
        }
    }
}
