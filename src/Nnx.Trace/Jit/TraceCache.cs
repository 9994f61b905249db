namespace NnxSharp;

/// <summary>
/// A jitted function's cache of compiled entries: bounded (<see cref="JitOptions.CacheLimit"/> entries, the least
/// recently used dropped first) and thread-safe, with its lock held only for the dictionary operations, never
/// while the user's function is traced (a step that waits on another thread calling the same function cannot
/// deadlock). A thread that misses on a key another thread is tracing waits for that trace, but only for
/// <see cref="InFlightWait"/>; then it traces the key itself (the first entry published is kept). So concurrent
/// callers share one trace, and a step that waits on another thread's call of the same function finishes.
/// A dropped entry is not disposed (a caller may still be running it); its native session goes with the GC.
/// </summary>
internal sealed class TraceCache<TKey, TValue>
    where TKey : notnull
{
    private readonly object _gate = new();
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _map = [];
    private readonly LinkedList<(TKey Key, TValue Value)> _order = new();
    private readonly Dictionary<TKey, ManualResetEventSlim> _inFlight = [];
    private TKey? _lastMissed;
    private bool _hasLastMissed;

    /// <summary>How long a miss waits for another thread's trace of the same key before tracing it itself.</summary>
    public static TimeSpan InFlightWait { get; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The entry for <paramref name="key"/>: cached, or traced by another thread meanwhile (waiting at most
    /// <see cref="InFlightWait"/>), or traced now by <paramref name="trace"/> (given <paramref name="state"/>, so that
    /// callers need no closure) with no lock held.
    /// </summary>
    public TValue GetOrTrace<TState>(TKey key, TState state, Func<TState, TValue> trace)
    {
        if (TryGet(key, out var hit)) return hit;
        ManualResetEventSlim? other;
        var mine = false;
        lock (_gate)
        {
            if (!_inFlight.TryGetValue(key, out other))
            {
                other = new ManualResetEventSlim(false);
                _inFlight[key] = other;
                mine = true;
            }
        }
        if (!mine)
        {
            other.Wait(InFlightWait);
            if (TryGet(key, out hit)) return hit;
        }
        try
        {
            return Publish(key, trace(state));
        }
        finally
        {
            if (mine)
            {
                lock (_gate) _inFlight.Remove(key);
                other.Set();
            }
        }
    }

    /// <summary>How many entries are cached now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _map.Count;
        }
    }

    /// <summary>How many entries were dropped to stay within the limit.</summary>
    public int Evictions { get; private set; }

    /// <summary>Looks up an entry, marking it most recently used.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                if (node != _order.First)
                {
                    _order.Remove(node);
                    _order.AddFirst(node);
                }
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    /// <summary>The most recently used key (the one a miss is explained against), if any.</summary>
    public bool TryGetMostRecent(out TKey key)
    {
        lock (_gate)
        {
            if (_order.First is { } first)
            {
                key = first.Value.Key;
                return true;
            }
            if (_hasLastMissed)
            {
                key = _lastMissed!;
                return true;
            }
        }
        key = default!;
        return false;
    }

    /// <summary>Adds an entry unless another thread added one for the key first; returns the entry kept.</summary>
    public TValue Publish(TKey key, TValue value)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var existing)) return existing.Value.Value;
            _map[key] = _order.AddFirst((key, value));
            (_lastMissed, _hasLastMissed) = (key, true);
            var limit = Math.Max(1, JitOptions.CacheLimit);
            while (_map.Count > limit)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                Evictions++;
            }
            return value;
        }
    }
}
