using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;

namespace NnxSharp;

/// <summary>
/// The engine behind <see cref="Nnx.Jit{T1, TResult}(Func{T1, TResult})"/>: a jit over functions of modules
/// (any object graph), tensors, trees of tensors and static values. Arguments that are modules or variables
/// are graph roots, split together (a model shared by an optimizer is one node); their variables are the
/// step's state. A call whose roots are the objects of the last call, with an unchanged structure (one
/// allocation-free check) and plain tensors of the same avals, goes straight to the executable: inputs
/// and outputs are bound once, every variable the step changed gets its new tensor, and the buffer it
/// held is reused for the next call's output when nobody else can see it. Anything else computes the
/// cache key (GraphDef, trees, avals) and traces on a miss.
/// </summary>
internal sealed class ModuleJit : IJitted
{
    private readonly Delegate _function;
    private readonly object _gate = new();
    private readonly TraceCache<StepKey, CompiledStep> _cache = new();
    private CompiledStep? _last;

    /// <summary>The modules and variables of calls that are being prepared (looked up, or traced) now, guarded by <c>_gate</c>.</summary>
    private readonly HashSet<object> _preparing = new(ReferenceEqualityComparer.Instance);
    private int _traceCount;

    public ModuleJit(Delegate function) => _function = function;

    /// <inheritdoc/>
    public string Name => _function.Method.Name;

    /// <inheritdoc/>
    public int TraceCount => Volatile.Read(ref _traceCount);

    /// <inheritdoc/>
    public CompileStats? LastStats { get; private set; }

    /// <summary>Calls the function: from the cache, tracing it first on a miss; inside another trace or under a gradient it is inlined (<see cref="JitInlining"/>).</summary>
    public object? Call(ReadOnlySpan<object?> args)
    {
        if (JitInlining.InTransform && JitInlining.ShouldInline(Leaves(args.ToArray()))) return Invoke(args.ToArray());
        // The lock guards the bound step's buffers; it is never held while the user's function is traced. A call
        // whose modules another thread is tracing (their variables hold symbolic tensors until the trace ends)
        // waits for that trace; calls on other objects go on.
        lock (_gate)
        {
            while (_preparing.Count > 0 && UsesAny(args, _preparing)) Monitor.Wait(_gate);
            var last = _last;
            if (last is not null && last.Matches(args)) return last.Run(args);
            foreach (var a in args)
                if (a is Module or Variable) _preparing.Add(a);
        }
        CompiledStep step;
        CallShape call;
        try
        {
            (step, call) = Prepare(args.ToArray());
        }
        finally
        {
            lock (_gate)
            {
                foreach (var a in args)
                    if (a is Module or Variable) _preparing.Remove(a);
                Monitor.PulseAll(_gate);
            }
        }
        lock (_gate)
        {
            step.Bind(call);
            _last = step;
            return step.Run(args);
        }
    }

    /// <summary>True when one of the call's modules or variables is in <paramref name="set"/>.</summary>
    private static bool UsesAny(ReadOnlySpan<object?> args, HashSet<object> set)
    {
        foreach (var a in args)
            if (a is Module or Variable && set.Contains(a)) return true;
        return false;
    }

    /// <inheritdoc/>
    public JitInspection Inspect(object?[] args)
    {
        JitArguments.Check("Nnx.Jit Lower/Export", _function, args);
        var (step, call) = Prepare(args);
        var variables = call.Snapshot?.Variables ?? [];
        var values = variables.Select(v => v.RawValue).Concat(call.Leaves).ToArray();
        return new JitInspection(step.Optimized, step.Stats, step.InputNames, step.OutputNames,
            [.. step.InputNames.Select((_, i) => i < variables.Length)], values);
    }

    /// <summary>How many compiled entries the cache holds, and how many it dropped (least recently used first).</summary>
    public (int Entries, int Evictions) CacheInfo => (_cache.Count, _cache.Evictions);

    /// <summary>The compiled step for these arguments (from the cache, or traced without holding the lock) and the call it is for.</summary>
    private (CompiledStep Step, CallShape Call) Prepare(object?[] args)
    {
        JitArguments.Check("Nnx.Jit", _function, args);
        var call = CallShape.Of(args, _function.Method.GetParameters());
        if (_cache.TryGet(call.Key, out var step)) return (step, call);
        if (JitOptions.ExplainCacheMisses)
            JitOptions.Explain(() => $"Nnx.Jit({Name}): tracing{(TraceCount == 0 ? " for the first time" : "")}: " +
                (_cache.TryGetMostRecent(out var previous) ? StepMiss.Explain(previous, call.Key, _function.Method.GetParameters()) : "no earlier call"));
        return (_cache.GetOrTrace(call.Key, () => Trace(call, args)), call);
    }

    /// <summary>The tensors a call reads: its modules' variables' values and the leaves of its other arguments.</summary>
    private static IEnumerable<Tensor> Leaves(object?[] args)
    {
        var roots = args.Where(a => a is Module or Variable).Select(a => a!).ToArray();
        if (roots.Length > 0)
            foreach (var v in GraphSnapshot.For(roots, tupleRoot: roots.Length > 1).Variables) yield return v.RawValue;
        foreach (var a in args)
            if (a is not (Module or Variable))
                foreach (var t in Tree.Leaves(a)) yield return t;
    }

    private object? Invoke(object?[] args)
    {
        try
        {
            return _function.DynamicInvoke(args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>
    /// Traces the function on the real objects: each variable holds a symbolic input while the function runs
    /// (and gets its value back afterwards, whatever happens); a variable whose tensor was replaced is a state
    /// output, then come the function's results.
    /// </summary>
    private CompiledStep Trace(CallShape call, object?[] args)
    {
        Interlocked.Increment(ref _traceCount);
        var watch = Stopwatch.StartNew();
        var variables = call.Snapshot?.Variables ?? [];
        var saved = new (Tensor Value, bool Shared)[variables.Length];
        for (var i = 0; i < variables.Length; i++) saved[i] = (variables[i].RawValue, variables[i].IsShared);
        // Everything the step could change on the objects, put back exactly if the trace fails.
        var restore = call.Snapshot?.SaveForRestore();
        Graph graph;
        int[] changed;
        TreeDef resultDef;
        TimeSpan autodiff;
        using (var scope = TraceBuilder.Begin())
        {
            try
            {
                var inputs = new Tensor[variables.Length];
                for (var i = 0; i < variables.Length; i++)
                {
                    inputs[i] = scope.Builder.AddInput(variables[i].Aval);
                    variables[i].SetRaw(inputs[i], shared: true);
                }
                var symArgs = (object?[])args.Clone();
                var leafAvals = call.Key.LeafAvals;
                var next = 0;
                for (var i = 0; i < args.Length; i++)
                {
                    if (call.Kinds[i] == ArgKind.Graph) continue;
                    var def = call.Key.Trees[i]!;
                    var leaves = new Tensor[def.LeafCount];
                    for (var j = 0; j < leaves.Length; j++) leaves[j] = scope.Builder.AddInput(leafAvals[next++]);
                    symArgs[i] = Tree.Unflatten(def, leaves);
                }
                var autodiffBefore = Autodiff.ElapsedOnThisThread;
                var result = Invoke(symArgs);
                autodiff = Autodiff.ElapsedOnThisThread - autodiffBefore;
                if (call.Snapshot is { } snapshot && !snapshot.IsCurrent())
                    throw new InvalidOperationException(
                        $"Nnx.Jit({Name}): the function changed the structure of its module arguments ({StructureChange(snapshot, inputs, call.Roots)}). " +
                        "A jitted step may assign new tensors of the same shape and dtype to existing variables; create variables, " +
                        "submodules or change static attributes outside the step.");
                var outputs = new List<Tensor>();
                var changedList = new List<int>();
                for (var i = 0; i < variables.Length; i++)
                {
                    var now = variables[i].RawValue;
                    if (ReferenceEquals(now, inputs[i])) continue;
                    changedList.Add(i);
                    outputs.Add(now);
                }
                changed = [.. changedList];
                if (changed.Length == 0 && result is null && _function.Method.ReturnType == typeof(void))
                    throw new InvalidOperationException(
                        $"Nnx.Jit({Name}): the step returns nothing and changes no variable of its module arguments, so running it would have no " +
                        "effect; assign the new values to the modules' variables (m.W.Value = …) or return a result.");
                resultDef = Tree.Flatten(result, outputs);
                graph = scope.Builder.Finish(outputs);
            }
            catch
            {
                restore?.Invoke();
                throw;
            }
            finally
            {
                for (var i = 0; i < variables.Length; i++) variables[i].SetRaw(saved[i].Value, saved[i].Shared);
            }
        }
        var traceTime = watch.Elapsed;
        watch.Restart();
        var optimized = PassPipeline.Optimize(graph);
        var passTime = watch.Elapsed;
        var backend = call.Key.Backend;
        var exe = backend.Compile(optimized);
        var stats = new CompileStats(traceTime, autodiff, passTime, exe.LoweringTime, exe.LoadTime,
            graph.Nodes.Length, optimized.Nodes.Length, exe.LoweredNodeCount);
        LastStats = stats;
        var (inputNames, outputNames) = call.Names(changed, resultDef);
        return new CompiledStep(call.Key, optimized, backend, exe, changed, resultDef, stats, inputNames, outputNames);
    }

    /// <summary>Which variable changed shape or dtype (or that a variable or module was replaced), for the error.</summary>
    private static string StructureChange(GraphSnapshot snapshot, Tensor[] inputs, object[] roots)
    {
        var paths = snapshot.GraphDef.StateDef.Paths;
        for (var i = 0; i < snapshot.Variables.Length; i++)
            if (snapshot.Variables[i].Aval != inputs[i].Aval)
                return $"variable '{paths[i]}' went from {inputs[i].Aval} to {snapshot.Variables[i].Aval}";
        try
        {
            var now = GraphSnapshot.Capture(roots, roots.Length > 1).GraphDef;
            return StepMiss.GraphChange(snapshot.GraphDef, now);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return $"the graph can no longer be traversed: {e.Message}";
        }
    }
}
