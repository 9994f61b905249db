using NnxSharp.Backends;

namespace NnxSharp;

/// <summary>One call's arguments taken apart: kinds, the module roots and their snapshot, tensor leaves and the key.</summary>
internal sealed class CallShape(ArgKind[] kinds, object[] roots, GraphSnapshot? snapshot, List<Tensor> leaves, StepKey key, string[] names)
{
    public ArgKind[] Kinds { get; } = kinds;

    /// <summary>The module arguments, in order.</summary>
    public object[] Roots { get; } = roots;

    /// <summary>The current snapshot of the roots (null without module arguments).</summary>
    public GraphSnapshot? Snapshot { get; } = snapshot;

    /// <summary>The tensors of the non-module arguments, in order.</summary>
    public List<Tensor> Leaves { get; } = leaves;

    public StepKey Key { get; } = key;

    /// <summary>Takes the arguments apart. A symbolic tensor here means one escaped from a trace.</summary>
    public static CallShape Of(object?[] args, string[] names)
    {
        var kinds = new ArgKind[args.Length];
        var roots = new List<object>();
        var trees = new TreeDef?[args.Length];
        var leaves = new List<Tensor>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is Module or Variable)
            {
                kinds[i] = ArgKind.Graph;
                roots.Add(args[i]!);
                continue;
            }
            kinds[i] = ArgKind.Tree;
            var start = leaves.Count;
            trees[i] = Tree.Flatten(args[i], leaves);
            for (var j = start; j < leaves.Count; j++)
                if (leaves[j].IsSymbolic)
                    throw new ArgumentException(
                        $"Nnx.Jit: argument {names[i]} holds a symbolic tensor {leaves[j].Aval} outside its trace (did it escape from a traced function?).");
        }
        var rootArray = roots.ToArray();
        var snapshot = rootArray.Length == 0 ? null : GraphSnapshot.For(rootArray, tupleRoot: rootArray.Length > 1);
        if (snapshot is not null)
            for (var v = 0; v < snapshot.Variables.Length; v++)
                if (snapshot.Variables[v].RawValue.IsDisposed)
                    throw new ObjectDisposedException(nameof(Tensor),
                        $"Nnx.Jit: variable '{snapshot.GraphDef.StateDef.Paths[v]}' of the module arguments holds a disposed tensor {snapshot.Variables[v].RawValue.Aval}; assign it a new tensor first.");
        for (var j = 0; j < leaves.Count; j++)
            if (leaves[j].IsDisposed)
                throw new ObjectDisposedException(nameof(Tensor), $"Nnx.Jit: a tensor argument ({leaves[j].Aval}, leaf {j}) was disposed.");
        var avals = new Aval[leaves.Count];
        for (var i = 0; i < avals.Length; i++) avals[i] = leaves[i].Aval;
        // The step runs where its state is: the first variable's or tensor's device, else the default one.
        var backend = snapshot is { Variables.Length: > 0 } ? snapshot.Variables[0].RawValue.DeviceBuffer.Backend
            : leaves.Count > 0 ? leaves[0].DeviceBuffer.Backend
            : NnxSharp.Backends.Backend.Default;
        return new CallShape(kinds, rootArray, snapshot, leaves, new StepKey(snapshot?.GraphDef, trees, avals, backend), names);
    }

    /// <summary>
    /// Names of the compiled graph's inputs and outputs: a variable by its argument's name and path
    /// (<c>model/linear/kernel</c>; a variable shared by two arguments is named after the first), a tensor by
    /// its argument's name and tree path (<c>x</c>, <c>batch/0</c>); a changed variable's new value as
    /// <c>new/</c> and its path; results <c>out</c>, or <c>out0</c>, <c>out1</c>… for a tuple.
    /// </summary>
    public (string[] Inputs, string[] Outputs) Names(int[] changed, TreeDef resultDef)
    {
        var variablePaths = VariableNames();
        var inputs = new List<string>(variablePaths);
        for (var i = 0; i < Kinds.Length; i++)
            if (Kinds[i] != ArgKind.Graph) inputs.AddRange(Key.Trees[i]!.LeafNames(names[i]));
        var outputs = changed.Select(c => $"new/{variablePaths[c]}").ToList();
        outputs.AddRange(resultDef.Kind == TreeKind.Tuple
            ? resultDef.Children.SelectMany((c, i) => c.LeafNames($"out{i}"))
            : resultDef.LeafNames("out"));
        return ([.. inputs], [.. outputs]);
    }

    private string[] VariableNames()
    {
        if (Snapshot is null) return [];
        var paths = Snapshot.GraphDef.StateDef.Paths;
        var graphArgs = Enumerable.Range(0, Kinds.Length).Where(i => Kinds[i] == ArgKind.Graph).ToArray();
        return [.. paths.Select(p =>
        {
            if (Roots.Length == 1) return p.Length == 0 ? names[graphArgs[0]] : $"{names[graphArgs[0]]}/{p}";
            var slash = p.IndexOf('/', StringComparison.Ordinal);
            var root = int.Parse(slash < 0 ? p : p[..slash], System.Globalization.CultureInfo.InvariantCulture);
            return slash < 0 ? names[graphArgs[root]] : $"{names[graphArgs[root]]}/{p[(slash + 1)..]}";
        })];
    }
}
