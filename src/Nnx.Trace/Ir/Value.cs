namespace NnxSharp.Ir;

/// <summary>
/// An SSA value of the IR: a graph input or the output of exactly one node. Values compare by identity;
/// the printer names them a, b, c… in order of definition.
/// </summary>
public sealed class Value
{
    internal Value(Aval aval) => Aval = aval;

    /// <summary>The shape and dtype.</summary>
    public Aval Aval { get; }

    /// <summary>The shape.</summary>
    public Shape Shape => Aval.Shape;

    /// <summary>The dtype.</summary>
    public DType DType => Aval.DType;

    /// <summary>Prints the aval (names are given by the graph printer).</summary>
    public override string ToString() => Aval.ToString();
}
