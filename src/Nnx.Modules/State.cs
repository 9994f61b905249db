using System.Collections;
using System.Text;

namespace NnxSharp;

/// <summary>
/// The values of an object graph: an ordered map from path (<c>linear/kernel</c>, <c>layers/0/bn/mean</c>) to
/// the variable's kind and tensor. Immutable: the helpers return new states. It is a <see cref="Tree"/> node
/// (its tensors are the leaves; its paths and kinds are static), so a pure jitted function can take and
/// return one.
/// </summary>
public sealed class State : IReadOnlyList<StateEntry>, ITreeNode
{
    private readonly Tensor[] _values;

    internal State(StateDef def, Tensor[] values)
    {
        Def = def;
        _values = values;
    }

    /// <summary>The state with no entries.</summary>
    public static State Empty { get; } = new(StateDef.Empty, []);

    /// <summary>A state from entries, in their order; a path may appear only once.</summary>
    public static State Of(IEnumerable<StateEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        foreach (var e in list)
        {
            ArgumentNullException.ThrowIfNull(e.Value, $"value of '{e.Path}'");
            if (!typeof(Variable).IsAssignableFrom(e.Kind))
                throw new ArgumentException($"State: the kind of '{e.Path}' is {e.Kind.Name}, which is not a Variable type.");
        }
        var def = new StateDef([.. list.Select(e => e.Path)], [.. list.Select(e => e.Kind)]);
        def.IndexOf(string.Empty); // builds the path index, which rejects a repeated path now rather than at first lookup
        return new State(def, [.. list.Select(e => e.Value)]);
    }

    internal StateDef Def { get; }

    /// <summary>For gradients from <c>Nnx.Grad</c>/<c>Nnx.ValueAndGrad</c>: the module they are the gradients of (checked by <see cref="Optimizer.Update"/>).</summary>
    internal object? GradientOf { get; init; }

    internal Tensor[] ValueArray => _values;

    /// <summary>The number of entries.</summary>
    public int Count => _values.Length;

    /// <summary>The paths, in order.</summary>
    public IReadOnlyList<string> Paths => Def.Paths;

    /// <summary>The tensors, in path order.</summary>
    public IReadOnlyList<Tensor> Values => _values;

    /// <summary>The entry at <paramref name="index"/>.</summary>
    public StateEntry this[int index] => new(Def.Paths[index], Def.Kinds[index], _values[index]);

    /// <summary>The tensor at <paramref name="path"/>; throws naming the path when there is none.</summary>
    public Tensor this[string path] => TryGetValue(path, out var v)
        ? v
        : throw new KeyNotFoundException($"State has no path '{path}'. Its paths: {Describe(Def.Paths)}.");

    /// <summary>True when the state has an entry at <paramref name="path"/>.</summary>
    public bool Contains(string path) => Def.IndexOf(path) >= 0;

    /// <summary>The tensor at <paramref name="path"/>, if any.</summary>
    public bool TryGetValue(string path, out Tensor value)
    {
        var i = Def.IndexOf(path);
        value = i >= 0 ? _values[i] : null!;
        return i >= 0;
    }

    /// <summary>The variable kind at <paramref name="path"/>.</summary>
    public Type KindOf(string path)
    {
        var i = Def.IndexOf(path);
        return i >= 0 ? Def.Kinds[i] : throw new KeyNotFoundException($"State has no path '{path}'.");
    }

    /// <summary>The entries that <paramref name="filter"/> selects, in order (empty when none does).</summary>
    public State Filter(Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Select(i => filter.Matches(this[i]));
    }

    /// <summary>
    /// Partitions the state: each entry goes to the first filter that selects it. Every entry must be selected
    /// by some filter (end with <see cref="NnxSharp.Filter.Everything"/> to keep the rest).
    /// </summary>
    public State[] Split(params Filter[] filters)
    {
        ArgumentNullException.ThrowIfNull(filters);
        var owner = new int[Count];
        for (var i = 0; i < Count; i++) owner[i] = NnxSharp.Filter.FirstMatch(filters, this[i]);
        var unmatched = Enumerable.Range(0, Count).Where(i => owner[i] < 0).Select(i => Def.Paths[i]).ToList();
        if (unmatched.Count > 0)
            throw new ArgumentException(
                $"Split: no filter selects {Describe(unmatched)}; the filters ({string.Join(", ", filters.AsEnumerable())}) must cover the whole state " +
                "(add Filter.Everything last to keep the rest).");
        return [.. Enumerable.Range(0, filters.Length).Select(f => Select(i => owner[i] == f))];
    }

    /// <summary>The sub-tree under <paramref name="prefix"/> (<c>"linear"</c> or <c>"layers/0"</c>), with the prefix removed from its paths.</summary>
    public State At(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var head = prefix.TrimEnd('/') + "/";
        var keep = Enumerable.Range(0, Count).Where(i => Def.Paths[i].StartsWith(head, StringComparison.Ordinal)).ToArray();
        if (keep.Length == 0)
            throw new KeyNotFoundException($"State has nothing under '{prefix}'. Its paths: {Describe(Def.Paths)}.");
        return new State(new StateDef([.. keep.Select(i => Def.Paths[i][head.Length..])], [.. keep.Select(i => Def.Kinds[i])]), [.. keep.Select(i => _values[i])]);
    }

    /// <summary>The state as nested dictionaries: a path segment maps to a nested dictionary or, at the end of a path, to its <see cref="StateEntry"/>.</summary>
    public IReadOnlyDictionary<string, object> ToNested()
    {
        var root = new Dictionary<string, object>(StringComparer.Ordinal);
        for (var i = 0; i < Count; i++)
        {
            var segments = Def.Paths[i].Split('/');
            var node = root;
            foreach (var s in segments[..^1])
            {
                if (!node.TryGetValue(s, out var child)) node[s] = child = new Dictionary<string, object>(StringComparer.Ordinal);
                node = child as Dictionary<string, object>
                    ?? throw new InvalidOperationException($"State: '{Def.Paths[i]}' lies under another variable's path.");
            }
            node[segments[^1]] = this[i];
        }
        return root;
    }

    /// <summary>The state as a flat dictionary from path to tensor.</summary>
    public IReadOnlyDictionary<string, Tensor> ToDictionary() =>
        Enumerable.Range(0, Count).ToDictionary(i => Def.Paths[i], i => _values[i], StringComparer.Ordinal);

    /// <summary>A new state with <paramref name="f"/> applied to every tensor.</summary>
    public State Map(Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new State(Def, Array.ConvertAll(_values, t => f(t)));
    }

    /// <summary>A new state with <paramref name="f"/>(path, tensor) applied to every entry.</summary>
    public State Map(Func<string, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var values = new Tensor[Count];
        for (var i = 0; i < values.Length; i++) values[i] = f(Def.Paths[i], _values[i]);
        return new State(Def, values);
    }

    /// <summary>
    /// A new state with <paramref name="f"/>(this[p], other[p]) at every path p of this state (for example
    /// <c>parameters.Zip(grads, (p, g) =&gt; p - 0.1 * g)</c>); <paramref name="other"/> must have every path.
    /// </summary>
    public State Zip(State other, Func<Tensor, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentNullException.ThrowIfNull(f);
        var values = new Tensor[Count];
        var aligned = Def.Equals(other.Def);
        for (var i = 0; i < values.Length; i++)
        {
            var j = aligned ? i : other.Def.IndexOf(Def.Paths[i]);
            if (j < 0) throw new ArgumentException($"State.Zip: the other state has no '{Def.Paths[i]}'.");
            values[i] = f(_values[i], other._values[j]);
        }
        return new State(Def, values);
    }

    /// <summary>A new state with the tensor at <paramref name="path"/> replaced.</summary>
    public State With(string path, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var i = Def.IndexOf(path);
        if (i < 0) throw new KeyNotFoundException($"State has no path '{path}'.");
        var values = (Tensor[])_values.Clone();
        values[i] = value;
        return new State(Def, values);
    }

    /// <summary>The union of states, paths in order of first appearance; a later state's entry replaces an earlier one at the same path.</summary>
    public static State Merge(params State[] states)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Length == 1) return states[0];
        var order = new List<string>();
        var at = new Dictionary<string, StateEntry>(StringComparer.Ordinal);
        foreach (var s in states)
            for (var i = 0; i < s.Count; i++)
            {
                if (!at.ContainsKey(s.Def.Paths[i])) order.Add(s.Def.Paths[i]);
                at[s.Def.Paths[i]] = s[i];
            }
        return new State(new StateDef([.. order], [.. order.Select(p => at[p].Kind)]), [.. order.Select(p => at[p].Value)]);
    }

    /// <summary>Element-wise sum of two states with the same paths.</summary>
    public static State operator +(State a, State b) => NotNull(a).Zip(b, (x, y) => x + y);

    /// <summary>Element-wise difference of two states with the same paths.</summary>
    public static State operator -(State a, State b) => NotNull(a).Zip(b, (x, y) => x - y);

    /// <summary>Every tensor times a scalar.</summary>
    public static State operator *(State a, double s) => NotNull(a).Map(x => x * s);

    /// <summary>Every tensor times a scalar.</summary>
    public static State operator *(double s, State a) => NotNull(a).Map(x => s * x);

    /// <summary>
    /// Prints the state as a tree, one line per variable with its kind and aval:
    /// <code>
    /// State(2 variables, 9 elements)
    ///   linear/
    ///     kernel: Param f32[2,3]
    ///     bias: Param f32[3]
    /// </code>
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("State(").Append(Count).Append(Count == 1 ? " variable, " : " variables, ").Append(_values.Sum(v => (long)v.Size)).Append(" elements)");
        string[] previous = [];
        for (var i = 0; i < Count; i++)
        {
            var segments = Def.Paths[i].Split('/');
            var common = 0;
            while (common < segments.Length - 1 && common < previous.Length - 1 && segments[common] == previous[common]) common++;
            for (var d = common; d < segments.Length - 1; d++) sb.AppendLine().Append(' ', 2 * d + 2).Append(segments[d]).Append('/');
            sb.AppendLine().Append(' ', 2 * segments.Length).Append(segments[^1]).Append(": ").Append(Def.Kinds[i].Name).Append(' ').Append(_values[i].Aval);
            previous = segments;
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    public IEnumerator<StateEntry> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The tensors are the children; the paths and kinds are the static auxiliary data.</summary>
    (IReadOnlyList<object?> Children, object? Aux) ITreeNode.TreeFlatten() => (_values, Def);

    /// <inheritdoc/>
    string ITreeNode.ChildName(object? aux, int index) => ((StateDef)aux!).Paths[index];

    /// <summary>A state of the same paths and kinds holding <paramref name="children"/>.</summary>
    ITreeNode ITreeNode.TreeUnflatten(object? aux, IReadOnlyList<object?> children)
    {
        var def = (StateDef)aux!;
        var values = new Tensor[children.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = children[i] as Tensor ?? throw new ArgumentException($"State: the value of '{def.Paths[i]}' is not a tensor.");
        return new State(def, values);
    }

    private State Select(Func<int, bool> keep)
    {
        var idx = Enumerable.Range(0, Count).Where(keep).ToArray();
        if (idx.Length == Count) return this;
        return idx.Length == 0 ? Empty : new State(new StateDef([.. idx.Select(i => Def.Paths[i])], [.. idx.Select(i => Def.Kinds[i])]), [.. idx.Select(i => _values[i])]);
    }

    private static State NotNull(State s) => s ?? throw new ArgumentNullException(nameof(s));

    /// <summary>Lists up to eight paths for a message.</summary>
    internal static string Describe(IReadOnlyCollection<string> paths) =>
        paths.Count == 0 ? "(none)" : string.Join(", ", paths.Take(8).Select(p => $"'{p}'")) + (paths.Count > 8 ? $", … ({paths.Count} in all)" : "");
}
