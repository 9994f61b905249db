using System.Diagnostics;
using System.Reflection;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;

namespace NnxSharp;

/// <summary>
/// The engine behind <see cref="Jit.Pure{T1, TResult}"/>: a cache from (argument structure, static values,
/// leaf avals) to a compiled executable. A miss traces the function on symbolic tensors, optimises the
/// graph and compiles it; a hit flattens the arguments and runs.
/// </summary>
internal sealed class JitFunction : IJitted
{
    private readonly Delegate _function;
    private readonly TraceCache<CallKey, Compiled> _cache = new();
    private int _traceCount;

    private readonly int[] _donate;

    /// <summary>A jit of <paramref name="function"/>; the arguments at the positions <paramref name="donate"/> are given up by callers.</summary>
    public JitFunction(Delegate function, int[]? donate = null)
    {
        _function = function;
        var arity = function.Method.GetParameters().Length;
        _donate = donate is null ? [] : [.. donate.Distinct().Order()];
        foreach (var d in _donate)
            if (d < 0 || d >= arity)
                throw new ArgumentOutOfRangeException(nameof(donate), d, $"Jit.Pure({function.Method.Name}): donated argument {d} is not a position of its {arity} argument(s).");
    }

    /// <summary>How many times the function has been traced.</summary>
    public int TraceCount => Volatile.Read(ref _traceCount);

    /// <summary>The function's name, for exported models' doc strings.</summary>
    public string Name => _function.Method.Name;

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
        var parameters = _function.Method.GetParameters();
        var defs = compiled.Key.Defs;
        var inputs = new List<string>();
        var argNames = new IReadOnlyList<string>[defs.Length];
        var argStart = new int[defs.Length];
        for (var i = 0; i < defs.Length; i++)
        {
            var name = i < parameters.Length && !string.IsNullOrEmpty(parameters[i].Name) ? parameters[i].Name! : $"arg{i}";
            argStart[i] = inputs.Count;
            argNames[i] = defs[i].LeafNames(name);
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

    /// <summary>The statistics of the most recent compilation.</summary>
    public CompileStats? LastStats { get; private set; }

    /// <summary>Registers the user-facing delegate that calls this function.</summary>
    public TDelegate Expose<TDelegate>(TDelegate wrapper) where TDelegate : Delegate => JitRegistry.Expose(this, wrapper);

    /// <inheritdoc/>
    public JitInspection Inspect(object?[] args)
    {
        JitArguments.Check("Jit.Lower/Export", _function, args);
        var compiled = Compile(args);
        var (inputs, outputs) = LeafNames(compiled);
        var fed = new HashSet<string>(outputs.Where(o => o.StartsWith("new/", StringComparison.Ordinal)).Select(o => o[4..]), StringComparer.Ordinal);
        return new JitInspection(compiled.Optimized, compiled.Stats, inputs, outputs, [.. inputs.Select(fed.Contains)], Flatten(args).Leaves);
    }

    /// <summary>Calls the function: from the cache, or tracing it first. Inside another trace or under a gradient it is inlined (<see cref="JitInlining"/>).</summary>
    public object? Call(object?[] args)
    {
        var (key, leaves) = Flatten(args);
        if (JitInlining.ShouldInline(leaves)) return Invoke(args);
        var compiled = Lookup(key, args);
        var buffers = new DeviceBuffer[leaves.Count];
        for (var i = 0; i < buffers.Length; i++) buffers[i] = leaves[i].DeviceBuffer;
        DeviceBuffer[] results;
        try
        {
            results = compiled.Executable is not { } exe ? [] : compiled.DonatedLeaves.Length == 0 ? exe.Run(buffers) : RunDonating(compiled, exe, leaves, buffers);
        }
        catch (BackendException e)
        {
            throw e.In($"Jit.Pure({Name}) with arguments ({string.Join(", ", key.Avals)})");
        }
        if (JitOptions.DebugNans && results.Length > 0)
            NanCheck.Outputs($"Jit.Pure({Name})", results, [.. LeafNames(compiled).Outputs.Where((_, i) => compiled.Forward[i] < 0)]);
        var outs = new Tensor[compiled.Forward.Length];
        for (int i = 0, r = 0; i < outs.Length; i++)
            outs[i] = compiled.Forward[i] >= 0 ? leaves[compiled.Forward[i]] : new Tensor(results[r++]);
        return Tree.Unflatten(compiled.OutputDef, outs);
    }

    /// <summary>
    /// Runs into buffers that earlier calls' donated arguments gave up (new ones the first time), then takes
    /// this call's donated leaves for later calls: their tensors become invalid.
    /// </summary>
    private DeviceBuffer[] RunDonating(Compiled compiled, Executable exe, List<Tensor> leaves, DeviceBuffer[] inputs)
    {
        var outputs = exe.Graph.Outputs;
        var results = new DeviceBuffer[outputs.Length];
        for (var i = 0; i < results.Length; i++) results[i] = compiled.Donated.Take(outputs[i].Aval, compiled.Key.Backend);
        exe.RunInto(inputs, results);
        foreach (var leaf in compiled.DonatedLeaves)
            if (!IsReturned(compiled, leaves, leaves[leaf]) && leaves[leaf].Donate(Name) is { } buffer) compiled.Donated.Give(buffer);
        return results;
    }

    /// <summary>Whether the call returns this very tensor (passed through from another argument): it stays valid.</summary>
    private static bool IsReturned(Compiled compiled, List<Tensor> leaves, Tensor t)
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
    public Compiled Compile(object?[] args) => Lookup(Flatten(args).Key, args);

    /// <summary>How many compiled entries the cache holds, and how many it dropped (least recently used first).</summary>
    public (int Entries, int Evictions) CacheInfo => (_cache.Count, _cache.Evictions);

    // No lock is held while the function is traced: the cache locks only to look up and to publish.
    private Compiled Lookup(CallKey key, object?[] args)
    {
        if (_cache.TryGet(key, out var hit)) return hit;
        if (JitOptions.ExplainCacheMisses)
            JitOptions.Explain(() => $"Jit.Pure({Name}): tracing{(TraceCount == 0 ? " for the first time" : "")}: " +
                (_cache.TryGetMostRecent(out var previous) ? CacheMiss.Explain(previous.Defs, previous.Avals, key.Defs, key.Avals, ParameterNames()) : "no earlier call"));
        return _cache.GetOrTrace(key, () => Trace(key, args));
    }

    private string[] ParameterNames() =>
        [.. _function.Method.GetParameters().Select((p, i) => string.IsNullOrEmpty(p.Name) ? $"arg{i}" : p.Name!)];

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

    private object? Invoke(object?[] args)
    {
        try
        {
            return _function.DynamicInvoke(args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfoThrow(e.InnerException);
            throw;
        }
    }

    private static void ExceptionDispatchInfoThrow(Exception e) => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();

    private Compiled Trace(CallKey key, object?[] args)
    {
        JitArguments.Check("Jit.Pure", _function, args);
        Interlocked.Increment(ref _traceCount);
        var watch = Stopwatch.StartNew();
        Graph graph;
        TreeDef outDef;
        TimeSpan autodiff;
        using (var scope = TraceBuilder.Begin())
        {
            var symbolic = key.Avals.Select(scope.Builder.AddInput).ToArray();
            var symArgs = new object?[args.Length];
            var offset = 0;
            for (var i = 0; i < args.Length; i++)
            {
                var n = key.Defs[i].LeafCount;
                symArgs[i] = Tree.Unflatten(key.Defs[i], symbolic[offset..(offset + n)]);
                offset += n;
            }
            var autodiffBefore = Autodiff.ElapsedOnThisThread;
            var result = Invoke(symArgs);
            autodiff = Autodiff.ElapsedOnThisThread - autodiffBefore;
            var outLeaves = new List<Tensor>();
            outDef = Tree.Flatten(result, outLeaves);
            graph = scope.Builder.Finish(outLeaves);
        }
        var traceTime = watch.Elapsed;
        watch.Restart();
        var optimized = PassPipeline.Optimize(graph);
        var passTime = watch.Elapsed;
        // An output that is an input unchanged (state the function did not touch) is returned as the caller's
        // own tensor: tensors are immutable, so there is nothing to copy.
        var forward = optimized.Outputs.Select(v => optimized.Inputs.IndexOf(v)).ToArray();
        var computed = optimized.With(optimized.Nodes, [.. optimized.Outputs.Where((_, i) => forward[i] < 0)]);
        var exe = computed.Outputs.Length == 0 ? null : key.Backend.Compile(computed);
        LastStats = new CompileStats(traceTime, autodiff, passTime, exe?.LoweringTime ?? TimeSpan.Zero, exe?.LoadTime ?? TimeSpan.Zero,
            graph.Nodes.Length, optimized.Nodes.Length, exe?.LoweredNodeCount ?? 0);
        return new Compiled(key, optimized, exe, forward, outDef, LastStats, DonatedLeaves(key, forward), new DonatedBuffers());
    }

    /// <summary>
    /// One cache entry: the optimised graph, the executable of the outputs that are computed (null when none is), which
    /// outputs are inputs passed through (their input index, else −1), the output structure, the leaves that calls
    /// give up (donated arguments) and the buffers they gave.
    /// </summary>
    internal sealed record Compiled(CallKey Key, Graph Optimized, Executable? Executable, int[] Forward, TreeDef OutputDef, CompileStats Stats,
        int[] DonatedLeaves, DonatedBuffers Donated);

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
