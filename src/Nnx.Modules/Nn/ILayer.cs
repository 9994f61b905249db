namespace NnxSharp;

/// <summary>A layer with one input and one output, <c>y = layer.Call(x)</c>: what <see cref="Sequential"/> chains.</summary>
public interface ILayer
{
    /// <summary>Applies the layer to <paramref name="x"/>.</summary>
    Tensor Call(Tensor x);
}
