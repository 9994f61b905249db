namespace NnxSharp.Primitives;

/// <summary>The operands of a lowering: ONNX value names with their avals, and the output aval.</summary>
/// <param name="Inputs">The ONNX names of the operands.</param>
/// <param name="InputAvals">The operands' avals.</param>
/// <param name="Output">The result's aval.</param>
public sealed record LowerArgs(IReadOnlyList<string> Inputs, IReadOnlyList<Aval> InputAvals, Aval Output);
