using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Onnx;

/// <summary>
/// Small CPU tensors whose buffers were freed, kept per aval for the next buffer of that aval: eager code makes
/// and drops thousands of small tensors per step, and creating an ONNX Runtime value and releasing it (on the
/// finalizer thread, for a tensor nobody disposed) costs about as much as running the one-node session that fills
/// it (notes/jit.md, "Eager dispatch"). A recycled value's contents are unspecified, as
/// <see cref="OrtBackend.Allocate"/>'s are. Bounded: tensors of at most <see cref="MaxBytes"/> bytes, and
/// <see cref="Budget"/> bytes in all: twice what <see cref="NativeBudget"/> first lets dropped buffers hold before a
/// collection gives them back, so that one collection's worth of dropped tensors is reused, not freed and made again.
/// A buffer keeps its aval's <see cref="Slot"/> (an executable keeps its outputs'), so that neither taking nor
/// giving back looks the aval up.
/// <para>When the budget is spent, a value given back pushes out values kept for an aval that was asked for less
/// recently (<see cref="Slot.LastUse"/>). Otherwise the values of a phase that is over (say, a loop of [32, 32]
/// matmuls) would fill the budget for good, and every later small tensor would be created and released anew: eager
/// adds of f32[32] took 1.1–2.6 µs instead of 0.5–0.9 after such a loop.</para>
/// </summary>
internal sealed class OrtValuePool
{
    /// <summary>The largest tensor kept, in bytes of data.</summary>
    public const int MaxBytes = 16 * 1024;

    /// <summary>The most bytes kept in all, counting each value's data and its native overhead.</summary>
    public const long Budget = 2 * NativeBudget.DefaultBase;

    // What a value costs natively beyond its data (its OrtValue, tensor, shape and allocation header), roughly.
    private const long Overhead = 256;

    private readonly ConcurrentDictionary<Aval, Slot> _slots = new();
    private Slot[] _all = []; // every slot, for eviction; replaced under the dictionary's lock when one is added
    private long _bytes;
    private long _clock;      // counts the takes: the order of Slot.LastUse

    /// <summary>Whether a buffer of <paramref name="aval"/> may be recycled.</summary>
    public static bool Fits(Aval aval) => aval.Shape.Size * (long)aval.DType.ItemSize() <= MaxBytes;

    /// <summary>The bytes kept now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The slot of <paramref name="aval"/>'s values, or null when they are not kept (see <see cref="Fits"/>).</summary>
    public Slot? SlotOf(Aval aval) => !Fits(aval) ? null : _slots.TryGetValue(aval, out var slot) ? slot : AddSlot(aval);

    private Slot AddSlot(Aval aval)
    {
        lock (_slots)
        {
            if (_slots.TryGetValue(aval, out var slot)) return slot;
            slot = new Slot(Cost(aval));
            _all = [.. _all, slot];
            _slots[aval] = slot;
            return slot;
        }
    }

    /// <summary>A freed value of <paramref name="aval"/>, or null.</summary>
    public OrtValue? Take(Aval aval) => SlotOf(aval) is { } slot ? Take(slot) : null;

    /// <summary>A freed value of <paramref name="slot"/>'s aval, or null.</summary>
    public OrtValue? Take(Slot slot)
    {
        slot.LastUse = Interlocked.Increment(ref _clock); // asked for now, whether one is kept or not
        if (slot.Take() is not { } v) return null;
        Interlocked.Add(ref _bytes, -slot.Cost);
        return v;
    }

    /// <summary>Keeps <paramref name="value"/> (of <paramref name="aval"/>) for reuse; false when it is not kept (the caller frees it).</summary>
    public bool Give(Aval aval, OrtValue value) => SlotOf(aval) is { } slot && Give(slot, value);

    /// <summary>
    /// Keeps <paramref name="value"/> (of <paramref name="slot"/>'s aval) for reuse, freeing values of a less recently
    /// asked-for aval when the budget is spent; false when it is not kept (the caller frees it).
    /// </summary>
    public bool Give(Slot slot, OrtValue value)
    {
        while (Interlocked.Add(ref _bytes, slot.Cost) > Budget)
        {
            Interlocked.Add(ref _bytes, -slot.Cost);
            if (!EvictOlderThan(slot)) return false;
        }
        slot.Give(value);
        return true;
    }

    /// <summary>
    /// Frees the kept values of the slot asked for least recently, if that was before <paramref name="slot"/>'s, until one
    /// of <paramref name="slot"/>'s values would fit the budget; false when no slot with values is older.
    /// </summary>
    private bool EvictOlderThan(Slot slot)
    {
        Slot? stalest = null;
        foreach (var s in Volatile.Read(ref _all))
            if (s != slot && s.LastUse < slot.LastUse && s.Count > 0 && (stalest is null || s.LastUse < stalest.LastUse))
                stalest = s;
        if (stalest is null) return false;
        while (Bytes + slot.Cost > Budget && stalest.Take() is { } v)
        {
            Interlocked.Add(ref _bytes, -stalest.Cost);
            v.Dispose();
        }
        return true;
    }

    /// <summary>Frees every kept value (for tests).</summary>
    public void Clear()
    {
        foreach (var slot in _slots.Values)
            while (Take(slot) is { } v) v.Dispose();
    }

    private static long Cost(Aval aval) => aval.Shape.Size * (long)aval.DType.ItemSize() + Overhead;

    /// <summary>The values kept for one aval: a stack under a lock that is held for a few instructions.</summary>
    internal sealed class Slot(long cost)
    {
        private readonly Stack<OrtValue> _values = new();

        /// <summary>What one value counts against the budget.</summary>
        public long Cost { get; } = cost;

        /// <summary>When a value of this aval was last asked for, on the pool's count of takes (0: never).</summary>
        public long LastUse;

        /// <summary>The values kept now.</summary>
        public int Count
        {
            get
            {
                lock (_values) return _values.Count;
            }
        }

        public OrtValue? Take()
        {
            lock (_values) return _values.TryPop(out var v) ? v : null;
        }

        public void Give(OrtValue value)
        {
            lock (_values) _values.Push(value);
        }
    }
}
