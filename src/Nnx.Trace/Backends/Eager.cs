using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Backends;

/// <summary>
/// Eager execution: a primitive on concrete tensors is compiled once per (primitive, operand avals, backend)
/// into a one-node executable, cached, and run on the operands' buffers. Only primitives with operands and a
/// non-empty result are cached; a cached call skips shape inference and copies no aval list. A backend may run the
/// one-node graph with a kernel of its own (<see cref="IEagerKernels"/>).
/// </summary>
internal static class Eager
{
    private static readonly ConcurrentDictionary<Key, Executable> Cache = new(KeyComparer.Instance);

    // Looks a call up by its operands in place: a hit allocates no key.
    private static readonly ConcurrentDictionary<Key, Executable>.AlternateLookup<Probe> Lookup = Cache.GetAlternateLookup<Probe>();

    // The operands' buffers of this thread's call in flight, one array per arity (cleared after the run).
    [ThreadStatic] private static DeviceBuffer[]?[]? _scratch;

    /// <summary>The number of cached one-node executables (for tests).</summary>
    public static int CacheCount => Cache.Count;

    /// <summary>Whether a one-node executable of a primitive of type <typeparamref name="T"/> on <paramref name="operand"/> as its first operand is cached (for tests).</summary>
    public static bool IsCached<T>(Aval operand) where T : Primitive => Cache.Keys.Any(k => k.Op is T && k.Avals.Length > 0 && k.Avals[0] == operand);

    public static Tensor Run(Primitive op, Tensor[] inputs)
    {
        var backend = inputs.Length > 0 ? inputs[0].DeviceBuffer.Backend : Backend.Default;
        for (var i = 1; i < inputs.Length; i++)
            if (inputs[i].DeviceBuffer.Backend != backend)
                throw new ArgumentException($"{op.Name}: operand {i} lives on {inputs[i].DeviceBuffer.Backend.Name} but operand 0 on {backend.Name}; move them to one device first.");
        // A reshape, or a StopGradient (whose value is its operand's; BatchNorm's statistics take it, ten a step of the seed's
        // eager loop, each a session run of an Identity before), is a copy of the operand's elements. A copy, not the same
        // buffer: either tensor may be disposed alone.
        Aval? copied = op switch
        {
            Reshape r when r.NewShape.Size == inputs[0].Size => new Aval(r.NewShape, inputs[0].DType),
            StopGradient => inputs[0].Aval,
            _ => null,
        };
        if (copied is not null && backend is IReshapeCopier copier && copier.CopyReshaped(inputs[0].DeviceBuffer, copied) is { } copy)
            return new Tensor(copy);
        // A cached call skips shape inference: the same primitive on the same avals was checked when it was compiled.
        if (!Lookup.TryGetValue(new Probe(op, inputs, backend), out var exe))
        {
            var avals = new Aval[inputs.Length];
            for (var i = 0; i < inputs.Length; i++) avals[i] = inputs[i].Aval;
            var output = op.InferChecked(avals);
            if (inputs.Length == 0 || output.Shape.Size == 0)
                return new Tensor(backend.Upload(inputs.Length == 0 ? op.Eval([]) : HostArray.Zeros(output.DType, output.Shape)));
            exe = Cache.GetOrAdd(new Key(op, ImmutableCollectionsMarshal.AsImmutableArray(avals), backend), static k => Compile(k));
        }
        var buffers = Scratch(inputs.Length);
        try
        {
            for (var i = 0; i < inputs.Length; i++) buffers[i] = inputs[i].DeviceBuffer;
            return new Tensor(exe.Run(buffers)[0]);
        }
        finally
        {
            Array.Clear(buffers);
            if (buffers.Length < _scratch!.Length) _scratch[buffers.Length] = buffers;
        }
    }

    /// <summary>This thread's buffer array for <paramref name="n"/> operands (a new one for a nested or re-entrant call).</summary>
    private static DeviceBuffer[] Scratch(int n)
    {
        var all = _scratch ??= new DeviceBuffer[]?[8];
        if (n >= all.Length) return new DeviceBuffer[n];
        var b = all[n] ?? new DeviceBuffer[n];
        all[n] = null; // taken: a re-entrant call on this thread (a backend that runs eager ops) gets its own
        return b;
    }

    /// <summary>The key's one-node graph, compiled by the backend's own kernel when it has one (<see cref="IEagerKernels"/>).</summary>
    private static Executable Compile(Key k)
    {
        var graph = Build(k);
        return (k.Backend as IEagerKernels)?.CompileKernel(graph) ?? k.Backend.Compile(graph);
    }

    private static Graph Build(Key k)
    {
        var inputs = k.Avals.Select(a => new Value(a)).ToImmutableArray();
        var node = Node.Create(k.Op, inputs);
        return new Graph(inputs, [node], [node.Output]);
    }

    private sealed record Key(Primitive Op, ImmutableArray<Aval> Avals, IBackend Backend);

    /// <summary>A call's primitive, operands and backend, compared with the cache's keys without building one.</summary>
    private readonly struct Probe(Primitive op, Tensor[] inputs, IBackend backend)
    {
        public Primitive Op => op;
        public Tensor[] Inputs => inputs;
        public IBackend Backend => backend;
    }

    /// <summary>Keys compare by primitive (value equality), backend (identity) and avals; a probe hashes as its key would.</summary>
    private sealed class KeyComparer : IEqualityComparer<Key>, IAlternateEqualityComparer<Probe, Key>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(Key? x, Key? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.Backend == y.Backend && x.Op.Equals(y.Op) && x.Avals.AsSpan().SequenceEqual(y.Avals.AsSpan()));

        public int GetHashCode(Key k)
        {
            var h = Start(k.Op, k.Backend, k.Avals.Length);
            foreach (var a in k.Avals) h = HashCode.Combine(h, a.Shape.GetHashCode(), (int)a.DType);
            return h;
        }

        public bool Equals(Probe p, Key k)
        {
            if (p.Backend != k.Backend || p.Inputs.Length != k.Avals.Length || !p.Op.Equals(k.Op)) return false;
            for (var i = 0; i < p.Inputs.Length; i++)
            {
                var (a, b) = (p.Inputs[i].Aval, k.Avals[i]);
                if (a.DType != b.DType || !a.Shape.Equals(b.Shape)) return false;
            }
            return true;
        }

        public int GetHashCode(Probe p)
        {
            var h = Start(p.Op, p.Backend, p.Inputs.Length);
            foreach (var t in p.Inputs) h = HashCode.Combine(h, t.Aval.Shape.GetHashCode(), (int)t.Aval.DType);
            return h;
        }

        public Key Create(Probe p)
        {
            var avals = new Aval[p.Inputs.Length];
            for (var i = 0; i < avals.Length; i++) avals[i] = p.Inputs[i].Aval;
            return new Key(p.Op, ImmutableCollectionsMarshal.AsImmutableArray(avals), p.Backend);
        }

        private static int Start(Primitive op, IBackend backend, int n) => HashCode.Combine(op, System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(backend), n);
    }

    // Weak scalars of eager scalar operations (x * 2.0), by value bits, dtype and backend; emptied past ConstantLimit.
    private static readonly ConcurrentDictionary<(long Bits, DType DType, IBackend Backend), Tensor> Constants = new();
    private const int ConstantLimit = 4096;

    /// <summary>
    /// The scalar <paramref name="value"/> as a <paramref name="dtype"/> tensor on <paramref name="backend"/>, uploaded
    /// once and shared by later calls (nothing outside Nnx sees it, so nothing disposes it). Its bits are those of
    /// <see cref="Tensor.Full"/>'s.
    /// </summary>
    public static Tensor Constant(double value, DType dtype, IBackend backend)
    {
        var key = (BitConverter.DoubleToInt64Bits(value), dtype, backend);
        if (Constants.TryGetValue(key, out var c)) return c;
        if (Constants.Count >= ConstantLimit) Constants.Clear();
        return Constants.GetOrAdd(key, static k => new Tensor(k.Backend.Upload(HostArray.Full(k.DType, Shape.Of(), BitConverter.Int64BitsToDouble(k.Bits)))));
    }
}
