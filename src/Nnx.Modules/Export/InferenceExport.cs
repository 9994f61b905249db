using System.Reflection;
using NnxSharp.Ir;
using NnxSharp.Onnx;

namespace NnxSharp;

/// <summary>
/// Exports a model's evaluation-mode forward pass as an inference <c>.onnx</c> file: traced on the model itself
/// (its variables hold symbolic inputs while the forward runs), optimised, and lowered with the variables it uses
/// as initializers named by state path, a symbolic batch axis, and doc strings.
/// </summary>
internal static class InferenceExport
{
    public const string InputName = "input", OutputName = "output";

    public static void Export(string path, Module model, Tensor exampleInput, Func<Tensor, Tensor>? forward, bool dynamicBatch)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(exampleInput);
        forward ??= CallOf(model);
        var aval = exampleInput.Aval;
        if (dynamicBatch && aval.Shape.Rank == 0)
            throw new ArgumentException($"ExportInference: the example input is a scalar {aval}; a batch axis needs a first dimension (or pass dynamicBatch: false).", nameof(exampleInput));
        var modes = model.Modules().Select(m => (m.Module, m.Module.Training)).ToArray();
        model.Eval();
        try
        {
            var snapshot = GraphSnapshot.For([model], tupleRoot: false);
            var paths = snapshot.GraphDef.StateDef.Paths;
            var graph = Trace(snapshot, forward, aval);
            Graph? other = null;
            if (dynamicBatch)
            {
                var dims = aval.Shape.ToArray();
                dims[0] = 2 * dims[0] + 3;   // another batch size, to prove the graph does not depend on it
                other = Trace(snapshot, forward, new Aval(Shape.Of(dims), aval.DType));
            }
            var values = snapshot.Variables.Select(v => v.RawValue.ToHost()).ToArray();
            var batch = dynamicBatch ? "batch" : aval.Shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
            var outAval = graph.Outputs[0].Aval;
            string Dims(Aval a, bool batched) => a.DType.ShortName() + "[" + string.Join(",", a.Shape.Select((d, i) => i == 0 && batched ? batch : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            var typeName = model.GetType().Name;
            var docs = (
                $"{typeName} for inference, exported by Nnx {Nnx.Version}: evaluation mode (running statistics, no dropout), " +
                $"weights as initializers named by state path (linear/kernel…). Input '{InputName}' {Dims(aval, true)}, output '{OutputName}' " +
                $"{Dims(outAval, outAval.Shape.Rank > 0 && outAval.Shape[0] == aval.Shape[0])}" + (dynamicBatch ? "; the first axis is the batch, of any size." : "."),
                $"The model's input, {Dims(aval, true)}" + (dynamicBatch ? "; the first axis is the batch, of any size." : "."),
                $"The model's output in evaluation mode, {Dims(outAval, outAval.Shape.Rank > 0 && outAval.Shape[0] == aval.Shape[0])}.");
            var bytes = InferenceModel.Build(graph, other, paths, values, InputName, OutputName, docs, typeName);
            SafeTensors.WriteAtomically(path, s => s.Write(bytes));
        }
        finally
        {
            foreach (var (module, training) in modes) module.SetTrainingFlag(training);
        }
    }

    /// <summary>The forward pass at one input aval: variables and the input are graph inputs, in that order; the model may not change its state.</summary>
    private static Graph Trace(GraphSnapshot snapshot, Func<Tensor, Tensor> forward, Aval input)
    {
        var variables = snapshot.Variables;
        var saved = variables.Select(v => (v.RawValue, v.IsShared)).ToArray();
        using var scope = TraceBuilder.Begin();
        try
        {
            var inputs = new Tensor[variables.Length];
            for (var i = 0; i < variables.Length; i++)
            {
                inputs[i] = scope.Builder.AddInput(variables[i].Aval);
                variables[i].SetRaw(inputs[i], shared: true);
            }
            var x = scope.Builder.AddInput(input);
            var y = forward(x) ?? throw new InvalidOperationException("ExportInference: the forward pass returned null.");
            for (var i = 0; i < variables.Length; i++)
                if (!ReferenceEquals(variables[i].RawValue, inputs[i]))
                    throw new InvalidOperationException(
                        $"ExportInference: in evaluation mode the forward pass changed '{snapshot.GraphDef.StateDef.Paths[i]}'; an inference graph has no state, " +
                        "so the model must not update variables when Training is false.");
            return NnxSharp.Passes.PassPipeline.Optimize(scope.Builder.Finish([y]));
        }
        finally
        {
            for (var i = 0; i < variables.Length; i++) variables[i].SetRaw(saved[i].RawValue, saved[i].IsShared);
        }
    }

    /// <summary>The model's public <c>Tensor Call(Tensor)</c> method.</summary>
    private static Func<Tensor, Tensor> CallOf(Module model)
    {
        var method = model.GetType().GetMethod("Call", BindingFlags.Public | BindingFlags.Instance, [typeof(Tensor)]);
        if (method is null || method.ReturnType != typeof(Tensor))
            throw new ArgumentException(
                $"ExportInference: {model.GetType().Name} has no public method Tensor Call(Tensor); pass the forward pass: forward: x => model.Forward(x).", nameof(model));
        return method.CreateDelegate<Func<Tensor, Tensor>>(model);
    }
}
