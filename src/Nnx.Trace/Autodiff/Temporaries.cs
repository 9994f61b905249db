namespace NnxSharp;

/// <summary>
/// The concrete tensors that eager operations make on this thread while a scope is open: the reverse pass frees its
/// own intermediates with it (the VJP rules' products, transposes and partial cotangents) as soon as the gradients are
/// known, instead of leaving their buffers to the garbage collector. An eager training step at width 512 made about
/// 8 MB of them a step, and collecting them cost more than the step's arithmetic (notes/autodiff.md, "Freeing the
/// reverse pass's intermediates").
/// <para>Only what <see cref="Tensor.Apply"/> runs eagerly and what a jitted call returns (the rules' jitted products) is
/// collected, so a tensor made before the scope opened (a forward value, a parameter, an argument) is never freed by it;
/// scopes nest.</para>
/// </summary>
internal sealed class Temporaries
{
    [ThreadStatic] private static Temporaries? _current;

    private readonly List<Tensor> _made = [];
    private readonly Temporaries? _outer;

    private Temporaries(Temporaries? outer) => _outer = outer;

    /// <summary>Opens a scope on this thread; <see cref="Close"/> ends it.</summary>
    public static Temporaries Open() => _current = new Temporaries(_current);

    /// <summary>Counts a tensor that an eager operation or a jitted call made, when a scope is open on this thread; returns it.</summary>
    public static Tensor Made(Tensor output)
    {
        _current?._made.Add(output);
        return output;
    }

    /// <summary>
    /// Closes the scope. With <paramref name="keep"/> (on success) every tensor it collected is freed except those and
    /// any that share a buffer with them; without (an exception on the way), nothing is freed and the collector
    /// reclaims them as before. An outer scope takes over what is kept.
    /// </summary>
    public void Close(IReadOnlyList<Tensor>? keep)
    {
        _current = _outer;
        if (keep is null)
        {
            _outer?._made.AddRange(_made);
            return;
        }
        var kept = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var t in keep)
            if (!t.IsSymbolic && !t.IsDisposed) kept.Add(t.DeviceBuffer);
        foreach (var t in _made)
        {
            if (t.IsDisposed) continue;
            if (kept.Contains(t.DeviceBuffer)) _outer?._made.Add(t);
            else t.Dispose();
        }
    }
}
