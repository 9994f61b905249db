namespace NnxSharp;

/// <summary>
/// <see cref="Nn.AvgPool"/> as a stateless layer for <see cref="Sequential"/>; the window, strides, padding and
/// whether padded zeros count are static attributes.
/// </summary>
public sealed class AvgPool : Module, ILayer
{
    /// <summary>Creates the layer. Strides default to 1, padding to VALID and padded zeros count, as Flax's <c>avg_pool</c>.</summary>
    public AvgPool(int[] windowShape, int[]? strides = null, Padding? padding = null, bool countIncludePad = true)
    {
        ArgumentNullException.ThrowIfNull(windowShape);
        (WindowShape, Strides, Padding, CountIncludePad) =
            ([.. windowShape], strides is null ? [.. Enumerable.Repeat(1, windowShape.Length)] : [.. strides], padding ?? Padding.Valid, countIncludePad);
    }

    /// <summary>The window's size along each spatial axis.</summary>
    public int[] WindowShape { get; }

    /// <summary>The step along each spatial axis.</summary>
    public int[] Strides { get; }

    /// <summary>How the input is padded (with zeros).</summary>
    public Padding Padding { get; }

    /// <summary>Whether padded zeros count in each window's mean.</summary>
    public bool CountIncludePad { get; }

    /// <summary>The mean over each window of x [batch..., spatial..., features].</summary>
    public Tensor Call(Tensor x) => Nn.AvgPool(x, WindowShape, Strides, Padding, CountIncludePad);
}
