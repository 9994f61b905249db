using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;

namespace NnxSharp;

/// <summary>
/// The staging core both jits share (<see cref="JitFunction"/> for <c>Jit.Pure</c>, <c>ModuleJit</c> for
/// <c>Nnx.Jit</c>): the user's function and its argument names, the trace cache and the explanation of its
/// misses, calling the function (unwrapping <see cref="TargetInvocationException"/>), and
/// <see cref="Stage"/>: one trace of a body on symbolic inputs, the passes, the compilation and its
/// <see cref="CompileStats"/>. A subclass says only how its arguments become symbolic inputs and what the
/// graph's outputs are: a pure tree (arguments in, results out) or an object graph (variables in, changed
/// variables and results out).
/// </summary>
/// <typeparam name="TKey">The cache key: argument structure, static values, leaf avals and backend.</typeparam>
/// <typeparam name="TEntry">One compiled entry.</typeparam>
internal abstract class StagedFunction<TKey, TEntry> : IJitted
    where TKey : notnull
{
    private readonly TraceCache<TKey, TEntry> _cache = new();
    private int _traceCount;
    private CompileStats? _lastStats;

    /// <summary>A staged function for <paramref name="function"/>; <paramref name="jit"/> names the jit in messages (<c>Jit.Pure</c>, <c>Nnx.Jit</c>).</summary>
    protected StagedFunction(Delegate function, string jit)
    {
        Function = function;
        Jit = jit;
        ArgumentNames = JitArguments.Names(function);
    }

    /// <summary>The user's function.</summary>
    public Delegate Function { get; }

    /// <summary>The jit's name in messages: <c>Jit.Pure</c> or <c>Nnx.Jit</c>.</summary>
    public string Jit { get; }

    /// <summary>Each parameter's name (<c>arg{i}</c> when it has none): the first segment of input names and the subject of errors.</summary>
    public string[] ArgumentNames { get; }

    /// <inheritdoc/>
    public string Name => Function.Method.Name;

    /// <inheritdoc/>
    public int TraceCount => Volatile.Read(ref _traceCount);

    /// <inheritdoc/>
    public CompileStats? LastStats => Volatile.Read(ref _lastStats);

    /// <summary>How many compiled entries the cache holds, and how many it dropped (least recently used first).</summary>
    public (int Entries, int Evictions) CacheInfo => (_cache.Count, _cache.Evictions);

    /// <inheritdoc/>
    public abstract JitInspection Inspect(object?[] args);

    /// <summary>
    /// The entry for <paramref name="key"/>: from the cache, or traced by <paramref name="trace"/> (with no lock held)
    /// after saying why when <see cref="JitOptions.ExplainCacheMisses"/> is on. No closure is made on a hit.
    /// </summary>
    protected TEntry Lookup<TState>(TKey key, TState state, Func<TState, TEntry> trace)
    {
        if (_cache.TryGet(key, out var hit)) return hit;
        if (JitOptions.ExplainCacheMisses)
        {
            var why = _cache.TryGetMostRecent(out var previous) ? ExplainMiss(previous, key) : "no earlier call";
            JitOptions.Log($"{Jit}({Name}): tracing{(TraceCount == 0 ? " for the first time" : "")}: {why}");
        }
        return _cache.GetOrTrace(key, state, trace);
    }

    /// <summary>Why <paramref name="now"/> missed when <paramref name="previous"/> was the most recent key: the first argument, static value or leaf that changed.</summary>
    protected abstract string ExplainMiss(TKey previous, TKey now);

    /// <summary>Runs the user's function on <paramref name="args"/> (tracing, or inlined); its own exception comes out as it is.</summary>
    public object? Invoke(object?[] args)
    {
        try
        {
            return Function.DynamicInvoke(args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>
    /// Stages a body: opens a trace with one symbolic input per aval of <paramref name="inputs"/>, runs
    /// <paramref name="body"/> on them (it returns the graph's outputs), runs the passes and compiles for
    /// <paramref name="backend"/> the part <paramref name="toCompile"/> picks of the optimised graph (all of it by
    /// default; no executable when that part has no outputs). Counts the trace and records its statistics.
    /// </summary>
    protected Staged Stage(IReadOnlyList<Aval> inputs, IBackend backend, Func<Tensor[], IReadOnlyList<Tensor>> body, Func<Graph, Graph>? toCompile = null)
    {
        Interlocked.Increment(ref _traceCount);
        var watch = Stopwatch.StartNew();
        Graph graph;
        TimeSpan autodiff;
        using (var scope = TraceBuilder.Begin())
        {
            var symbolic = new Tensor[inputs.Count];
            for (var i = 0; i < symbolic.Length; i++) symbolic[i] = scope.Builder.AddInput(inputs[i]);
            var autodiffBefore = Autodiff.ElapsedOnThisThread;
            var outputs = body(symbolic);
            autodiff = Autodiff.ElapsedOnThisThread - autodiffBefore;
            graph = scope.Builder.Finish(outputs);
        }
        var traceTime = watch.Elapsed;
        watch.Restart();
        var optimized = PassPipeline.Optimize(graph);
        var passTime = watch.Elapsed;
        var compiled = toCompile is null ? optimized : toCompile(optimized);
        var exe = compiled.Outputs.Length == 0 ? null : backend.Compile(compiled);
        var stats = new CompileStats(traceTime, autodiff, passTime, exe?.LoweringTime ?? TimeSpan.Zero, exe?.LoadTime ?? TimeSpan.Zero,
            graph.Nodes.Length, optimized.Nodes.Length, exe?.LoweredNodeCount ?? 0);
        Volatile.Write(ref _lastStats, stats);
        return new Staged(optimized, exe, stats);
    }
}

/// <summary>A staged body: the graph after the passes, the executable of the part that was compiled (null when it has no outputs), and the statistics.</summary>
internal sealed record Staged(Graph Optimized, Executable? Executable, CompileStats Stats);
