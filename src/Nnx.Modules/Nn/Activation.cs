namespace NnxSharp;

/// <summary>
/// A stateless layer that applies a function (<c>new Activation(Nn.Relu)</c>), so an activation can sit in a
/// <see cref="Sequential"/>. The function is a static attribute of the graph, compared as a delegate: the same
/// method (or the same non-capturing lambda) gives equal GraphDefs.
/// </summary>
public sealed class Activation : Module, ILayer
{
    /// <summary>Wraps <paramref name="function"/>.</summary>
    public Activation(Func<Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        Function = function;
    }

    /// <summary>The function applied.</summary>
    public Func<Tensor, Tensor> Function { get; }

    /// <summary>Function(x).</summary>
    public Tensor Call(Tensor x) => Function(x);
}
