namespace NnxSharp;

/// <summary>
/// Parameter initializers, as <c>jax.nn.initializers</c>: each returns an <see cref="Initializer"/>, a
/// function of (key, shape, dtype). Random ones draw with <see cref="Prng"/>, so a key gives the same
/// numbers eagerly and in a trace.
/// </summary>
public static class Init
{
    /// <summary>The standard deviation of a standard normal truncated to (−2, 2), which truncated-normal variance scaling divides by.</summary>
    private const double TruncatedStddev = .87962566103423978;

    /// <summary>Every element equal to <paramref name="value"/> (<c>constant(value)</c>); the key is not used.</summary>
    public static Initializer Constant(double value) => (_, shape, dtype) => Tensor.Full(value, dtype, shape);

    /// <summary>All zeros (<c>zeros</c>).</summary>
    public static Initializer Zeros { get; } = Constant(0);

    /// <summary>All ones (<c>ones</c>).</summary>
    public static Initializer Ones { get; } = Constant(1);

    /// <summary>Uniform on [0, scale) (<c>uniform(scale=1e-2)</c>).</summary>
    public static Initializer Uniform(double scale = 1e-2) => (key, shape, dtype) => Prng.Uniform(key, shape, dtype) * scale;

    /// <summary>Normal with mean 0 and standard deviation <paramref name="stddev"/> (<c>normal(stddev=1e-2)</c>).</summary>
    public static Initializer Normal(double stddev = 1e-2) => (key, shape, dtype) => Prng.Normal(key, shape, dtype) * stddev;

    /// <summary>
    /// stddev · z with z a standard normal truncated to (lower, upper) (<c>truncated_normal(stddev=1e-2, lower=-2, upper=2)</c>):
    /// the bounds are in standard deviations, and the result's standard deviation is below stddev.
    /// </summary>
    public static Initializer TruncatedNormal(double stddev = 1e-2, double lower = -2, double upper = 2) =>
        (key, shape, dtype) => Prng.TruncatedNormal(key, lower, upper, shape, dtype) * stddev;

    /// <summary>
    /// Variance scaling (<c>variance_scaling</c>): a draw with variance v = scale / n, where n is fan_in, fan_out
    /// or their mean. fan_in = shape[inAxis]·r and fan_out = shape[outAxis]·r with r the product of the other
    /// dimensions (the receptive field of a convolution kernel). Truncated normal: z·√v / 0.8796…, z on
    /// (−2, 2); normal: z·√v; uniform: U[−1, 1)·√(3v).
    /// </summary>
    public static Initializer VarianceScaling(double scale, FanMode mode, InitDistribution distribution, int inAxis = -2, int outAxis = -1)
    {
        if (!(scale > 0)) throw new ArgumentException($"variance_scaling: scale must be positive but is {scale}.", nameof(scale));
        return (key, shape, dtype) =>
        {
            var (fanIn, fanOut) = Fans(shape, inAxis, outAxis);
            var n = mode switch
            {
                FanMode.FanIn => fanIn,
                FanMode.FanOut => fanOut,
                FanMode.FanAvg => (fanIn + fanOut) / 2,
                _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "variance_scaling: unknown mode."),
            };
            var variance = scale / n;
            return distribution switch
            {
                InitDistribution.TruncatedNormal => Prng.TruncatedNormal(key, -2, 2, shape, dtype) * (Math.Sqrt(variance) / TruncatedStddev),
                InitDistribution.Normal => Prng.Normal(key, shape, dtype) * Math.Sqrt(variance),
                InitDistribution.Uniform => Prng.Uniform(key, shape, dtype, -1, 1) * Math.Sqrt(3 * variance),
                _ => throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "variance_scaling: unknown distribution."),
            };
        };
    }

    /// <summary>
    /// (fan_in, fan_out) of a weight shape, as JAX's <c>_compute_fans</c>: the in- and out-axis sizes, each times
    /// the receptive field (the size divided by both axes' sizes). The shape must have rank ≥ 2.
    /// </summary>
    public static (double FanIn, double FanOut) Fans(int[] shape, int inAxis = -2, int outAxis = -1)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < 2)
            throw new ArgumentException($"variance_scaling: cannot compute the input and output sizes of a weight of shape [{string.Join(",", shape)}]: it must have rank ≥ 2.");
        var s = Shape.Of(shape);
        var (i, o) = (s.Axis(inAxis, "variance_scaling"), s.Axis(outAxis, "variance_scaling"));
        // As JAX: the receptive field is the size over both axes' sizes, even when they are the same axis
        // (Flax's embedding init, out axis 0 with in axis −2 of a matrix, then gets fan_in = features).
        var receptive = (double)s.Size / shape[i] / shape[o];
        return (shape[i] * receptive, shape[o] * receptive);
    }

    /// <summary>LeCun normal: variance 1/fan_in, truncated normal (<c>lecun_normal</c>, Flax's default kernel init).</summary>
    public static Initializer LecunNormal(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanIn, InitDistribution.TruncatedNormal, inAxis, outAxis);

    /// <summary>LeCun uniform: variance 1/fan_in, uniform (<c>lecun_uniform</c>).</summary>
    public static Initializer LecunUniform(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanIn, InitDistribution.Uniform, inAxis, outAxis);

    /// <summary>Glorot (Xavier) normal: variance 2/(fan_in + fan_out), truncated normal (<c>glorot_normal</c>).</summary>
    public static Initializer GlorotNormal(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanAvg, InitDistribution.TruncatedNormal, inAxis, outAxis);

    /// <summary>Glorot (Xavier) uniform: variance 2/(fan_in + fan_out), uniform (<c>glorot_uniform</c>).</summary>
    public static Initializer GlorotUniform(int inAxis = -2, int outAxis = -1) => VarianceScaling(1, FanMode.FanAvg, InitDistribution.Uniform, inAxis, outAxis);

    /// <summary>He (Kaiming) normal: variance 2/fan_in, truncated normal (<c>he_normal</c>).</summary>
    public static Initializer HeNormal(int inAxis = -2, int outAxis = -1) => VarianceScaling(2, FanMode.FanIn, InitDistribution.TruncatedNormal, inAxis, outAxis);

    /// <summary>He (Kaiming) uniform: variance 2/fan_in, uniform (<c>he_uniform</c>).</summary>
    public static Initializer HeUniform(int inAxis = -2, int outAxis = -1) => VarianceScaling(2, FanMode.FanIn, InitDistribution.Uniform, inAxis, outAxis);

    /// <summary>Xavier normal: the same as <see cref="GlorotNormal"/>.</summary>
    public static Initializer XavierNormal(int inAxis = -2, int outAxis = -1) => GlorotNormal(inAxis, outAxis);

    /// <summary>Xavier uniform: the same as <see cref="GlorotUniform"/>.</summary>
    public static Initializer XavierUniform(int inAxis = -2, int outAxis = -1) => GlorotUniform(inAxis, outAxis);

    /// <summary>Kaiming normal: the same as <see cref="HeNormal"/>.</summary>
    public static Initializer KaimingNormal(int inAxis = -2, int outAxis = -1) => HeNormal(inAxis, outAxis);

    /// <summary>Kaiming uniform: the same as <see cref="HeUniform"/>.</summary>
    public static Initializer KaimingUniform(int inAxis = -2, int outAxis = -1) => HeUniform(inAxis, outAxis);
}
