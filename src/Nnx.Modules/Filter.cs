namespace NnxSharp;

/// <summary>
/// Selects state entries by variable kind, path or predicate, for <see cref="Nnx.Split(object, Filter, Filter)"/>,
/// <see cref="Nnx.State(object, Filter)"/> and <see cref="State.Filter"/>. Combine with <see cref="All"/>,
/// <see cref="Any"/>, <see cref="Not"/> (or <c>&amp;</c>, <c>|</c>, <c>!</c>); a <see cref="Type"/> converts to
/// <see cref="Of(Type)"/>.
/// </summary>
public abstract class Filter
{
    private protected Filter()
    {
    }

    /// <summary>Selects every entry.</summary>
    public static Filter Everything { get; } = new Constant(true);

    /// <summary>Selects no entry.</summary>
    public static Filter Nothing { get; } = new Constant(false);

    /// <summary>Selects variables of kind <typeparamref name="T"/> or a subclass of it.</summary>
    public static Filter Of<T>() where T : Variable => KindFilter<T>.Instance;

    /// <summary>Selects variables of kind <paramref name="kind"/> or a subclass of it.</summary>
    public static Filter Of(Type kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (!typeof(Variable).IsAssignableFrom(kind))
            throw new ArgumentException($"Filter.Of: {kind.Name} is not a Variable kind (Param, BatchStat, … or a subclass of Variable).");
        return new Kind(kind);
    }

    /// <summary>Selects entries one of whose path segments is <paramref name="segment"/> (<c>PathContains("kernel")</c>).</summary>
    public static Filter PathContains(string segment)
    {
        ArgumentException.ThrowIfNullOrEmpty(segment);
        return new Predicate($"PathContains(\"{segment}\")", e => e.Path.Split('/').Contains(segment, StringComparer.Ordinal));
    }

    /// <summary>Selects entries at <paramref name="prefix"/> or under it (<c>PathStartsWith("layers/0")</c>).</summary>
    public static Filter PathStartsWith(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var p = prefix.TrimEnd('/');
        return new Predicate($"PathStartsWith(\"{p}\")", e =>
            p.Length == 0 || (e.Path.StartsWith(p, StringComparison.Ordinal) && (e.Path.Length == p.Length || e.Path[p.Length] == '/')));
    }

    /// <summary>Selects entries for which <paramref name="predicate"/> holds (it sees the path, kind and value).</summary>
    public static Filter Where(Func<StateEntry, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new Predicate("Where(…)", predicate);
    }

    /// <summary>Selects entries that every filter selects (<see cref="Everything"/> when none is given).</summary>
    public static Filter All(params Filter[] filters) => new Combined(true, Check(filters));

    /// <summary>Selects entries that some filter selects (<see cref="Nothing"/> when none is given).</summary>
    public static Filter Any(params Filter[] filters) => new Combined(false, Check(filters));

    /// <summary>Selects the entries that <paramref name="filter"/> does not.</summary>
    public static Filter Not(Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new Negated(filter);
    }

    /// <summary>Both filters: <see cref="All"/>.</summary>
    public static Filter operator &(Filter a, Filter b) => All(a, b);

    /// <summary>Either filter: <see cref="Any"/>.</summary>
    public static Filter operator |(Filter a, Filter b) => Any(a, b);

    /// <summary>The complement: <see cref="Not"/>.</summary>
    public static Filter operator !(Filter a) => Not(a);

    /// <summary>A variable kind as a filter: <see cref="Of(Type)"/>.</summary>
    public static implicit operator Filter(Type kind) => Of(kind);

    /// <summary>True when the filter selects <paramref name="entry"/>.</summary>
    public abstract bool Matches(StateEntry entry);

    /// <summary>The index of the first filter that selects <paramref name="entry"/>, or −1.</summary>
    internal static int FirstMatch(Filter[] filters, StateEntry entry)
    {
        for (var f = 0; f < filters.Length; f++)
            if (filters[f].Matches(entry)) return f;
        return -1;
    }

    private static Filter[] Check(Filter[] filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        foreach (var f in filters) ArgumentNullException.ThrowIfNull(f, nameof(filters));
        return (Filter[])filters.Clone();
    }

    private sealed class Constant(bool value) : Filter
    {
        public override bool Matches(StateEntry entry) => value;

        public override string ToString() => value ? "Everything" : "Nothing";
    }

    private class Kind(Type kind) : Filter
    {
        public override bool Matches(StateEntry entry) => kind.IsAssignableFrom(entry.Kind);

        public override string ToString() => kind.Name;
    }

    private sealed class KindFilter<T> : Kind where T : Variable
    {
        public static readonly KindFilter<T> Instance = new();

        private KindFilter() : base(typeof(T))
        {
        }
    }

    private sealed class Predicate(string name, Func<StateEntry, bool> predicate) : Filter
    {
        public override bool Matches(StateEntry entry) => predicate(entry);

        public override string ToString() => name;
    }

    private sealed class Combined(bool all, Filter[] parts) : Filter
    {
        public override bool Matches(StateEntry entry)
        {
            foreach (var p in parts)
                if (p.Matches(entry) != all) return !all;
            return all;
        }

        public override string ToString() => (all ? "All(" : "Any(") + string.Join(", ", parts.AsEnumerable()) + ")";
    }

    private sealed class Negated(Filter inner) : Filter
    {
        public override bool Matches(StateEntry entry) => !inner.Matches(entry);

        public override string ToString() => $"Not({inner})";
    }
}
