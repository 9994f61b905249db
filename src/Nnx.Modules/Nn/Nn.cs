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

    /// <summary>The leaky rectifier, as <c>jax.nn.leaky_relu</c>: x where x ≥ 0, else negativeSlope·x.</summary>
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) =>
        Tensor.Where(Checked(x, "leaky_relu") >= 0, x, x * negativeSlope);

    /// <summary>The exponential linear unit, as <c>jax.nn.elu</c>: x where x &gt; 0, else α(eˣ − 1) (the exponent is taken of min(x, 0), so large x never overflows).</summary>
    public static Tensor Elu(Tensor x, double alpha = 1.0)
    {
        var positive = Checked(x, "elu") > 0;
        return Tensor.Where(positive, x, alpha * (Tensor.Where(positive, 0.0, x).Exp() - 1.0));
    }

    /// <summary>softplus(x) = log(1 + eˣ), as <c>jax.nn.softplus</c> (logaddexp(x, 0)): max(x, 0) + log(1 + e^−|x|), stable for any x.</summary>
    public static Tensor Softplus(Tensor x) => Checked(x, "softplus").Maximum(0.0) + ((-x.Abs()).Exp() + 1.0).Log();

    /// <summary>
    /// log Σ eˣ over <paramref name="axes"/> (all when null), as <c>jax.nn.logsumexp</c>: the maximum m is
    /// subtracted first and held constant for the gradient (taken as 0 where it is not finite, so a slice of
    /// −∞ gives −∞).
    /// </summary>
    public static Tensor LogSumExp(Tensor x, int[]? axes = null, bool keepDims = false)
    {
        Checked(x, "logsumexp");
        var all = axes ?? [.. Enumerable.Range(0, x.Rank)];
        var m = x.Max(all, keepDims: true);
        m = Tensor.Where(m.Abs() < double.PositiveInfinity, m, 0.0).StopGradient();
        var r = (x - m).Exp().Sum(all, keepDims: true).Log() + m;
        if (keepDims) return r;
        return r.Reshape([.. x.Shape.Where((_, d) => !all.Select(a => a < 0 ? a + x.Rank : a).Contains(d))]);
    }

    /// <summary>log Σ eˣ along one axis.</summary>
    public static Tensor LogSumExp(Tensor x, int axis, bool keepDims = false) => LogSumExp(x, [axis], keepDims);

    /// <summary>
    /// One-hot encoding, as <c>jax.nn.one_hot</c>: a new axis of <paramref name="numClasses"/> (last by default)
    /// that is 1 at the integer label and 0 elsewhere; labels outside [0, numClasses) give all zeros.
    /// </summary>
    public static Tensor OneHot(Tensor x, int numClasses, DType dtype = DType.Float32, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.DType.IsFloat() || x.DType == DType.Bool)
            throw new ArgumentException($"one_hot: expected integer labels but got {x.Aval}.", nameof(x));
        if (numClasses < 0) throw new ArgumentException($"one_hot: numClasses must be ≥ 0 but is {numClasses}.", nameof(numClasses));
        var a = axis < 0 ? axis + x.Rank + 1 : axis;
        if (a < 0 || a > x.Rank) throw new ArgumentException($"one_hot: axis {axis} is out of range for labels {x.Aval}.", nameof(axis));
        int[] shape = [.. x.Shape.Take(a), numClasses, .. x.Shape.Skip(a)];
        var classes = Tensor.Iota(DType.Int64, Shape.Of(shape), a);
        return classes.Equal(x.Cast(DType.Int64).ExpandDims(a)).Cast(dtype);
    }

    /// <summary>
    /// Max pooling, as Flax's <c>nnx.max_pool</c>: the maximum of each window of x [batch..., spatial..., features]
    /// (channels last). Strides default to 1 and padding to VALID, as in Flax; padded positions are −∞.
    /// </summary>
    public static Tensor MaxPool(Tensor x, int[] windowShape, int[]? strides = null, Padding? padding = null) =>
        Pool.Apply(x, windowShape, strides, padding ?? Padding.Valid, Pool.Kind.Max, mean: false, divideByValid: false, "max_pool");

    /// <summary>
    /// Average pooling, as Flax's <c>nnx.avg_pool</c>: the mean of each window of x [batch..., spatial..., features].
    /// Strides default to 1 and padding to VALID. Padded positions are zeros counted in the mean
    /// (<paramref name="countIncludePad"/>, Flax's default) or left out of it.
    /// </summary>
    public static Tensor AvgPool(Tensor x, int[] windowShape, int[]? strides = null, Padding? padding = null, bool countIncludePad = true) =>
        Pool.Apply(x, windowShape, strides, padding ?? Padding.Valid, Pool.Kind.Sum, mean: true, divideByValid: !countIncludePad, "avg_pool");

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
