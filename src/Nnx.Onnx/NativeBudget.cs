namespace NnxSharp.Onnx;

/// <summary>
/// Bounds the native bytes of CPU buffers alive (created and not yet disposed or finalized) without telling the GC
/// about them. Memory pressure (<see cref="GC.AddMemoryPressure"/>) only ever asks for full, gen2 collections: eager
/// code that drops its small results paid several per 100,000 calls for it (notes/jit.md, "Eager dispatch"), and the
/// seed's eager step at width 512, whose results are 64 KB and more, three a step (notes/autodiff.md). Here, once
/// <see cref="Bytes"/> passes <see cref="Limit"/>, the thread that allocates collects the youngest generation and runs
/// the pending finalizers (which give the dropped buffers' values back), goes on to gen1 when more than half the limit
/// stayed alive, and to a full collection only when, after gen1, more than <see cref="FullCollectionBases"/> ×
/// <see cref="Base"/> stays beyond what stayed after the last full one. The limit is then twice what stayed alive (at
/// least <see cref="Base"/>), so a program that really holds many tensors is not collected over and over.
/// <para>Why not a full collection whenever gen1 frees too little: in an eager training step the autodiff tape keeps
/// more than half of the 4 MiB alive while the step runs, so every reclaim went on to gen2, which promoted the tape,
/// so that the next reclaim, after the step, needed gen2 again (the seed's eager step at width 32: 764 gen2 collections
/// in 3,000 steps; notes/jit.md). Dropped buffers that reached gen2 now wait there until 16 MiB more than the program
/// held would stay after gen1.</para>
/// </summary>
internal sealed class NativeBudget
{
    /// <summary>The budget of the CPU backend's small buffers (under <see cref="LargeBytes"/>).</summary>
    public static readonly NativeBudget Shared = new(DefaultBase, Collect);

    /// <summary>
    /// The budget of the CPU backend's large buffers: apart from the small ones, so that a model of large tensors alive,
    /// which raises this limit, does not let the small results' garbage pile up (nor the other way round).
    /// </summary>
    public static readonly NativeBudget Large = new(LargeBase, Collect);

    /// <summary>The least limit of <see cref="Shared"/>: 4 MiB of small buffers alive before a collection.</summary>
    public const long DefaultBase = 4 << 20;

    /// <summary>The least limit of <see cref="Large"/>: 64 MiB (the seed's eager step at width 512 makes about 15 MiB of large results).</summary>
    public const long LargeBase = 64 << 20;

    /// <summary>The smallest buffer counted in <see cref="Large"/>: a [32, 512] float32 result.</summary>
    public const long LargeBytes = 64 * 1024;

    /// <summary>The budget that counts a CPU buffer of <paramref name="bytes"/>.</summary>
    public static NativeBudget For(long bytes) => bytes >= LargeBytes ? Large : Shared;

    /// <summary>How many times <see cref="Base"/> may stay alive after a gen1 collection before a full one is asked for.</summary>
    public const int FullCollectionBases = 4;

    private readonly Action<int> _collect;
    private readonly long[] _collections = new long[3];
    private long _bytes;
    private long _limit;
    private long _held; // the bytes alive after this budget's last full collection (0 before the first)
    private int _reclaiming;

    /// <summary>A budget of at least <paramref name="baseLimit"/> bytes whose <paramref name="collect"/> collects a generation and finalizes what it found dead.</summary>
    public NativeBudget(long baseLimit, Action<int> collect)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(baseLimit);
        Base = baseLimit;
        _limit = baseLimit;
        _collect = collect;
    }

    /// <summary>The least limit.</summary>
    public long Base { get; }

    /// <summary>The native bytes of the buffers alive now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The bytes alive past which the next allocation reclaims.</summary>
    public long Limit => Interlocked.Read(ref _limit);

    /// <summary>The collections this budget asked for, of generation <paramref name="generation"/> (0 to 2).</summary>
    public long Collections(int generation) => Interlocked.Read(ref _collections[generation]);

    /// <summary>Counts a new buffer of <paramref name="bytes"/>; past the limit, reclaims dropped buffers first.</summary>
    public void Add(long bytes)
    {
        if (Interlocked.Add(ref _bytes, bytes) > Interlocked.Read(ref _limit)) Reclaim();
    }

    /// <summary>Counts a freed buffer of <paramref name="bytes"/>.</summary>
    public void Remove(long bytes) => Interlocked.Add(ref _bytes, -bytes);

    private void Reclaim()
    {
        // One thread reclaims; others allocating meanwhile go on (they overshoot by what they allocate).
        // A finalizer that allocates a buffer must not wait for the finalizers: it would wait for itself.
        if (Environment.CurrentManagedThreadId == _finalizerThread) return;
        if (Interlocked.CompareExchange(ref _reclaiming, 1, 0) != 0) return;
        try
        {
            // Enough is freed when at most half the limit stays; after gen1, when at most that does, or at most
            // FullCollectionBases × Base more than stayed after the last full collection (what a program really holds:
            // a model of large tensors alive does not make every reclaim a full one).
            var target = Limit / 2;
            for (var generation = 0; generation <= 2; generation++)
            {
                _collect(generation);
                Interlocked.Increment(ref _collections[generation]);
                if (generation == 2) Interlocked.Exchange(ref _held, Bytes);
                else if (generation == 1 && Bytes < Interlocked.Read(ref _held)) Interlocked.Exchange(ref _held, Bytes); // less is held now
                if (generation < 2 && Bytes <= (generation == 0 ? target : Math.Max(target, Interlocked.Read(ref _held) + FullCollectionBases * Base))) break;
            }
            Interlocked.Exchange(ref _limit, Math.Max(Base, 2 * Bytes));
        }
        finally
        {
            Volatile.Write(ref _reclaiming, 0);
        }
    }

    // The GC's finalizer thread, once a buffer was finalized on it (0 before).
    private static volatile int _finalizerThread;

    /// <summary>Notes that the caller runs on the finalizer thread (a buffer's finalizer calls this).</summary>
    public static void OnFinalizerThread()
    {
        if (_finalizerThread == 0) _finalizerThread = Environment.CurrentManagedThreadId;
    }

    private static void Collect(int generation)
    {
        GC.Collect(generation, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }
}
