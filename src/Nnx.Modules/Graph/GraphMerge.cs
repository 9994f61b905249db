using System.Collections;

namespace NnxSharp;

/// <summary>Merge (new objects from a GraphDef and states) and Update (values written into existing variables).</summary>
internal static class GraphMerge
{
    /// <summary>
    /// Rebuilds the object graph of <paramref name="def"/> holding the values of <paramref name="states"/>:
    /// new modules (created without running their constructors; every field set from the GraphDef), new
    /// variables and containers, with the recorded sharing. Returns the root, or the roots when there are several.
    /// </summary>
    public static object Merge(GraphDef def, State[] states)
    {
        var values = Resolve(def, states);
        var nodes = def.Nodes;
        var objects = new object?[nodes.Length];
        for (var i = 0; i < nodes.Length; i++)
        {
            ref readonly var n = ref nodes[i];
            switch (n.Kind)
            {
                case NodeKind.Module:
                    objects[i] = n.NodeType.CreateUninitialized();
                    break;
                case NodeKind.Variable:
                    var v = (Variable)n.NodeType.CreateUninitialized();
                    v.Init(values[n.VariableIndex], n.Metadata);
                    objects[i] = v;
                    break;
                case NodeKind.List or NodeKind.Array:
                    objects[i] = n.NodeType.NewList!(n.SlotCount);
                    break;
                case NodeKind.Dictionary:
                    objects[i] = n.NodeType.NewDictionary!();
                    break;
                case NodeKind.Tuple:
                    objects[i] = new object[n.SlotCount];
                    break;
            }
        }
        // Every object exists before any is filled, so shared nodes and cycles are plain references.
        var slots = def.Slots;
        for (var i = 0; i < nodes.Length; i++)
        {
            ref readonly var n = ref nodes[i];
            var obj = objects[i]!;
            switch (n.Kind)
            {
                case NodeKind.Module:
                    var fieldValues = new object?[n.SlotCount];
                    for (var j = 0; j < fieldValues.Length; j++) fieldValues[j] = SlotValue(slots[n.SlotStart + j], objects);
                    n.NodeType.SetFields!(obj, fieldValues);
                    break;
                case NodeKind.List:
                    for (var j = 0; j < n.SlotCount; j++) ((IList)obj).Add(SlotValue(slots[n.SlotStart + j], objects));
                    break;
                case NodeKind.Array or NodeKind.Tuple:
                    for (var j = 0; j < n.SlotCount; j++) ((IList)obj)[j] = SlotValue(slots[n.SlotStart + j], objects);
                    break;
                case NodeKind.Dictionary:
                    for (var j = 0; j < n.SlotCount; j++) ((IDictionary)obj).Add(slots[n.SlotStart + j].Name, SlotValue(slots[n.SlotStart + j], objects));
                    break;
            }
        }
        return objects[0]!;
    }

    private static object? SlotValue(in SlotDef slot, object?[] objects) => slot.Node >= 0 ? objects[slot.Node] : StaticValue.Restore(slot.Static);

    /// <summary>
    /// The tensor for each variable of <paramref name="def"/>, in state order, checked: every path present,
    /// of the recorded kind and aval, and no path the GraphDef does not have. A later state wins a repeated path.
    /// </summary>
    private static Tensor[] Resolve(GraphDef def, State[] states)
    {
        var want = def.StateDef;
        var values = new Tensor[want.Count];
        if (states.Length == 1 && states[0].Def.Equals(want))
        {
            Array.Copy(states[0].ValueArray, values, values.Length);
        }
        else
        {
            var found = 0;
            for (var s = states.Length - 1; s >= 0; s--)
                for (var k = 0; k < states[s].Count; k++)
                {
                    var path = states[s].Def.Paths[k];
                    var i = want.IndexOf(path);
                    if (i < 0)
                        throw new ArgumentException(
                            $"Merge: the state has '{path}' ({states[s].Def.Kinds[k].Name} {states[s].ValueArray[k].Aval}), which the GraphDef does not; " +
                            $"its paths are {NnxSharp.State.Describe(want.Paths)}.");
                    if (values[i] is not null) continue;
                    if (states[s].Def.Kinds[k] != want.Kinds[i])
                        throw new ArgumentException($"Merge: '{path}' is a {want.Kinds[i].Name} in the GraphDef but a {states[s].Def.Kinds[k].Name} in the state.");
                    values[i] = states[s].ValueArray[k];
                    found++;
                }
            if (found < values.Length)
            {
                var missing = Enumerable.Range(0, values.Length).Where(i => values[i] is null).ToList();
                var first = def.Nodes.First(n => n.Kind == NodeKind.Variable && n.VariableIndex == missing[0]);
                throw new ArgumentException(
                    $"Merge: the state has no value for '{want.Paths[missing[0]]}' ({want.Kinds[missing[0]].Name} {first.Aval}), which the GraphDef needs" +
                    (missing.Count > 1 ? $"; also missing: {NnxSharp.State.Describe(missing.Skip(1).Select(i => want.Paths[i]).ToList())}." : "."));
            }
        }
        foreach (ref readonly var n in def.Nodes.AsSpan())
        {
            if (n.Kind != NodeKind.Variable) continue;
            var have = values[n.VariableIndex].Aval;
            if (!have.Equals(n.Aval))
                throw new ArgumentException(
                    $"Merge: '{want.Paths[n.VariableIndex]}' is {n.Aval} (shape {n.Aval!.Shape}) in the GraphDef but {have} (shape {have.Shape}) in the state.");
        }
        return values;
    }

    /// <summary>
    /// Writes the states' values into the snapshot's variables, by path. Everything is checked first (each path
    /// exists in the graph, with the same kind and aval), so a failed update changes nothing.
    /// </summary>
    public static void Update(GraphSnapshot snapshot, State[] states)
    {
        var def = snapshot.GraphDef.StateDef;
        var targets = new List<(Variable Variable, Tensor Value)>();
        foreach (var s in states)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(states));
            for (var k = 0; k < s.Count; k++)
            {
                var path = s.Def.Paths[k];
                var i = ReferenceEquals(s.Def, def) ? k : def.IndexOf(path);
                if (i < 0)
                    throw new ArgumentException($"Update: the state has '{path}', which is not in the object graph; its paths are {NnxSharp.State.Describe(def.Paths)}.");
                if (s.Def.Kinds[k] != def.Kinds[i])
                    throw new ArgumentException($"Update: '{path}' is a {def.Kinds[i].Name} in the object graph but a {s.Def.Kinds[k].Name} in the state.");
                var variable = snapshot.Variables[i];
                var value = s.ValueArray[k];
                if (!value.Aval.Equals(variable.Aval))
                    throw new ArgumentException(
                        $"Update: '{path}' is {variable.Aval} (shape {variable.Shape}) in the object graph but {value.Aval} (shape {value.Shape}) in the state.");
                targets.Add((variable, value));
            }
        }
        foreach (var (variable, value) in targets) variable.Value = value;
    }
}
