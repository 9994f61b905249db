using NnxSharp.Backends;

namespace NnxSharp;

/// <summary>
/// The buffers that callers of one compiled function gave up (donated arguments), by aval, for the next
/// calls' outputs. A loop that donates its state takes back each call what the previous call gave, so the
/// pool stays the size of one state and the executable's two IOBindings find their buffers already bound.
/// </summary>
internal sealed class DonatedBuffers
{
    private readonly Dictionary<Aval, Stack<DeviceBuffer>> _free = [];

    /// <summary>A free buffer of this aval, or a new one from the backend.</summary>
    public DeviceBuffer Take(Aval aval, IBackend backend)
    {
        lock (_free)
            if (_free.TryGetValue(aval, out var stack) && stack.TryPop(out var b)) return b;
        return backend.Allocate(aval);
    }

    /// <summary>Keeps a donated buffer for a later output.</summary>
    public void Give(DeviceBuffer buffer)
    {
        lock (_free)
        {
            if (!_free.TryGetValue(buffer.Aval, out var stack)) _free[buffer.Aval] = stack = new Stack<DeviceBuffer>();
            stack.Push(buffer);
        }
    }
}
