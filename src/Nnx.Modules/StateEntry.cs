namespace NnxSharp;

/// <summary>One entry of a <see cref="State"/>: the variable's path, its kind (a <see cref="Variable"/> type) and its value.</summary>
/// <param name="Path">The path from the root: <c>layers/0/bn/mean</c>.</param>
/// <param name="Kind">The variable's type: <c>typeof(Param)</c>, <c>typeof(BatchStat)</c>, ….</param>
/// <param name="Value">The tensor (symbolic inside a trace).</param>
public readonly record struct StateEntry(string Path, Type Kind, Tensor Value)
{
    /// <summary>The value's shape and dtype.</summary>
    public Aval Aval => Value.Aval;

    /// <summary>Prints as <c>linear/kernel: Param f32[2,3]</c>.</summary>
    public override string ToString() => $"{Path}: {Kind.Name} {Value.Aval}";
}
