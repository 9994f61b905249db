using System.Diagnostics;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// An eager call's one-node graph run by the elementwise kernel (CpuKernels.Elementwise.cs) on the calling thread,
/// without a session (<see cref="IEagerKernels"/>): a float32 Add, Sub, Mul, Div, Neg, Abs, Sqrt, Reciprocal or Relu, or
/// an Rsqrt (lowered as Sqrt then Reciprocal: a program of two instructions; BatchNorm's, five a step of the seed's eager
/// loop), whose operands fit the kernel's layouts (the result's shape, a row, a column, a scalar), on the CPU, for a graph that would
/// get one intra-op thread. The kernel rounds each operation as ONNX Runtime's kernel does, so the result has the bits a
/// session would give; what it saves is the session run, about 2.8 µs, against a few nanoseconds of work for small
/// tensors. Any other one-node graph compiles to an <see cref="OrtExecutable"/>.
/// </summary>
internal sealed unsafe class ElementwiseExecutable : CallingThreadExecutable
{
    private const string ProgramName = "nnx_eager_program";

    private readonly long[] _program;
    private readonly int[] _operands;   // the graph input read as each program operand
    private readonly int _registers, _outputRegister;

    private ElementwiseExecutable(OrtBackend backend, Graph graph, long[] program, int[] operands, TimeSpan lowering) : base(backend, graph, lowering)
    {
        _program = program;
        _operands = operands;
        fixed (long* p = program)
        {
            var checkedProgram = new ElementwiseProgram(p, program.Length); // throws on a program the kernel would not run
            if (checkedProgram.Inputs != operands.Length || checkedProgram.Outputs != 1)
                throw new InvalidOperationException($"the eager program for {graph.Nodes[0].Op} reads {checkedProgram.Inputs} operand(s) and writes {checkedProgram.Outputs}.");
            _registers = checkedProgram.Inputs + checkedProgram.Instructions;
            _outputRegister = checkedProgram.Output(0);
        }
    }

    /// <summary>The kernel's executable for <paramref name="graph"/>, or null when the kernel does not run it on <paramref name="backend"/>.</summary>
    public static ElementwiseExecutable? TryCreate(OrtBackend backend, Graph graph)
    {
        if (backend.CudaDevice is not null || !OrtNative.Available || graph.Nodes.Length != 1 || graph.Outputs.Length != 1
            || graph.Outputs[0].Aval.DType != DType.Float32 || backend.ThreadsFor(graph) != 1)
            return null;
        var watch = Stopwatch.StartNew();
        // The nodes the exported file would hold (one, or a short chain such as rsqrt's Sqrt and Reciprocal), made one
        // program by the fusion pass itself; anything it leaves outside the program keeps the session.
        var model = OnnxLowering.ToModel(graph);
        if (model.Graph.Node.Count is 0 or > 2) return null;
        var avals = new Dictionary<string, Aval> { ["y0"] = graph.Outputs[0].Aval };
        for (var i = 0; i < graph.Inputs.Length; i++) avals[$"x{i}"] = graph.Inputs[i].Aval;
        HostArray? program = null;
        ElementwiseFusion.Fuse(model.Graph, v => avals.TryGetValue(v, out var a) ? a : null, c => { program = c; return ProgramName; }, minLoneElements: 1);
        if (program is null || model.Graph.Node is not [{ Domain: NnxCpuOps.Domain, OpType: NnxCpuOps.Elementwise } node]
            || node.Input[0] != ProgramName || node.Output is not ["y0"])
            return null;
        var operands = new int[node.Input.Count - 1];
        for (var k = 0; k < operands.Length; k++)
        {
            var name = node.Input[k + 1];
            if (!name.StartsWith('x') || !int.TryParse(name.AsSpan(1), out var i) || i >= graph.Inputs.Length) return null;
            operands[k] = i;
        }
        return new ElementwiseExecutable(backend, graph, program.ToLongs(), operands, watch.Elapsed);
    }

    protected override void Compute(IReadOnlyList<DeviceBuffer> inputs, OrtBuffer output)
    {
        var bases = stackalloc float*[_registers];
        for (var k = 0; k < _operands.Length; k++) bases[k] = (float*)DataOf(inputs[_operands[k]]);
        for (var j = _operands.Length; j < _registers; j++) bases[j] = null;
        bases[_outputRegister] = (float*)DataOf(output);
        fixed (long* p = _program) CpuKernels.RunElementwise(new ElementwiseProgram(p, _program.Length, check: false), bases);
        // The values behind the pointers must outlive the kernel: the inputs (through the list that holds them) and the output.
        GC.KeepAlive(inputs);
        GC.KeepAlive(output);
    }
}
