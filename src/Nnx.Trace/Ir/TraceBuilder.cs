using System.Collections.Immutable;
using NnxSharp.Primitives;

namespace NnxSharp.Ir;

/// <summary>
/// Records primitive applications on symbolic tensors into a graph. One builder is active per thread;
/// concrete tensors used while it is active become constants of the graph.
/// </summary>
internal sealed class TraceBuilder
{
    [ThreadStatic] private static TraceBuilder? _current;

    private readonly List<Value> _inputs = [];
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<Tensor, Tensor> _constants = new(ReferenceEqualityComparer.Instance);
    private readonly TraceBuilder? _parent;

    private TraceBuilder(TraceBuilder? parent) => _parent = parent;

    /// <summary>The active builder on this thread, or null outside a trace.</summary>
    public static TraceBuilder? Current => _current;

    /// <summary>False once the trace has ended: its symbolic tensors may no longer be used.</summary>
    public bool IsOpen { get; private set; } = true;

    /// <summary>Starts a trace on this thread; dispose the scope to end it.</summary>
    public static Scope Begin()
    {
        var b = new TraceBuilder(_current);
        _current = b;
        return new Scope(b);
    }

    /// <summary>The nodes recorded so far, in order.</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Adds a graph input and returns its symbolic tensor.</summary>
    public Tensor AddInput(Aval aval)
    {
        var v = new Value(aval);
        _inputs.Add(v);
        return new Tensor(v, this);
    }

    /// <summary>Records <paramref name="op"/> applied to <paramref name="inputs"/> and returns the symbolic result.</summary>
    public Tensor Record(Primitive op, Tensor[] inputs)
    {
        var values = ImmutableArray.CreateBuilder<Value>(inputs.Length);
        foreach (var t in inputs) values.Add(Symbolic(t).Value!);
        var node = Node.Create(op, values.MoveToImmutable());
        _nodes.Add(node);
        return new Tensor(node.Output, this);
    }

    /// <summary>The symbolic tensor of <paramref name="t"/> in this trace: itself, or a constant holding its value.</summary>
    public Tensor Symbolic(Tensor t)
    {
        if (t.IsSymbolic)
        {
            if (t.Owner == this) return t;
            throw new InvalidOperationException(t.Owner!.IsOpen
                ? $"A symbolic tensor {t.Aval} of an enclosing trace was used inside a nested trace; pass it in as an argument."
                : $"A symbolic tensor {t.Aval} was used after its trace ended (did it escape from a traced function?).");
        }
        if (_constants.TryGetValue(t, out var c)) return c;
        var node = Node.Create(new Literal(t.ToHost()), []);
        _nodes.Add(node);
        c = new Tensor(node.Output, this);
        _constants[t] = c;
        return c;
    }

    /// <summary>Ends recording and returns the graph with these outputs.</summary>
    public Graph Finish(IEnumerable<Tensor> outputs)
    {
        var outs = outputs.Select(t => Symbolic(t).Value!).ToImmutableArray();
        return new Graph([.. _inputs], [.. _nodes], outs);
    }

    /// <summary>Ends a trace when disposed.</summary>
    public readonly struct Scope(TraceBuilder builder) : IDisposable
    {
        /// <summary>The builder of this trace.</summary>
        public TraceBuilder Builder { get; } = builder;

        /// <inheritdoc/>
        public void Dispose()
        {
            Builder.IsOpen = false;
            _current = Builder._parent;
        }
    }
}
