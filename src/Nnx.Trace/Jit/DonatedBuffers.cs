using NnxSharp.Backends;

namespace NnxSharp;

/// <summary>
/// The buffers that callers of one compiled function gave up (donated arguments), by aval, for the next
/// calls' outputs. A loop that donates its state takes back each call what the previous call gave, so the
/// pool stays the size of one state and the executable's two IOBindings find their buffers already bound.
/// Buffers of one aval come back in the order they were given (first in, first out): a state's leaves are
/// given in order and its next value's outputs take them in the same order, so each output gets the buffer
/// it had two calls before, which the binding used then still holds. (Last in, first out reversed the leaves
/// of each aval every call: at width 32 the seed's step rebound 55 of its 67 values per call.)
/// </summary>
internal sealed class DonatedBuffers
{
    private readonly Dictionary<Aval, Queue<DeviceBuffer>> _free = [];

    /// <summary>A free buffer of this aval, or a new one from the backend.</summary>
    public DeviceBuffer Take(Aval aval, IBackend backend)
    {
        lock (_free)
            if (_free.TryGetValue(aval, out var queue) && queue.TryDequeue(out var b)) return b;
        return backend.Allocate(aval);
    }

    /// <summary>Keeps a donated buffer for a later output.</summary>
    public void Give(DeviceBuffer buffer)
    {
        lock (_free)
        {
            if (!_free.TryGetValue(buffer.Aval, out var queue)) _free[buffer.Aval] = queue = new Queue<DeviceBuffer>();
            queue.Enqueue(buffer);
        }
    }
}
