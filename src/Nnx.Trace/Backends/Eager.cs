using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Backends;

/// <summary>
/// Eager execution: a primitive on concrete tensors is compiled once per (primitive, operand avals, backend)
/// into a one-node executable, cached, and run on the operands' buffers. Only primitives with operands and a
/// non-empty result are cached; a cached call skips shape inference and copies no aval list.
/// </summary>
internal static class Eager
{
    private static readonly ConcurrentDictionary<Key, Executable> Cache = new();

    /// <summary>The number of cached one-node executables (for tests).</summary>
    public static int CacheCount => Cache.Count;

    public static Tensor Run(Primitive op, Tensor[] inputs)
    {
        var avals = new Aval[inputs.Length];
        for (var i = 0; i < inputs.Length; i++) avals[i] = inputs[i].Aval;
        var backend = inputs.Length > 0 ? inputs[0].DeviceBuffer.Backend : Backend.Default;
        for (var i = 1; i < inputs.Length; i++)
            if (inputs[i].DeviceBuffer.Backend != backend)
                throw new ArgumentException($"{op.Name}: operand {i} lives on {inputs[i].DeviceBuffer.Backend.Name} but operand 0 on {backend.Name}; move them to one device first.");
        // A cached call skips shape inference: the same primitive on the same avals was checked when it was compiled.
        var key = new Key(op, ImmutableCollectionsMarshal.AsImmutableArray(avals), backend);
        if (!Cache.TryGetValue(key, out var exe))
        {
            var output = op.InferChecked(avals);
            if (inputs.Length == 0 || output.Shape.Size == 0)
                return new Tensor(backend.Upload(inputs.Length == 0 ? op.Eval([]) : HostArray.Zeros(output.DType, output.Shape)));
            exe = Cache.GetOrAdd(key, static k => k.Backend.Compile(Build(k)));
        }
        var buffers = new DeviceBuffer[inputs.Length];
        for (var i = 0; i < inputs.Length; i++) buffers[i] = inputs[i].DeviceBuffer;
        return new Tensor(exe.Run(buffers)[0]);
    }

    private static Graph Build(Key k)
    {
        var inputs = k.Avals.Select(a => new Value(a)).ToImmutableArray();
        var node = Node.Create(k.Op, inputs);
        return new Graph(inputs, [node], [node.Output]);
    }

    private sealed record Key(Primitive Op, ImmutableArray<Aval> Avals, IBackend Backend)
    {
        public bool Equals(Key? other) =>
            other is not null && Op.Equals(other.Op) && Backend == other.Backend && Avals.SequenceEqual(other.Avals);

        public override int GetHashCode()
        {
            var h = new HashCode();
            h.Add(Op);
            h.Add(Backend);
            foreach (var a in Avals) h.Add(a);
            return h.ToHashCode();
        }
    }
}
