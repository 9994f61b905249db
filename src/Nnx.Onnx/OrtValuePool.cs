using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Onnx;

/// <summary>
/// Small CPU tensors whose buffers were freed, kept per aval for the next buffer of that aval: eager code makes
/// and drops thousands of small tensors per step, and creating an ONNX Runtime value and releasing it (on the
/// finalizer thread, for a tensor nobody disposed) costs about as much as running the one-node session that fills
/// it (notes/jit.md, "Eager dispatch"). A recycled value's contents are unspecified, as
/// <see cref="OrtBackend.Allocate"/>'s are. Bounded: tensors of at most <see cref="MaxBytes"/> bytes, and
/// <see cref="Budget"/> bytes in all (about what the GC lets dropped tensors hold between two collections, which
/// the memory pressure that <see cref="OrtBuffer"/> reports triggers every few MiB).
/// </summary>
internal sealed class OrtValuePool
{
    /// <summary>The largest tensor kept, in bytes of data.</summary>
    public const int MaxBytes = 16 * 1024;

    /// <summary>The most bytes kept in all, counting each value's data and its native overhead.</summary>
    public const long Budget = 8 << 20;

    // What a value costs natively beyond its data (its OrtValue, tensor, shape and allocation header), roughly.
    private const long Overhead = 256;

    private readonly ConcurrentDictionary<Aval, Slot> _slots = new();
    private long _bytes;

    /// <summary>Whether a buffer of <paramref name="aval"/> may be recycled.</summary>
    public static bool Fits(Aval aval) => aval.Shape.Size * (long)aval.DType.ItemSize() <= MaxBytes;

    /// <summary>The bytes kept now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>A freed value of <paramref name="aval"/>, or null.</summary>
    public OrtValue? Take(Aval aval)
    {
        if (!_slots.TryGetValue(aval, out var slot) || slot.Take() is not { } v) return null;
        Interlocked.Add(ref _bytes, -Cost(aval));
        return v;
    }

    /// <summary>Keeps <paramref name="value"/> (of <paramref name="aval"/>) for reuse; false when the budget is spent (the caller frees it).</summary>
    public bool Give(Aval aval, OrtValue value)
    {
        var cost = Cost(aval);
        if (Interlocked.Add(ref _bytes, cost) > Budget)
        {
            Interlocked.Add(ref _bytes, -cost);
            return false;
        }
        _slots.GetOrAdd(aval, static _ => new Slot()).Give(value);
        return true;
    }

    /// <summary>Frees every kept value (for tests).</summary>
    public void Clear()
    {
        foreach (var (aval, slot) in _slots)
            while (slot.Take() is { } v)
            {
                Interlocked.Add(ref _bytes, -Cost(aval));
                v.Dispose();
            }
    }

    private static long Cost(Aval aval) => aval.Shape.Size * (long)aval.DType.ItemSize() + Overhead;

    /// <summary>The values kept for one aval: a stack under a lock that is held for a few instructions.</summary>
    private sealed class Slot
    {
        private readonly Stack<OrtValue> _values = new();

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
