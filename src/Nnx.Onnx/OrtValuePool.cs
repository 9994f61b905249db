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
    private long _bytes;

    /// <summary>Whether a buffer of <paramref name="aval"/> may be recycled.</summary>
    public static bool Fits(Aval aval) => aval.Shape.Size * (long)aval.DType.ItemSize() <= MaxBytes;

    /// <summary>The bytes kept now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The slot of <paramref name="aval"/>'s values, or null when they are not kept (see <see cref="Fits"/>).</summary>
    public Slot? SlotOf(Aval aval) => Fits(aval) ? _slots.GetOrAdd(aval, static a => new Slot(Cost(a))) : null;

    /// <summary>A freed value of <paramref name="aval"/>, or null.</summary>
    public OrtValue? Take(Aval aval) => _slots.TryGetValue(aval, out var slot) ? Take(slot) : null;

    /// <summary>A freed value of <paramref name="slot"/>'s aval, or null.</summary>
    public OrtValue? Take(Slot slot)
    {
        if (slot.Take() is not { } v) return null;
        Interlocked.Add(ref _bytes, -slot.Cost);
        return v;
    }

    /// <summary>Keeps <paramref name="value"/> (of <paramref name="aval"/>) for reuse; false when it is not kept (the caller frees it).</summary>
    public bool Give(Aval aval, OrtValue value) => SlotOf(aval) is { } slot && Give(slot, value);

    /// <summary>Keeps <paramref name="value"/> (of <paramref name="slot"/>'s aval) for reuse; false when the budget is spent (the caller frees it).</summary>
    public bool Give(Slot slot, OrtValue value)
    {
        if (Interlocked.Add(ref _bytes, slot.Cost) > Budget)
        {
            Interlocked.Add(ref _bytes, -slot.Cost);
            return false;
        }
        slot.Give(value);
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
