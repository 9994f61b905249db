namespace NnxSharp;

/// <summary>
/// Layers applied one after another, y = fₙ(…f₂(f₁(x))) (Flax's <c>nnx.Sequential</c>): the layers are in
/// <see cref="Layers"/>, so their state paths are <c>layers/0/kernel</c>, <c>layers/2/bias</c>, ….
/// Activations go in as <see cref="Activation"/> layers.
/// <code>
/// var mlp = new Sequential(new Linear(2, 16, rngs), new Activation(Nn.Relu), new Linear(16, 1, rngs));
/// </code>
/// </summary>
public sealed class Sequential : Module, ILayer
{
    /// <summary>Chains <paramref name="layers"/> in order.</summary>
    public Sequential(params ILayer[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        for (var i = 0; i < layers.Length; i++)
            if (layers[i] is null) throw new ArgumentException($"Sequential: layer {i} is null.", nameof(layers));
        Layers = [.. layers];
    }

    /// <summary>The layers, in the order they are applied.</summary>
    public List<ILayer> Layers { get; }

    /// <summary>x passed through every layer in turn.</summary>
    public Tensor Call(Tensor x)
    {
        foreach (var layer in Layers) x = layer.Call(x);
        return x;
    }
}
