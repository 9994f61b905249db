using System.Runtime.CompilerServices;
using NnxSharp.Backends;
using NnxSharp.Ir;

namespace NnxSharp;

/// <summary>
/// One compiled module step and the call it is bound to: the executable (null when the step has no outputs),
/// which variables it writes, the result's structure, and the buffers of the last call (bound once to the
/// executable's IOBindings). Not thread-safe: <see cref="ModuleJit"/> calls it under its lock.
/// </summary>
internal sealed class CompiledStep(StepKey key, Staged staged, int[] changed, TreeDef resultDef, string[] inputNames, string[] outputNames)
{
    private readonly IBackend _backend = key.Backend;
    private readonly Executable? _executable = staged.Executable;
    private readonly int[] _changed = changed;
    private readonly TreeDef _resultDef = resultDef;
    private readonly Aval[] _resultAvals = [.. staged.Optimized.Outputs.Skip(changed.Length).Select(v => v.Aval)];
    private readonly DeviceBuffer[] _inputs = new DeviceBuffer[staged.Optimized.Inputs.Length];
    private readonly DeviceBuffer[] _outputs = new DeviceBuffer[staged.Optimized.Outputs.Length];
    private readonly Tensor?[] _spares = new Tensor?[changed.Length];
    private readonly Tensor[] _results = new Tensor[staged.Optimized.Outputs.Length - changed.Length];

    /// <summary>The tensors of the call being run (its non-module arguments' leaves), cleared after it.</summary>
    private readonly Tensor[] _leaves = new Tensor[key.LeafAvals.Length];

    // The bound call: its kinds, module roots and snapshot.
    private ArgKind[] _kinds = [];
    private object[] _roots = [];
    private GraphSnapshot? _snapshot;

    public StepKey Key { get; } = key;

    public Graph Optimized { get; } = staged.Optimized;

    public CompileStats Stats { get; } = staged.Stats;

    public string[] InputNames { get; } = inputNames;

    public string[] OutputNames { get; } = outputNames;

    /// <summary>Binds the step to a call's objects and tensors (after a cache lookup that found it, or a trace).</summary>
    public void Bind(CallShape call)
    {
        _kinds = call.Kinds;
        _roots = call.Roots;
        _snapshot = call.Snapshot;
        call.Leaves.CopyTo(_leaves);
    }

    /// <summary>
    /// True when the arguments are the bound call's module objects, with an unchanged structure and the state
    /// still on the step's device, and the other arguments have the key's trees, static values and avals
    /// (compared in place, <see cref="TreeMatch"/>; their tensors are kept for <see cref="Run"/>). Allocates nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Matches(ReadOnlySpan<object?> args)
    {
        if (ArgumentsMatch(args) && StateOnDevice() && (_snapshot is null || _snapshot.IsCurrent())) return true;
        Array.Clear(_leaves);
        return false;
    }

    /// <summary>The module arguments are the bound objects, and the others match their trees (their tensors written to <c>_leaves</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ArgumentsMatch(ReadOnlySpan<object?> args)
    {
        if (args.Length != _kinds.Length) return false;
        var root = 0;
        var next = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var same = _kinds[i] == ArgKind.Graph
                ? ReferenceEquals(args[i], _roots[root++])
                : TreeMatch.Matches(args[i], Key.Trees[i]!, Key.LeafAvals, _leaves, ref next);
            if (!same) return false;
        }
        return true;
    }

    /// <summary>The state (the first variable, or else the first tensor) is still on the step's device.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool StateOnDevice()
    {
        if (_snapshot is { Variables.Length: > 0 } s)
            return !s.Variables[0].RawValue.IsDisposed && s.Variables[0].RawValue.DeviceBuffer.Backend == _backend;
        return _leaves.Length == 0 || _leaves[0].DeviceBuffer.Backend == _backend;
    }

    /// <summary>
    /// Runs on the bound objects and the tensors of the last <see cref="Bind"/> or <see cref="Matches"/>: binds the
    /// variables' buffers and the tensors, runs into the spare buffers, hands each changed variable its new tensor
    /// and keeps the old one as a spare when only the variable held it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public object? Run()
    {
        var variables = _snapshot?.Variables ?? [];
        for (var i = 0; i < variables.Length; i++)
        {
            var value = variables[i].RawValue;
            if (value.IsDisposed)
                throw new ObjectDisposedException(nameof(Tensor),
                    $"Nnx.Jit: variable '{_snapshot!.GraphDef.StateDef.Paths[i]}' holds a disposed tensor {value.Aval}; assign it a new tensor before the step.");
            _inputs[i] = value.DeviceBuffer;
        }
        for (var i = 0; i < _leaves.Length; i++) _inputs[variables.Length + i] = _leaves[i].DeviceBuffer;
        Array.Clear(_leaves);
        var backend = _backend;
        for (var c = 0; c < _changed.Length; c++)
        {
            var spare = _spares[c] ??= new Tensor(backend.Allocate(Optimized.Outputs[c].Aval));
            _outputs[c] = spare.DeviceBuffer;
        }
        for (var r = 0; r < _resultAvals.Length; r++) _outputs[_changed.Length + r] = backend.Allocate(_resultAvals[r]);
        try
        {
            _executable?.RunStep(_inputs, _outputs, variables.Length, _changed.Length);
        }
        catch (BackendException e)
        {
            throw e.In($"Nnx.Jit step with inputs {string.Join(", ", InputNames)}");
        }
        // Checked before any variable takes its new value, so a step that produced a NaN leaves the state as it was.
        if (JitOptions.DebugNans) NanCheck.Outputs("Nnx.Jit", _outputs, OutputNames);
        for (var c = 0; c < _changed.Length; c++)
        {
            var variable = variables[_changed[c]];
            var old = variable.RawValue;
            var reusable = !variable.IsShared && old.DeviceBuffer.Backend == backend;
            variable.SetRaw(_spares[c]!, shared: false);
            _spares[c] = reusable ? old : null;
        }
        // Results are new tensors (the caller keeps them); the buffer slots are cleared so they are not kept alive here.
        if (_results.Length == 0) return _resultDef == TreeDef.Null ? null : Tree.Unflatten(_resultDef, _results);
        for (var r = 0; r < _results.Length; r++)
        {
            _results[r] = new Tensor(_outputs[_changed.Length + r]);
            _outputs[_changed.Length + r] = null!;
        }
        var result = _results.Length == 1 && _resultDef == TreeDef.Leaf ? _results[0] : Tree.Unflatten(_resultDef, _results);
        Array.Clear(_results);
        return result;
    }
}
