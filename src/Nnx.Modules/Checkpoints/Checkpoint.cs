using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace NnxSharp;

/// <summary>
/// Checkpoints as safetensors files keyed by state path. One object saves under its own paths
/// (<c>linear/kernel</c>); several (model, optimizer, metrics) save under each one's own paths, a shared object
/// (the optimizer's model) once under the first that holds it, so the optimizer's state reads
/// <c>opt_state/0/mu/linear/kernel</c> and the step <c>step</c>. Two objects giving the same path is an error.
/// </summary>
internal static class Checkpoint
{
    private const string VersionKey = "nnx.version", StepKey = "nnx.step", GraphDefKey = "nnx.graphdef", RootsKey = "nnx.roots", KindsKey = "nnx.kinds";

    public static void Save(string path, object[] nodes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (snapshot, keys, roots) = Targets(nodes, nameof(Nnx.Save));
        var variables = snapshot.Variables;
        for (var i = 0; i < variables.Length; i++)
            if (variables[i].RawValue.IsSymbolic)
                throw new InvalidOperationException($"Nnx.Save: '{keys[i]}' holds a symbolic tensor; save outside traced functions.");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [VersionKey] = Nnx.Version,
            [GraphDefKey] = Fingerprint(snapshot.GraphDef),
            [RootsKey] = string.Join(",", roots),
            [KindsKey] = JsonSerializer.Serialize(Enumerable.Range(0, keys.Length).ToDictionary(i => keys[i], i => variables[i].GetType().Name)),
        };
        if (StepOf(snapshot) is { } step) metadata[StepKey] = step.ToString(CultureInfo.InvariantCulture);
        var entries = Enumerable.Range(0, keys.Length).Select(i => (keys[i], variables[i].Aval)).ToArray();
        SafeTensors.WriteAtomically(path, stream => SafeTensors.Write(stream, entries, i => Download(variables[i], keys[i]), metadata));
    }

    public static CheckpointInfo Load(string path, object[] nodes, Filter? filter)
    {
        var (tensors, metadata) = SafeTensors.Load(path);
        var (snapshot, keys, roots) = Targets(nodes, nameof(Nnx.Load));
        var file = new Dictionary<string, HostArray>(StringComparer.Ordinal);
        foreach (var (k, v) in tensors) file[k] = v;
        var variables = snapshot.Variables;
        var selected = Enumerable.Range(0, keys.Length)
            .Where(i => filter is null || filter.Matches(new StateEntry(keys[i], variables[i].GetType(), variables[i].RawValue)))
            .ToArray();
        var problems = new List<string>();
        foreach (var i in selected)
        {
            var target = variables[i];
            if (target.RawValue.IsSymbolic)
                throw new InvalidOperationException($"Nnx.Load: '{keys[i]}' holds a symbolic tensor; load outside traced functions.");
            if (!file.TryGetValue(keys[i], out var saved)) problems.Add($"missing '{keys[i]}' ({target.GetType().Name} {target.Aval})");
            else if (saved.Aval != target.Aval)
                problems.Add($"'{keys[i]}' is {saved.Aval} in the file but {target.Aval} in the target" +
                             (saved.DType != target.DType && saved.Shape == target.Aval.Shape ? " (other dtype)" : " (other shape)"));
        }
        if (filter is null)
        {
            var known = new HashSet<string>(keys, StringComparer.Ordinal);
            problems.AddRange(tensors.Where(t => !known.Contains(t.Key)).Select(t => $"unexpected '{t.Key}' ({t.Value.Aval})"));
        }
        if (problems.Count > 0)
        {
            var savedRoots = metadata.TryGetValue(RootsKey, out var r) ? r : "(unknown)";
            throw new InvalidOperationException(
                $"Nnx.Load: '{path}' does not fit {string.Join(", ", roots)}: {problems.Count} mismatch{(problems.Count == 1 ? "" : "es")}: " +
                string.Join("; ", problems.Take(20)) + (problems.Count > 20 ? $"; … ({problems.Count} in all)" : "") + "." +
                (savedRoots != string.Join(",", roots) ? $" The file was saved from {savedRoots}; load it into the same objects, in the same order." : "") +
                (filter is null ? " Pass a filter (Filter.Of<Param>()) to load a subset." : ""));
        }
        // Everything checked: now write, each tensor onto the device its variable's value is on.
        foreach (var i in selected)
        {
            var target = variables[i];
            target.Value = new Tensor(target.RawValue.DeviceBuffer.Backend.Upload(file[keys[i]]));
        }
        return Info(path, metadata);
    }

    public static (State State, CheckpointInfo Info) Read(string path)
    {
        var (tensors, metadata) = SafeTensors.Load(path);
        var kinds = metadata.TryGetValue(KindsKey, out var k) ? JsonSerializer.Deserialize<Dictionary<string, string>>(k) ?? [] : [];
        var state = State.Of(tensors.Select(t => new StateEntry(t.Key, KindOf(kinds.GetValueOrDefault(t.Key)), Tensor.FromHost(t.Value))));
        return (state, Info(path, metadata));
    }

    /// <summary>16 hex digits of SHA-256 over the GraphDef's printed form (types, static attributes, sharing, avals).</summary>
    public static string Fingerprint(GraphDef graphdef) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(graphdef.ToString())))[..16];

    private static CheckpointInfo Info(string path, IReadOnlyDictionary<string, string> metadata) => new(
        path,
        metadata.TryGetValue(StepKey, out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var step) ? step : null,
        metadata.GetValueOrDefault(VersionKey) ?? "",
        metadata.GetValueOrDefault(GraphDefKey) ?? "",
        metadata.TryGetValue(RootsKey, out var r) ? r.Split(',') : [],
        metadata);

    /// <summary>The snapshot of the objects, each variable's key, and the roots' type names.</summary>
    private static (GraphSnapshot Snapshot, string[] Keys, string[] Roots) Targets(object[] nodes, string op)
    {
        var (roots, tupleRoot) = Nnx.Roots(nodes, op);
        var snapshot = GraphSnapshot.For(roots, tupleRoot);
        var paths = snapshot.GraphDef.StateDef.Paths;
        var keys = new string[paths.Length];
        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            var p = paths[i];
            var slash = p.IndexOf('/', StringComparison.Ordinal);
            keys[i] = !tupleRoot ? p : slash < 0 ? p : p[(slash + 1)..];
            var root = tupleRoot ? int.Parse(slash < 0 ? p : p[..slash], CultureInfo.InvariantCulture) : 0;
            if (owner.TryGetValue(keys[i], out var other) && other != root)
                throw new ArgumentException(
                    $"Nnx.{op}: objects {other} ({roots[other].GetType().Name}) and {root} ({roots[root].GetType().Name}) both have the path '{keys[i]}'; " +
                    "save them in separate files, or hold them in one Module so their paths differ.");
            owner[keys[i]] = root;
        }
        return (snapshot, keys, [.. roots.Select(o => o.GetType().Name)]);
    }

    private static HostArray Download(Variable v, string key)
    {
        try
        {
            return v.RawValue.ToHost();
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"Nnx.Save: cannot read '{key}': {e.Message}", e);
        }
    }

    private static long? StepOf(GraphSnapshot snapshot)
    {
        foreach (var (_, module) in snapshot.Modules())
            if (module is Optimizer o && !o.Step.RawValue.IsSymbolic) return o.Step.RawValue.ToHost().GetLong(0);
        return null;
    }

    private static Type KindOf(string? name) => name switch
    {
        nameof(Param) => typeof(Param),
        nameof(BatchStat) => typeof(BatchStat),
        nameof(OptState) => typeof(OptState),
        nameof(RngKey) => typeof(RngKey),
        nameof(RngCount) => typeof(RngCount),
        nameof(MetricState) => typeof(MetricState),
        nameof(Cache) => typeof(Cache),
        nameof(Intermediate) => typeof(Intermediate),
        _ => typeof(Variable),
    };
}
