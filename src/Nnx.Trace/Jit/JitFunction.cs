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

    public JitFunction(Delegate function) => _function = function;

    /// <summary>How many times the function has been traced.</summary>
    public int TraceCount => Volatile.Read(ref _traceCount);

    /// <summary>The function's name, for exported models' doc strings.</summary>
    public string Name => _function.Method.Name;

    /// <summary>
    /// Names for the compiled graph's inputs and outputs: each input by its parameter's name and its path in the
    /// argument (<c>s/linear/kernel</c>, <c>x</c>), each output by its position in a returned tuple and path
    /// (<c>out0/linear/kernel</c>, <c>out1</c>), or <c>out</c> and its path for a result that is not a tuple.
    /// </summary>
    public (string[] Inputs, string[] Outputs) LeafNames(Compiled compiled)
    {
        var parameters = _function.Method.GetParameters();
        var inputs = new List<string>();
        for (var i = 0; i < compiled.Key.Defs.Length; i++)
        {
            var name = i < parameters.Length && !string.IsNullOrEmpty(parameters[i].Name) ? parameters[i].Name! : $"arg{i}";
            inputs.AddRange(compiled.Key.Defs[i].LeafNames(name));
        }
        var outDef = compiled.OutputDef;
        var outputs = new List<string>();
        if (outDef.Kind == TreeKind.Tuple)
            for (var i = 0; i < outDef.Children.Length; i++) outputs.AddRange(outDef.Children[i].LeafNames($"out{i}"));
        else
            outputs.AddRange(outDef.LeafNames("out"));
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
        return new JitInspection(compiled.Optimized, compiled.Stats, inputs, outputs);
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
            results = compiled.Executable?.Run(buffers) ?? [];
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
        var optimized = Optimizer.Optimize(graph);
        var passTime = watch.Elapsed;
        // An output that is an input unchanged (state the function did not touch) is returned as the caller's
        // own tensor: tensors are immutable, so there is nothing to copy.
        var forward = optimized.Outputs.Select(v => optimized.Inputs.IndexOf(v)).ToArray();
        var computed = optimized.With(optimized.Nodes, [.. optimized.Outputs.Where((_, i) => forward[i] < 0)]);
        var exe = computed.Outputs.Length == 0 ? null : key.Backend.Compile(computed);
        LastStats = new CompileStats(traceTime, autodiff, passTime, exe?.LoweringTime ?? TimeSpan.Zero, exe?.LoadTime ?? TimeSpan.Zero,
            graph.Nodes.Length, optimized.Nodes.Length, exe?.LoweredNodeCount ?? 0);
        return new Compiled(key, optimized, exe, forward, outDef, LastStats);
    }

    /// <summary>
    /// One cache entry: the optimised graph, the executable of the outputs that are computed (null when none is), which
    /// outputs are inputs passed through (their input index, else −1), and the output structure.
    /// </summary>
    internal sealed record Compiled(CallKey Key, Graph Optimized, Executable? Executable, int[] Forward, TreeDef OutputDef, CompileStats Stats);

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
