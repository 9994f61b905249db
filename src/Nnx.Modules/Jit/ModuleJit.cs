using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// The engine behind <see cref="Nnx.Jit{T1, TResult}(Func{T1, TResult})"/>: object graphs. The staging core
/// (<see cref="StagedFunction{TKey, TEntry}"/>) keeps the cache and stages the function; this class says how an
/// object graph is staged and run. Arguments that are modules or variables are graph roots, split together (a
/// model shared by an optimizer is one node); their variables are the step's state. A call whose roots are the
/// objects of the last call, with an unchanged structure (one allocation-free check), and whose other arguments
/// match the last call's trees, static values and avals in place (<see cref="TreeMatch"/>), goes straight to the
/// executable: inputs and outputs are bound once, every variable the step changed gets its new tensor, and the
/// buffer it held is reused for the next call's output when nobody else can see it. Anything else computes the
/// cache key (GraphDef, trees, avals) and traces on a miss.
/// </summary>
internal sealed class ModuleJit : StagedFunction<StepKey, CompiledStep>
{
    private readonly object _gate = new();
    private CompiledStep? _last;

    /// <summary>The modules and variables of calls that are being prepared (looked up, or traced) now, guarded by <c>_gate</c>.</summary>
    private readonly HashSet<object> _preparing = new(ReferenceEqualityComparer.Instance);

    public ModuleJit(Delegate function)
        : base(function, "Nnx.Jit") => Boxes = new ArgBoxes(ArgumentNames.Length);

    /// <summary>The boxes of the last call's static arguments, reused for equal ones.</summary>
    public ArgBoxes Boxes { get; }

    /// <summary>Calls the function: from the cache, tracing it first on a miss; inside another trace or under a gradient it is inlined (<see cref="JitInlining"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            if (last is not null && last.Matches(args)) return last.Run();
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
            return step.Run();
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
    public override JitInspection Inspect(object?[] args)
    {
        JitArguments.Check("Nnx.Jit Lower/Export", Function, args);
        var (step, call) = Prepare(args);
        var variables = call.Snapshot?.Variables ?? [];
        var values = variables.Select(v => v.RawValue).Concat(call.Leaves).ToArray();
        return new JitInspection(step.Optimized, step.Stats, step.InputNames, step.OutputNames,
            [.. step.InputNames.Select((_, i) => i < variables.Length)], values);
    }

    /// <summary>The compiled step for these arguments (from the cache, or traced without holding the lock) and the call it is for.</summary>
    private (CompiledStep Step, CallShape Call) Prepare(object?[] args)
    {
        JitArguments.Check("Nnx.Jit", Function, args);
        var call = CallShape.Of(args, ArgumentNames);
        return (Lookup(call.Key, (Jit: this, Call: call, Args: args), static s => s.Jit.Trace(s.Call, s.Args)), call);
    }

    /// <inheritdoc/>
    protected override string ExplainMiss(StepKey previous, StepKey now) => StepMiss.Explain(previous, now, ArgumentNames);

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

    /// <summary>
    /// Traces the function on the real objects: each variable holds a symbolic input while the function runs
    /// (and gets its value back afterwards, whatever happens); a variable whose tensor was replaced is a state
    /// output, then come the function's results. A failed staging puts back everything the step changed on the objects.
    /// </summary>
    private CompiledStep Trace(CallShape call, object?[] args)
    {
        var variables = call.Snapshot?.Variables ?? [];
        var restore = call.Snapshot?.SaveForRestore();
        int[] changed = [];
        var resultDef = TreeDef.Null;
        Aval[] inputs = [.. variables.Select(v => v.Aval), .. call.Key.LeafAvals];
        Staged staged;
        try
        {
            staged = Stage(inputs, call.Key.Backend, symbolic =>
            {
                var outputs = TraceOn(call, args, symbolic, out changed, out var result);
                resultDef = Tree.Flatten(result, outputs);
                return outputs;
            });
        }
        catch
        {
            restore?.Invoke();
            throw;
        }
        var (inputNames, outputNames) = call.Names(changed, resultDef);
        return new CompiledStep(call.Key, staged, changed, resultDef, inputNames, outputNames);
    }

    /// <summary>
    /// Runs the function with the variables holding the first symbolic inputs and the other arguments rebuilt on
    /// the rest; returns the new values of the variables it changed (then the caller appends the results).
    /// </summary>
    private List<Tensor> TraceOn(CallShape call, object?[] args, Tensor[] symbolic, out int[] changed, out object? result)
    {
        var variables = call.Snapshot?.Variables ?? [];
        var saved = new (Tensor Value, bool Shared)[variables.Length];
        for (var i = 0; i < variables.Length; i++) saved[i] = (variables[i].RawValue, variables[i].IsShared);
        try
        {
            for (var i = 0; i < variables.Length; i++) variables[i].SetRaw(symbolic[i], shared: true);
            var symArgs = (object?[])args.Clone();
            var next = variables.Length;
            for (var i = 0; i < args.Length; i++)
            {
                if (call.Kinds[i] == ArgKind.Graph) continue;
                var def = call.Key.Trees[i]!;
                symArgs[i] = Tree.Unflatten(def, symbolic[next..(next + def.LeafCount)]);
                next += def.LeafCount;
            }
            result = Invoke(symArgs);
            if (call.Snapshot is { } snapshot && !snapshot.IsCurrent())
                throw new InvalidOperationException(
                    $"Nnx.Jit({Name}): the function changed the structure of its module arguments ({StructureChange(snapshot, symbolic, call.Roots)}). " +
                    "A jitted step may assign new tensors of the same shape and dtype to existing variables; create variables, " +
                    "submodules or change static attributes outside the step.");
            var outputs = new List<Tensor>();
            var changedList = new List<int>();
            for (var i = 0; i < variables.Length; i++)
            {
                var now = variables[i].RawValue;
                if (ReferenceEquals(now, symbolic[i])) continue;
                changedList.Add(i);
                outputs.Add(now);
            }
            changed = [.. changedList];
            if (changed.Length == 0 && result is null && Function.Method.ReturnType == typeof(void))
                throw new InvalidOperationException(
                    $"Nnx.Jit({Name}): the step returns nothing and changes no variable of its module arguments, so running it would have no " +
                    "effect; assign the new values to the modules' variables (m.W.Value = …) or return a result.");
            return outputs;
        }
        finally
        {
            for (var i = 0; i < variables.Length; i++) variables[i].SetRaw(saved[i].Value, saved[i].Shared);
        }
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
