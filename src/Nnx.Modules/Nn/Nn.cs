namespace NnxSharp;

/// <summary>
/// Activation functions and softmax, as <c>jax.nn</c> (<c>nnx.relu</c>, <c>nnx.gelu</c>, …): composites of
/// primitives, so they differentiate, trace and export like any other tensor code.
/// </summary>
public static class Nn
{
    /// <summary>√(2/π), the constant of the tanh approximation of GELU.</summary>
    private static readonly double Sqrt2OverPi = Math.Sqrt(2 / Math.PI);

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) => Checked(x, "relu").Relu();

    /// <summary>
    /// The Gaussian error linear unit x·Φ(x). Approximate (the default, as <c>jax.nn.gelu</c>):
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))); exact: ½x(1 + erf(x/√2)).
    /// </summary>
    public static Tensor Gelu(Tensor x, bool approximate = true)
    {
        Checked(x, "gelu");
        return approximate
            ? x * 0.5 * (1.0 + ((x + 0.044715 * x * x * x) * Sqrt2OverPi).Tanh())
            : x * 0.5 * (1.0 + (x * (1 / Math.Sqrt(2))).Erf());
    }

    /// <summary>The sigmoid linear unit (swish) x·σ(x).</summary>
    public static Tensor Silu(Tensor x) => Checked(x, "silu") * x.Sigmoid();

    /// <summary>The logistic sigmoid σ(x) = 1/(1 + e^−x).</summary>
    public static Tensor Sigmoid(Tensor x) => Checked(x, "sigmoid").Sigmoid();

    /// <summary>The hyperbolic tangent.</summary>
    public static Tensor Tanh(Tensor x) => Checked(x, "tanh").Tanh();

    /// <summary>
    /// Softmax along <paramref name="axis"/>: e^(x−m) / Σ e^(x−m) with m the maximum along the axis, taken as a
    /// constant (the result does not depend on it, so neither does its gradient), as <c>jax.nn.softmax</c>.
    /// </summary>
    public static Tensor Softmax(Tensor x, int axis = -1)
    {
        var e = Shifted(x, axis, "softmax").Exp();
        return e / e.Sum(axis, keepDims: true);
    }

    /// <summary>log softmax along <paramref name="axis"/>: (x − m) − log Σ e^(x−m), stable for large logits.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis = -1)
    {
        var z = Shifted(x, axis, "log_softmax");
        return z - z.Exp().Sum(axis, keepDims: true).Log();
    }

    /// <summary>x minus its maximum along <paramref name="axis"/> (held constant for the gradient).</summary>
    private static Tensor Shifted(Tensor x, int axis, string op) => Checked(x, op) - x.Max(axis, keepDims: true).StopGradient();

    /// <summary>Returns <paramref name="x"/> when it has a float dtype; throws naming the function otherwise.</summary>
    internal static Tensor Checked(Tensor x, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!x.DType.IsFloat())
            throw new ArgumentException($"{op}: expected a float tensor but got {x.Aval}.", nameof(x));
        return x;
    }
}
