using NnxSharp.Backends;
using NnxSharp.Ir;

namespace NnxSharp;

/// <summary>
/// The engine behind <see cref="Jit.Pure{T1, TResult}"/>: pure trees. The staging core
/// (<see cref="StagedFunction{TKey, TEntry}"/>) keeps a cache from (argument structure, static values, leaf avals,
/// backend) to a compiled executable; a miss stages the function on symbolic trees. A call whose arguments match
/// the last entry (<see cref="CallKey.Matches"/>: structure, static values and avals compared in place) runs it
/// without building a key; any other call flattens its arguments into a key and looks it up.
/// </summary>
internal sealed class JitFunction : StagedFunction<JitFunction.CallKey, JitFunction.Compiled>
{
    private readonly int[] _donate;

    /// <summary>The entry the last call ran (the fast path's candidate).</summary>
    private Compiled? _last;

    /// <summary>A jit of <paramref name="function"/>; the arguments at the positions <paramref name="donate"/> are given up by callers.</summary>
    public JitFunction(Delegate function, int[]? donate = null)
        : base(function, "Jit.Pure")
    {
        var arity = ArgumentNames.Length;
        _donate = donate is null ? [] : [.. donate.Distinct().Order()];
        foreach (var d in _donate)
            if (d < 0 || d >= arity)
                throw new ArgumentOutOfRangeException(nameof(donate), d, $"Jit.Pure({function.Method.Name}): donated argument {d} is not a position of its {arity} argument(s).");
        Boxes = new ArgBoxes(arity);
    }

    /// <summary>The boxes of the last call's value-type arguments, reused for equal ones.</summary>
    public ArgBoxes Boxes { get; }

    /// <summary>
    /// Names for the compiled graph's inputs and outputs: each input by its parameter's name and its path in the
    /// argument (<c>s/linear/kernel</c>, <c>x</c>). A result (an element of a returned tuple, or the whole result)
    /// with the structure and avals of a tree argument (a State, a dictionary, a tuple of tensors) is that
    /// argument's next value: its outputs are <c>new/</c> and the input's name (<c>new/s/linear/kernel</c> feeds
    /// <c>s/linear/kernel</c> on the next step; the first such argument that no earlier result feeds). Any other
    /// result is named by its position and path (<c>out1</c>, <c>out0/w</c>), or <c>out</c> for a result that is not a tuple.
    /// </summary>
    public (string[] Inputs, string[] Outputs) LeafNames(Compiled compiled)
    {
        var defs = compiled.Key.Defs;
        var inputs = new List<string>();
        var argNames = new IReadOnlyList<string>[defs.Length];
        var argStart = new int[defs.Length];
        for (var i = 0; i < defs.Length; i++)
        {
            argStart[i] = inputs.Count;
            argNames[i] = defs[i].LeafNames(ArgumentNames[i]);
            inputs.AddRange(argNames[i]);
        }
        var outDef = compiled.OutputDef;
        var outputs = new List<string>();
        var fed = new bool[defs.Length];
        void Add(TreeDef result, string fallback)
        {
            var start = outputs.Count;
            for (var j = 0; j < defs.Length; j++)
            {
                if (fed[j] || defs[j].Kind == TreeKind.Leaf || defs[j].LeafCount == 0 || !defs[j].Equals(result)) continue;
                var same = true;
                for (var k = 0; k < result.LeafCount && same; k++)
                    same = compiled.Optimized.Outputs[start + k].Aval == compiled.Key.Avals[argStart[j] + k];
                if (!same) continue;
                fed[j] = true;
                outputs.AddRange(argNames[j].Select(n => "new/" + n));
                return;
            }
            outputs.AddRange(result.LeafNames(fallback));
        }
        if (outDef.Kind == TreeKind.Tuple)
            for (var i = 0; i < outDef.Children.Length; i++) Add(outDef.Children[i], $"out{i}");
        else
            Add(outDef, "out");
        return ([.. inputs], [.. outputs]);
    }

    /// <summary>Registers the user-facing delegate that calls this function.</summary>
    public TDelegate Expose<TDelegate>(TDelegate wrapper) where TDelegate : Delegate => JitRegistry.Expose(this, wrapper);

    /// <inheritdoc/>
    public override JitInspection Inspect(object?[] args)
    {
        JitArguments.Check("Jit.Lower/Export", Function, args);
        var compiled = Compile(args);
        var (inputs, outputs) = LeafNames(compiled);
        var fed = new HashSet<string>(outputs.Where(o => o.StartsWith("new/", StringComparison.Ordinal)).Select(o => o[4..]), StringComparer.Ordinal);
        return new JitInspection(compiled.Optimized, compiled.Stats, inputs, outputs, [.. inputs.Select(fed.Contains)], Flatten(args).Leaves);
    }

    /// <summary>
    /// Calls the function: the last entry when the arguments match it, else from the cache, tracing it first on a
    /// miss. Inside another trace or under a gradient it is inlined (<see cref="JitInlining"/>).
    /// </summary>
    public object? Call(ReadOnlySpan<object?> args)
    {
        if (!JitInlining.InTransform && Volatile.Read(ref _last) is { } last)
        {
            var room = last.Scratch.Take();
            try
            {
                if (last.Key.Matches(args, room.Leaves)) return Run(last, room);
            }
            finally
            {
                last.Scratch.GiveBack(room);
            }
        }
        var array = args.ToArray();
        var (key, leaves) = Flatten(array);
        if (JitInlining.ShouldInline(leaves)) return Invoke(array);
        var compiled = Lookup(key, (Jit: this, Key: key, Args: array), static s => s.Jit.Trace(s.Key, s.Args));
        Volatile.Write(ref _last, compiled);
        var fresh = compiled.Scratch.Take();
        try
        {
            leaves.CopyTo(fresh.Leaves);
            return Run(compiled, fresh);
        }
        finally
        {
            compiled.Scratch.GiveBack(fresh);
        }
    }

    /// <summary>Runs an entry on the call's tensors (in <paramref name="room"/>, which also holds the arrays the run needs).</summary>
    private object? Run(Compiled compiled, CallScratch.Room room)
    {
        var (leaves, inputs) = (room.Leaves, room.Buffers);
        for (var i = 0; i < inputs.Length; i++) inputs[i] = leaves[i].DeviceBuffer;
        DeviceBuffer[] results;
        try
        {
            results = compiled.Executable is not { } exe ? [] : compiled.DonatedLeaves.Length == 0 ? exe.Run(inputs) : RunDonating(compiled, exe, leaves, inputs, room.Results);
        }
        catch (BackendException e)
        {
            throw e.In($"Jit.Pure({Name}) with arguments ({string.Join(", ", compiled.Key.Avals)})");
        }
        if (JitOptions.DebugNans && results.Length > 0)
            NanCheck.Outputs($"Jit.Pure({Name})", results, [.. LeafNames(compiled).Outputs.Where((_, i) => compiled.Forward[i] < 0)]);
        var outs = room.Outputs;
        for (int i = 0, r = 0; i < outs.Length; i++)
            outs[i] = compiled.Forward[i] >= 0 ? leaves[compiled.Forward[i]] : Temporaries.Made(new Tensor(results[r++])); // an eager result, as Tensor.Apply's
        return Tree.Unflatten(compiled.OutputDef, outs);
    }

    /// <summary>
    /// Runs into buffers that earlier calls' donated arguments gave up (new ones the first time), then takes
    /// this call's donated leaves for later calls: their tensors become invalid. <paramref name="results"/> is room for the outputs.
    /// </summary>
    private DeviceBuffer[] RunDonating(Compiled compiled, Executable exe, Tensor[] leaves, DeviceBuffer[] inputs, DeviceBuffer[] results)
    {
        var outputs = exe.Graph.Outputs;
        for (var i = 0; i < results.Length; i++) results[i] = compiled.Donated.Take(outputs[i].Aval, compiled.Key.Backend);
        exe.RunInto(inputs, results);
        foreach (var leaf in compiled.DonatedLeaves)
            if (!IsReturned(compiled, leaves, leaves[leaf]) && leaves[leaf].Donate(Name) is { } buffer) compiled.Donated.Give(buffer);
        return results;
    }

    /// <summary>Whether the call returns this very tensor (passed through from another argument): it stays valid.</summary>
    private static bool IsReturned(Compiled compiled, Tensor[] leaves, Tensor t)
    {
        foreach (var f in compiled.Forward)
            if (f >= 0 && ReferenceEquals(leaves[f], t)) return true;
        return false;
    }

    /// <summary>The leaves of the donated arguments that are not returned as they are (those stay valid).</summary>
    private int[] DonatedLeaves(CallKey key, int[] forward)
    {
        var result = new List<int>();
        var offset = 0;
        for (var i = 0; i < key.Defs.Length; i++)
        {
            var n = key.Defs[i].LeafCount;
            if (_donate.Contains(i))
                for (var j = offset; j < offset + n; j++)
                    if (!forward.Contains(j)) result.Add(j);
            offset += n;
        }
        return [.. result];
    }

    /// <summary>The compiled form for these arguments (tracing on a miss).</summary>
    public Compiled Compile(object?[] args)
    {
        var key = Flatten(args).Key;
        return Lookup(key, (Jit: this, Key: key, Args: args), static s => s.Jit.Trace(s.Key, s.Args));
    }

    /// <inheritdoc/>
    protected override string ExplainMiss(CallKey previous, CallKey now) =>
        CacheMiss.Explain(previous.Defs, previous.Avals, now.Defs, now.Avals, ArgumentNames);

    private static (CallKey Key, List<Tensor> Leaves) Flatten(object?[] args)
    {
        var leaves = new List<Tensor>();
        var defs = new TreeDef[args.Length];
        for (var i = 0; i < args.Length; i++) defs[i] = Tree.Flatten(args[i], leaves);
        var avals = new Aval[leaves.Count];
        for (var i = 0; i < avals.Length; i++) avals[i] = leaves[i].Aval;
        // The function runs where its arguments are (the first tensor's device), else on the default device.
        var backend = leaves.Count > 0 && !leaves[0].IsSymbolic ? leaves[0].DeviceBuffer.Backend : Backend.Default;
        return (new CallKey(defs, avals, backend), leaves);
    }

    /// <summary>Stages the function on symbolic trees of the arguments' structure; outputs that are inputs unchanged are not compiled.</summary>
    private Compiled Trace(CallKey key, object?[] args)
    {
        JitArguments.Check("Jit.Pure", Function, args);
        TreeDef outDef = TreeDef.Null;
        var staged = Stage(key.Avals, key.Backend, symbolic =>
        {
            var symArgs = new object?[args.Length];
            var offset = 0;
            for (var i = 0; i < args.Length; i++)
            {
                var n = key.Defs[i].LeafCount;
                symArgs[i] = Tree.Unflatten(key.Defs[i], symbolic[offset..(offset + n)]);
                offset += n;
            }
            var outLeaves = new List<Tensor>();
            outDef = Tree.Flatten(Invoke(symArgs), outLeaves);
            return outLeaves;
        }, ComputedOutputs);
        // An output that is an input unchanged (state the function did not touch) is returned as the caller's
        // own tensor: tensors are immutable, so there is nothing to copy.
        var forward = Forward(staged.Optimized);
        return new Compiled(key, staged.Optimized, staged.Executable, forward, outDef, staged.Stats, DonatedLeaves(key, forward), new DonatedBuffers(),
            new CallScratch(key.Avals.Length, staged.Executable?.Graph.Outputs.Length ?? 0, forward.Length));
    }

    /// <summary>Per output, the index of the input it is (passed through unchanged), else −1.</summary>
    private static int[] Forward(Graph optimized) => [.. optimized.Outputs.Select(v => optimized.Inputs.IndexOf(v))];

    /// <summary>The graph of the outputs that are computed (not inputs passed through).</summary>
    private static Graph ComputedOutputs(Graph optimized)
    {
        var forward = Forward(optimized);
        return optimized.With(optimized.Nodes, [.. optimized.Outputs.Where((_, i) => forward[i] < 0)]);
    }

    /// <summary>
    /// One cache entry: the optimised graph, the executable of the outputs that are computed (null when none is), which
    /// outputs are inputs passed through (their input index, else −1), the output structure, the leaves that calls
    /// give up (donated arguments), the buffers they gave, and the fast path's room for one call's tensors.
    /// </summary>
    internal sealed record Compiled(CallKey Key, Graph Optimized, Executable? Executable, int[] Forward, TreeDef OutputDef, CompileStats Stats,
        int[] DonatedLeaves, DonatedBuffers Donated, CallScratch Scratch);

    /// <summary>
    /// Room for one call: its argument tensors and their buffers, the donated path's output buffers and the outputs
    /// before they are rebuilt into the result's tree, so that a cached call allocates none of these arrays. One
    /// caller holds the pooled room at a time (a caller on another thread meanwhile gets a new one); it is cleared
    /// when given back, so it keeps no tensor alive.
    /// </summary>
    internal sealed class CallScratch(int leaves, int computed, int outputs)
    {
        private Room? _room;

        /// <summary>The pooled room, or a new one while another call holds it.</summary>
        public Room Take() => Interlocked.Exchange(ref _room, null) ?? new Room(new Tensor[leaves], new DeviceBuffer[leaves], new DeviceBuffer[computed], new Tensor[outputs]);

        /// <summary>Clears a room and pools it.</summary>
        public void GiveBack(Room room)
        {
            Array.Clear(room.Leaves);
            Array.Clear(room.Buffers);
            Array.Clear(room.Results);
            Array.Clear(room.Outputs);
            Volatile.Write(ref _room, room);
        }

        /// <summary>The arrays: a call's tensors and their buffers, the computed outputs' buffers, and every output.</summary>
        public sealed record Room(Tensor[] Leaves, DeviceBuffer[] Buffers, DeviceBuffer[] Results, Tensor[] Outputs);
    }

    /// <summary>The cache key: each argument's tree structure (static values included) and every leaf's aval.</summary>
    internal sealed class CallKey(TreeDef[] defs, Aval[] avals, IBackend backend) : IEquatable<CallKey>
    {
        private readonly int _hash = Hash(defs, avals, backend);

        public IBackend Backend { get; } = backend;

        public TreeDef[] Defs { get; } = defs;

        public Aval[] Avals { get; } = avals;

        public bool Equals(CallKey? other) =>
            other is not null && _hash == other._hash && Backend == other.Backend && Defs.AsSpan().SequenceEqual(other.Defs) && Avals.AsSpan().SequenceEqual(other.Avals);

        public override bool Equals(object? obj) => Equals(obj as CallKey);

        /// <summary>
        /// True when a call with <paramref name="args"/> has this key: each argument matches its tree structure and
        /// static values in place (<see cref="TreeMatch"/>), its tensors are concrete with these avals (written to
        /// <paramref name="leaves"/>) and the first lives on this backend. Allocates nothing.
        /// </summary>
        public bool Matches(ReadOnlySpan<object?> args, Span<Tensor> leaves)
        {
            if (args.Length != Defs.Length || leaves.Length != Avals.Length) return false;
            var next = 0;
            for (var i = 0; i < args.Length; i++)
                if (!TreeMatch.Matches(args[i], Defs[i], Avals, leaves, ref next)) return false;
            return (leaves.Length > 0 ? leaves[0].DeviceBuffer.Backend : NnxSharp.Backends.Backend.Default) == Backend;
        }

        public override int GetHashCode() => _hash;

        private static int Hash(TreeDef[] defs, Aval[] avals, IBackend backend)
        {
            var h = new HashCode();
            h.Add(backend);
            foreach (var d in defs) h.Add(d);
            foreach (var a in avals) h.Add(a);
            return h.ToHashCode();
        }
    }
}
