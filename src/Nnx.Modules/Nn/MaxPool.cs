namespace NnxSharp;

/// <summary>
/// <see cref="Nn.MaxPool"/> as a stateless layer for <see cref="Sequential"/> (Flax passes
/// <c>partial(nnx.max_pool, window_shape=…)</c>); the window, strides and padding are static attributes.
/// </summary>
public sealed class MaxPool : Module, ILayer
{
    /// <summary>Creates the layer. Strides default to 1 and padding to VALID, as Flax's <c>max_pool</c>.</summary>
    public MaxPool(int[] windowShape, int[]? strides = null, Padding? padding = null)
    {
        ArgumentNullException.ThrowIfNull(windowShape);
        (WindowShape, Strides, Padding) = ([.. windowShape], strides is null ? [.. Enumerable.Repeat(1, windowShape.Length)] : [.. strides], padding ?? Padding.Valid);
    }

    /// <summary>The window's size along each spatial axis.</summary>
    public int[] WindowShape { get; }

    /// <summary>The step along each spatial axis.</summary>
    public int[] Strides { get; }

    /// <summary>How the input is padded (with −∞).</summary>
    public Padding Padding { get; }

    /// <summary>The maximum over each window of x [batch..., spatial..., features].</summary>
    public Tensor Call(Tensor x) => Nn.MaxPool(x, WindowShape, Strides, Padding);
}
