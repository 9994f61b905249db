namespace NnxSharp;

/// <summary>
/// Flattens every axis from <see cref="StartAxis"/> on into one (PyTorch's <c>nn.Flatten</c>; in Flax a
/// reshape): [n, h, w, c] → [n, h·w·c] with the default start axis 1. A stateless layer for
/// <see cref="Sequential"/>.
/// </summary>
public sealed class Flatten : Module, ILayer
{
    /// <summary>Creates the layer; axes before <paramref name="startAxis"/> are kept.</summary>
    public Flatten(int startAxis = 1)
    {
        if (startAxis < 0) throw new ArgumentException($"Flatten: start axis must be ≥ 0 but is {startAxis}.", nameof(startAxis));
        StartAxis = startAxis;
    }

    /// <summary>The first axis that is flattened.</summary>
    public int StartAxis { get; }

    /// <summary>x reshaped to [x.shape[..start]…, ∏ x.shape[start..]].</summary>
    public Tensor Call(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < StartAxis)
            throw new ArgumentException($"Flatten: the input {x.Aval} has fewer than the {StartAxis} axes kept before the flattened ones.", nameof(x));
        return x.Reshape([.. x.Shape.Take(StartAxis), x.Shape.Skip(StartAxis).Aggregate(1, (a, b) => a * b)]);
    }
}
