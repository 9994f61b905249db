using Google.Protobuf;
using NnxSharp.Ir;
using NnxSharp.Onnx.Schema;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>Lowers an IR graph to an ONNX model, asking each primitive for its nodes.</summary>
public static class OnnxLowering
{
    /// <summary>
    /// The ai.onnx opset emitted: 18 is the lowest with every operator Nnx uses (Bitwise*, reductions taking
    /// their axes as an input, ScatterND with reduction), so exported files also load in older runtimes.
    /// </summary>
    public const int Opset = 18;

    /// <summary>The ONNX IR version that goes with opset 18.</summary>
    public const int IrVersion = 8;

    /// <summary>
    /// Lowers <paramref name="graph"/> for <paramref name="target"/> (default: the CPU provider and exported files);
    /// inputs and outputs get the given names (default x0…, y0…).
    /// </summary>
    public static byte[] ToBytes(Graph graph, IReadOnlyList<string>? inputNames = null, IReadOnlyList<string>? outputNames = null, string? docString = null,
        OnnxTarget target = OnnxTarget.Cpu) =>
        ToModel(graph, inputNames, outputNames, docString, target).ToByteArray();

    /// <summary>
    /// As <see cref="ToBytes"/>. <paramref name="inProcess"/>: the model runs in this process (an OrtExecutable), so a
    /// lowering may use this machine's kernels (<see cref="IOnnxEmitter.NchwcBlockSize"/>) and the session's
    /// <paramref name="threads"/> (<see cref="IOnnxEmitter.IntraOpThreads"/>); never for exported files.
    /// </summary>
    internal static ModelProto ToModel(Graph graph, IReadOnlyList<string>? inputNames = null, IReadOnlyList<string>? outputNames = null, string? docString = null,
        OnnxTarget target = OnnxTarget.Cpu, bool inProcess = false, int threads = 1)
    {
        inputNames ??= graph.Inputs.Select((_, i) => $"x{i}").ToArray();
        outputNames ??= graph.Outputs.Select((_, i) => $"y{i}").ToArray();
        if (inputNames.Count != graph.Inputs.Length || outputNames.Count != graph.Outputs.Length)
            throw new ArgumentException("ONNX lowering: one name is needed per graph input and output.");
        if (inputNames.Concat(outputNames).Distinct().Count() != inputNames.Count + outputNames.Count)
            throw new ArgumentException("ONNX lowering: input and output names must be distinct.");

        var emitter = new Emitter(inputNames.Concat(outputNames), target, inProcess, threads);
        var names = new Dictionary<Value, string>(ReferenceEqualityComparer.Instance);
        var g = new GraphProto { Name = "nnx" };
        for (var i = 0; i < graph.Inputs.Length; i++)
        {
            names[graph.Inputs[i]] = inputNames[i];
            emitter.Know(inputNames[i], graph.Inputs[i].Aval);
            g.Input.Add(ValueInfo(inputNames[i], graph.Inputs[i].Aval));
        }
        var readers = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        foreach (var v in graph.Nodes.SelectMany(n => n.Inputs).Concat(graph.Outputs)) readers[v] = readers.GetValueOrDefault(v) + 1;
        foreach (var node in graph.Nodes)
        {
            var args = new LowerArgs(node.Inputs.Select(v => names[v]).ToArray(), node.Inputs.Select(v => v.Aval).ToArray(), node.Output.Aval);
            // Each ONNX node says which primitive it comes from, so a runtime error can name it.
            emitter.Source = $"{node.Op} ({string.Join(", ", args.InputAvals)}) → {node.Output.Aval}";
            names[node.Output] = node.Op.Lower(emitter, args);
            emitter.Know(names[node.Output], node.Output.Aval);
            emitter.AddReaders(names[node.Output], readers.GetValueOrDefault(node.Output));
        }

        // Give each output its name: rename the node result that produces it, or add an Identity when the
        // value is an input, a constant, or already claimed by another output.
        var renamed = new HashSet<Value>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < graph.Outputs.Length; i++)
        {
            var value = graph.Outputs[i];
            var name = names[value];
            if (emitter.IsNodeOutput(name) && renamed.Add(value))
            {
                emitter.Rename(name, outputNames[i]);
                names[value] = outputNames[i]; // a second output of the same value copies the renamed one
            }
            else emitter.Identity(name, outputNames[i]);
            g.Output.Add(ValueInfo(outputNames[i], graph.Outputs[i].Aval));
        }
        g.Node.AddRange(Live(emitter.Nodes, outputNames));
        if (emitter.OwnCpuKernels)
        {
            PackedGemmPairs.Fuse(g, emitter.ConstantValue, emitter.Constant);
            ElementwiseFusion.Fuse(g, emitter.AvalOf, emitter.Constant);
        }
        // Only the constants that a node reads: a lowering may replace a constant operand by its own (the CUDA form
        // of a shift by a constant), and ONNX Runtime warns about every unused initializer.
        var read = new HashSet<string>(g.Node.SelectMany(n => n.Input));
        g.Initializer.AddRange(emitter.Initializers.Where(t => read.Contains(t.Name)));

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Nnx",
            ProducerVersion = typeof(OnnxLowering).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = g,
            DocString = docString ?? "",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var domain in emitter.Domains.Order(StringComparer.Ordinal)) model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = 1 });
        return model;
    }

    /// <summary>The nodes that the outputs depend on (a lowering may leave one unread: <see cref="IOnnxEmitter.Producer"/>).</summary>
    private static List<NodeProto> Live(List<NodeProto> nodes, IEnumerable<string> outputs)
    {
        var read = new HashSet<string>(outputs);
        var live = new List<NodeProto>();
        for (var i = nodes.Count - 1; i >= 0; i--)
        {
            if (!nodes[i].Output.Any(read.Contains)) continue;
            live.Add(nodes[i]);
            read.UnionWith(nodes[i].Input);
        }
        live.Reverse();
        return live;
    }

    internal static ValueInfoProto ValueInfo(string name, Aval aval)
    {
        var shape = new TensorShapeProto();
        foreach (var d in aval.Shape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTypes.ElementType(aval.DType), Shape = shape } },
        };
    }

    internal static TensorProto Tensor(string name, HostArray value)
    {
        var t = new TensorProto { Name = name, DataType = OnnxTypes.ElementType(value.DType), RawData = ByteString.CopyFrom(value.ToBytes()) };
        t.Dims.AddRange(value.Shape.ToLongArray());
        return t;
    }

    /// <summary>Collects nodes and initializers; gives every value a fresh name.</summary>
    private sealed class Emitter(IEnumerable<string> reserved, OnnxTarget target, bool inProcess, int threads) : IOnnxEmitter
    {
        private readonly HashSet<string> _taken = [.. reserved];
        private readonly Dictionary<HostArray, string> _constants = [];
        private readonly Dictionary<string, HostArray> _constantValues = [];
        private readonly HashSet<string> _nodeOutputs = [];
        private readonly Dictionary<string, OnnxNode> _producers = [];
        private readonly Dictionary<string, string> _renamed = [];
        private readonly Dictionary<string, int> _readers = [];
        private readonly Dictionary<string, Aval?> _avals = [];
        private int _next;

        public List<NodeProto> Nodes { get; } = [];

        public List<TensorProto> Initializers { get; } = [];

        /// <summary>The primitive being lowered, with its avals (each node's doc string).</summary>
        public string Source { get; set; } = "";

        /// <summary>The domains other than ai.onnx that nodes were added in (each imported at version 1).</summary>
        public HashSet<string> Domains { get; } = [];

        public int Opset => OnnxLowering.Opset;

        public OnnxTarget Target => target;

        public int NchwcBlockSize => inProcess && target == OnnxTarget.Cpu ? NchwcKernels.BlockSize : 0;

        public int IntraOpThreads => inProcess && target == OnnxTarget.Cpu ? Math.Max(threads, 1) : 1;

        public bool OwnCpuKernels => inProcess && target == OnnxTarget.Cpu && CpuKernels.Available;

        public HostArray? ConstantValue(string name) => _constantValues.GetValueOrDefault(name);

        /// <summary>
        /// Records that the ONNX value <paramref name="name"/> holds <paramref name="aval"/> (a graph input, or the value a
        /// primitive's lowering returned). A name said to hold two avals is known to hold neither.
        /// </summary>
        public void Know(string name, Aval aval)
        {
            if (_avals.TryGetValue(name, out var known)) { if (known != aval) _avals[name] = null; }
            else _avals[name] = aval;
        }

        /// <summary>The aval of an ONNX value that a graph input, a primitive's result or a constant holds; null when unknown.</summary>
        public Aval? AvalOf(string name) =>
            _avals.TryGetValue(name, out var aval) ? aval : _constantValues.TryGetValue(name, out var c) ? c.Aval : null;

        public string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
            Node("", opType, inputs, attributes);

        public string Node(string domain, string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
        {
            var output = Fresh("t");
            var node = new NodeProto { OpType = opType, Domain = domain, Name = $"{opType}_{Nodes.Count}", DocString = Source };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            foreach (var a in attributes) node.Attribute.Add(Attribute(a));
            Nodes.Add(node);
            _nodeOutputs.Add(output);
            _producers[output] = new OnnxNode(domain, opType, [.. inputs], attributes);
            if (domain.Length > 0) Domains.Add(domain);
            return output;
        }

        public string Constant(HostArray value)
        {
            if (_constants.TryGetValue(value, out var name)) return name;
            name = Fresh("c");
            Initializers.Add(Tensor(name, value));
            _constants[value] = name;
            _constantValues[name] = value;
            return name;
        }

        public OnnxNode? Producer(string name) => _producers.GetValueOrDefault(name);

        public int Readers(string name) => _readers.TryGetValue(name, out var n) ? n : int.MaxValue;

        /// <summary>Counts the readers of a graph value under its ONNX name (two values may share one: a transpose undone).</summary>
        public void AddReaders(string name, int count) => _readers[name] = (_readers.TryGetValue(name, out var n) ? n : 0) + count;

        public bool IsNodeOutput(string name) => _nodeOutputs.Contains(name);

        /// <summary>The name a value has now: a peephole may have made two graph values one ONNX value, renamed once.</summary>
        public string Current(string name) => _renamed.TryGetValue(name, out var to) ? Current(to) : name;

        public void Rename(string from, string to)
        {
            foreach (var n in Nodes)
            {
                for (var i = 0; i < n.Input.Count; i++) if (n.Input[i] == from) n.Input[i] = to;
                for (var i = 0; i < n.Output.Count; i++) if (n.Output[i] == from) n.Output[i] = to;
            }
            _nodeOutputs.Remove(from);
            _nodeOutputs.Add(to);
            _renamed[from] = to;
            if (_avals.Remove(from, out var aval) && aval is { } known) Know(to, known);
        }

        public void Identity(string from, string to)
        {
            var node = new NodeProto { OpType = "Identity", Name = $"Identity_{Nodes.Count}" };
            node.Input.Add(Current(from));
            node.Output.Add(to);
            Nodes.Add(node);
            if (AvalOf(Current(from)) is { } aval) Know(to, aval);
        }

        private string Fresh(string prefix)
        {
            string name;
            do name = prefix + _next++; while (!_taken.Add(name));
            return name;
        }

        private static AttributeProto Attribute(OnnxAttribute a)
        {
            var p = new AttributeProto { Name = a.Name };
            switch (a.Value)
            {
                case long i: p.Type = AttributeProto.Types.AttributeType.Int; p.I = i; break;
                case float f: p.Type = AttributeProto.Types.AttributeType.Float; p.F = f; break;
                case string s: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(s); break;
                case long[] ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(ints); break;
                case float[] floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(floats); break;
                case HostArray t: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = Tensor("", t); break;
                case DType t: p.Type = AttributeProto.Types.AttributeType.Int; p.I = OnnxTypes.ElementType(t); break;
                default: throw new NotSupportedException($"ONNX attribute {a.Name} has an unsupported value type {a.Value.GetType().Name}.");
            }
            return p;
        }
    }
}
