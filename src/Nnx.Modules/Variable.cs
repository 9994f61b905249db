using System.Collections.Immutable;

namespace NnxSharp;

/// <summary>
/// A mutable box holding one tensor of a module's state, plus static metadata. Its kind is its type:
/// <see cref="Param"/>, <see cref="BatchStat"/>, <see cref="Cache"/>, … or a user subclass
/// (<c>sealed class Count(Tensor v) : Variable(v);</c>); filters select state by kind. A kind is a tag:
/// it may not declare instance fields of its own (Merge rebuilds a variable from its kind, value and metadata).
/// </summary>
public class Variable
{
    private static readonly ImmutableSortedDictionary<string, object> NoMetadata = ImmutableSortedDictionary<string, object>.Empty;

    private Tensor _value;

    // Whether code outside the variable may hold its tensor: true once the value was given by or handed to
    // user code. Only a value a jitted step wrote and nobody has read since is owned, and its buffer may be
    // reused for a later step's output (the A/B swap) without changing a tensor anyone can see.
    private bool _shared = true;

    // The trace active when the variable was made (null outside one): a variable made inside a trace may take
    // that trace's symbolic tensors; one made outside may take them only while the jit has put it into the trace.
    private NnxSharp.Ir.TraceBuilder? _madeIn = NnxSharp.Ir.TraceBuilder.Current;

    /// <summary>
    /// The path of the variable for error messages, when known (the path in the last graph traversal that visited it).
    /// </summary>
    internal string? KnownPath { get; set; }

    /// <summary>Creates a variable holding <paramref name="value"/>, with optional static metadata (compared by value in the GraphDef).</summary>
    public Variable(Tensor value, IReadOnlyDictionary<string, object>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
        Metadata = metadata is null || metadata.Count == 0
            ? NoMetadata
            : metadata as ImmutableSortedDictionary<string, object> ?? metadata.ToImmutableSortedDictionary(StringComparer.Ordinal);
    }

    /// <summary>The tensor; replace it to change the state (a traced step swaps symbolic or new tensors in here).</summary>
    public Tensor Value
    {
        get
        {
            _shared = true;
            return _value;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.IsSymbolic) CheckTracedAssignment(value);
            _value = value;
            _shared = true;
        }
    }

    /// <summary>Static facts about the variable (a sharding name, an initialiser's name…); immutable, part of the GraphDef.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; private set; }

    /// <summary>The value's shape and dtype.</summary>
    public Aval Aval => _value.Aval;

    /// <summary>The value's shape.</summary>
    public Shape Shape => _value.Shape;

    /// <summary>The value's element type.</summary>
    public DType DType => _value.DType;

    /// <summary>The variable's tensor, so that a variable can be used where a tensor is expected.</summary>
    public static implicit operator Tensor(Variable variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        variable._shared = true;
        return variable._value;
    }

    /// <summary>Prints the kind and aval: <c>Param(f32[2,3])</c>.</summary>
    public override string ToString() => $"{GetType().Name}({_value.Aval})";

    /// <summary>
    /// Refuses a symbolic tensor for a variable that is not part of its trace: a module captured by a traced
    /// function's closure (not passed as an argument) would keep the symbolic tensor after the trace, and fail
    /// later, elsewhere (Flax raises a TraceContextError here).
    /// </summary>
    private void CheckTracedAssignment(Tensor value)
    {
        if (_value.IsSymbolic && ReferenceEquals(_value.Owner, value.Owner)) return;
        if (_madeIn is not null && ReferenceEquals(_madeIn, value.Owner)) return;
        var where = KnownPath is null ? $"a {GetType().Name} variable {_value.Aval} (of a module never split, so its path is unknown)" : $"variable '{KnownPath}' ({GetType().Name} {_value.Aval})";
        throw new InvalidOperationException(
            $"Cannot assign a traced value {value.Aval} to {where}: the variable belongs to a module that is not an argument of the function being " +
            "traced (captured by its closure?), so it would keep a symbolic tensor after the trace. Pass the module to the jitted function " +
            "as an argument, or assign concrete values outside the trace.");
    }

    /// <summary>Fills a variable created without its constructor (by Merge).</summary>
    internal void Init(Tensor value, IReadOnlyDictionary<string, object> metadata)
    {
        _madeIn = NnxSharp.Ir.TraceBuilder.Current;
        _value = value;
        _shared = true;
        Metadata = metadata;
    }

    /// <summary>The variable's contents, for <see cref="Restore"/>.</summary>
    internal object Save() => (_value, _shared, Metadata);

    /// <summary>Puts back what <see cref="Save"/> returned.</summary>
    internal void Restore(object saved) => (_value, _shared, Metadata) = ((Tensor, bool, IReadOnlyDictionary<string, object>))saved;

    /// <summary>The tensor, read by the jit without marking it as seen by user code.</summary>
    internal Tensor RawValue => _value;

    /// <summary>False when the tensor was written by a jitted step and nobody has read it since.</summary>
    internal bool IsShared => _shared;

    /// <summary>Sets the tensor from the jit, saying whether anyone else may hold it.</summary>
    internal void SetRaw(Tensor value, bool shared)
    {
        _value = value;
        _shared = shared;
    }
}
