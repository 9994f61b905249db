using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// Records, while a differentiated function runs, every primitive application that depends on the
/// function's differentiated inputs. A tape tracks (by reference) the tensors that depend on its inputs;
/// an application with a tracked operand is appended as an entry and its output becomes tracked. Tapes
/// nest: the tapes active on a thread form a stack and each records what depends on its own inputs, so
/// the backward pass of an inner gradient, run while an outer tape is active, is recorded on the outer
/// tape (higher-order gradients).
/// </summary>
internal sealed class GradTape
{
    /// <summary>The number of tapes active on all threads: the cheap check <see cref="Tensor.Apply"/> makes first.</summary>
    private static int _activeAnywhere;

    [ThreadStatic] private static List<GradTape>? _stack;

    private readonly HashSet<Tensor> _tracked = new(ReferenceEqualityComparer.Instance);
    private readonly List<Entry> _entries = [];
    private bool _active;

    private GradTape()
    {
    }

    /// <summary>One recorded application: <c>Output = Op(Inputs)</c>; a null op is the identity (an alias of Inputs[0]).</summary>
    internal readonly record struct Entry(Primitive? Op, Tensor[] Inputs, Tensor Output);

    /// <summary>True when some tape may be active on this thread (false is exact; true is checked further).</summary>
    public static bool MayBeActive => Volatile.Read(ref _activeAnywhere) != 0;

    /// <summary>True when a tape is active on this thread.</summary>
    public static bool ActiveOnThisThread => MayBeActive && _stack is { Count: > 0 };

    /// <summary>True when any tape active on this thread tracks <paramref name="t"/> (it depends on a differentiated input).</summary>
    public static bool IsTrackedOnThisThread(Tensor t)
    {
        if (_stack is not { Count: > 0 } stack) return false;
        foreach (var tape in stack)
            if (tape._tracked.Contains(t)) return true;
        return false;
    }

    /// <summary>The entries in the order they were recorded (a topological order).</summary>
    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>Starts a tape on this thread; <see cref="Stop"/> ends it.</summary>
    public static GradTape Start()
    {
        var tape = new GradTape { _active = true };
        (_stack ??= []).Add(tape);
        Interlocked.Increment(ref _activeAnywhere);
        return tape;
    }

    /// <summary>Ends recording; later operations are not recorded on this tape. Idempotent.</summary>
    public void Stop()
    {
        if (!_active) return;
        _active = false;
        _stack!.Remove(this);
        Interlocked.Decrement(ref _activeAnywhere);
    }

    /// <summary>True when <paramref name="t"/> depends on this tape's inputs.</summary>
    public bool IsTracked(Tensor t) => _tracked.Contains(t);

    /// <summary>
    /// Returns a fresh tensor with <paramref name="t"/>'s value that this tape tracks as an input. The alias
    /// is a new object, so the same tensor passed twice, or already tracked by an enclosing tape, is told
    /// apart (no perturbation confusion); enclosing tapes that track <paramref name="t"/> record the alias as
    /// an identity, so gradients still flow to them.
    /// </summary>
    public Tensor Watch(Tensor t)
    {
        if (TraceBuilder.Current is { } trace) t = trace.Symbolic(t);
        var alias = t.IsSymbolic ? new Tensor(t.Value!, t.Owner!) : new Tensor(t.DeviceBuffer);
        foreach (var outer in _stack!)
            if (outer != this && outer._tracked.Contains(t))
            {
                outer._entries.Add(new Entry(null, [t], alias));
                outer._tracked.Add(alias);
            }
        _tracked.Add(alias);
        return alias;
    }

    /// <summary>Called by <see cref="Tensor.Apply"/> after every application while a tape may be active.</summary>
    public static void Record(Primitive op, Tensor[] inputs, Tensor output)
    {
        var stack = _stack;
        if (stack is null || stack.Count == 0) return;
        // Non-float results carry no gradient, and StopGradient cuts the path: neither is tracked.
        if (!output.DType.IsFloat() || op is StopGradient) return;
        Tensor[]? copy = null;
        foreach (var tape in stack)
            foreach (var x in inputs)
                if (tape._tracked.Contains(x))
                {
                    copy ??= (Tensor[])inputs.Clone();
                    tape._entries.Add(new Entry(op, copy, output));
                    tape._tracked.Add(output);
                    break;
                }
    }
}
