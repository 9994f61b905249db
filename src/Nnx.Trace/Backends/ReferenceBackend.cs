using NnxSharp.Ir;

namespace NnxSharp.Backends;

/// <summary>
/// Runs graphs with each primitive's managed reference evaluation: slow, exact, the oracle for tests.
/// </summary>
public sealed class ReferenceBackend : IBackend
{
    /// <summary>The one instance.</summary>
    public static readonly ReferenceBackend Instance = new();

    private ReferenceBackend()
    {
    }

    /// <inheritdoc/>
    public string Name => "reference";

    /// <inheritdoc/>
    public DeviceBuffer Upload(HostArray data) => new HostBuffer(data);

    /// <inheritdoc/>
    public DeviceBuffer Allocate(Aval aval) => new HostBuffer(HostArray.Zeros(aval.DType, aval.Shape));

    /// <inheritdoc/>
    public HostArray Download(DeviceBuffer buffer) => Own(buffer).Data;

    /// <inheritdoc/>
    public Executable Compile(Graph graph) => new Interpreter(graph);

    /// <summary>Evaluates a graph on host arrays.</summary>
    public static HostArray[] Evaluate(Graph graph, IReadOnlyList<HostArray> inputs)
    {
        var env = new Dictionary<Value, HostArray>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < inputs.Count; i++) env[graph.Inputs[i]] = inputs[i];
        foreach (var node in graph.Nodes)
            env[node.Output] = node.Op.Eval(node.Inputs.Select(v => env[v]).ToArray());
        return graph.Outputs.Select(v => env[v]).ToArray();
    }

    private static HostBuffer Own(DeviceBuffer buffer) => buffer as HostBuffer ?? throw new ArgumentException(
        $"A tensor {buffer.Aval} on {buffer.Backend.Name} was used on reference. Move it first: tensor.To(device), " +
        "model.To(device) or Nnx.DevicePut(node, device).");

    private sealed class HostBuffer(HostArray data) : DeviceBuffer(data.Aval)
    {
        public HostArray Data { get; set; } = data;

        public override IBackend Backend => Instance;

        protected override void Dispose(bool disposing)
        {
        }
    }

    private sealed class Interpreter(Graph graph) : Executable(graph)
    {
        public override DeviceBuffer[] Run(IReadOnlyList<DeviceBuffer> inputs)
        {
            CheckInputs(inputs);
            return Evaluate(Graph, inputs.Select(b => Own(b).Data).ToArray())
                .Select(a => (DeviceBuffer)new HostBuffer(a)).ToArray();
        }

        public override void RunInto(IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs)
        {
            CheckOutputs(outputs);
            var results = Run(inputs);
            for (var i = 0; i < outputs.Count; i++) Own(outputs[i]).Data = ((HostBuffer)results[i]).Data;
        }
    }
}
