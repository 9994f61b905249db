using Google.Protobuf;
using NnxSharp.Onnx;

namespace NnxSharp;

/// <summary>Writes jitted functions as standard <c>.onnx</c> files that any ONNX Runtime can run, with their initial state.</summary>
public static class JitExport
{
    /// <summary>
    /// Traces (or reuses) the jitted function for these arguments and writes its optimised graph to
    /// <paramref name="path"/>, and its initial state next to it (<c>train_step.onnx</c> →
    /// <c>train_step.safetensors</c>, keyed by input name), so that another runtime can train from it.
    /// <para>
    /// Names, the same for <c>Nnx.Jit</c> and <c>Jit.Pure</c>: an input is named by its argument and path
    /// (<c>model/linear/kernel</c>, <c>optimizer/step</c>, <c>s/linear/kernel</c>, <c>x</c>). <b>An output
    /// <c>new/&lt;input&gt;</c> is the value of input <c>&lt;input&gt;</c> for the next step</b>: feed it back
    /// (<c>new/model/linear/kernel</c> → <c>model/linear/kernel</c>). For <c>Nnx.Jit</c> every variable is a state
    /// input and each variable the step changed has a <c>new/</c> output; for <c>Jit.Pure</c> a result with the
    /// structure and avals of a tree argument (the returned State) is that argument's next value. Other results
    /// are <c>out</c>, or <c>out0</c>, <c>out1</c>… and their paths for a tuple. Static arguments are baked in.
    /// </para>
    /// </summary>
    public static void Export(this Delegate jitted, string path, params object?[] args)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var jit = JitRegistry.Of(jitted);
        var c = jit.Inspect(args);
        var name = StepName(jit.Name, path);
        var statePath = Path.ChangeExtension(path, ".safetensors");
        var stateCount = c.StateInputs.Count(s => s);
        var doc =
            $"Step '{name}' exported by Nnx {typeof(JitExport).Assembly.GetName().Version}. Each output new/<input> is the value of input <input> " +
            "for the next step: feed it back. " +
            (stateCount > 0 ? $"The {stateCount} state inputs' initial values are in {Path.GetFileName(statePath)}, keyed by input name; the other inputs are data. " : "") +
            "Other outputs (out, out0, out1…) are the step's results.";
        var model = OnnxLowering.ToModel(c.Optimized, c.InputNames, c.OutputNames, docString: doc);
        model.Graph.Name = name;
        model.Graph.DocString = doc;
        var fed = new HashSet<string>(c.OutputNames.Where(o => o.StartsWith("new/", StringComparison.Ordinal)).Select(o => o[4..]), StringComparer.Ordinal);
        for (var i = 0; i < model.Graph.Input.Count; i++)
        {
            var input = model.Graph.Input[i];
            input.DocString = !c.StateInputs[i] ? "Data: give each step's value."
                : fed.Contains(input.Name) ? $"State: initially {Path.GetFileName(statePath)}['{input.Name}'], then output new/{input.Name} of the previous step."
                : $"State the step does not change: {Path.GetFileName(statePath)}['{input.Name}'] at every step.";
        }
        foreach (var output in model.Graph.Output)
            output.DocString = output.Name.StartsWith("new/", StringComparison.Ordinal) ? $"The next value of input {output.Name[4..]}." : "A result of the step.";
        var bytes = model.ToByteArray();
        SafeTensors.WriteAtomically(path, s => s.Write(bytes));
        if (stateCount > 0)
        {
            var state = Enumerable.Range(0, c.InputNames.Length).Where(i => c.StateInputs[i])
                .Select(i => new KeyValuePair<string, HostArray>(c.InputNames[i], c.InputValues[i].ToHost()));
            SafeTensors.Save(statePath, state, new Dictionary<string, string> { ["nnx.step_graph"] = Path.GetFileName(path) });
        }
    }

    /// <summary>
    /// The step as this process's CPU provider runs it, with the machine's own kernels (NCHWc convolutions), which an
    /// exported file leaves out; inputs and outputs are named as in <see cref="Export"/>. For profiling.
    /// </summary>
    internal static byte[] InProcessModel(this Delegate jitted, params object?[] args)
    {
        var c = JitRegistry.Of(jitted).Inspect(args);
        return OnnxLowering.ToModel(c.Optimized, c.InputNames, c.OutputNames, inProcess: true).ToByteArray();
    }

    /// <summary>
    /// The step's name for the graph: a named method's or local function's name (<c>TrainStep</c>), else, for a
    /// lambda (a compiler-generated name such as <c>&lt;Main&gt;b__0_0</c>), the file's name without extension.
    /// </summary>
    internal static string StepName(string methodName, string path)
    {
        if (!methodName.Contains('<', StringComparison.Ordinal)) return methodName;
        var local = methodName.IndexOf(">g__", StringComparison.Ordinal);
        if (local >= 0)
        {
            var rest = methodName[(local + 4)..];
            var bar = rest.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0) return rest[..bar];
        }
        return Path.GetFileNameWithoutExtension(path) is { Length: > 0 } stem ? stem : "step";
    }
}
