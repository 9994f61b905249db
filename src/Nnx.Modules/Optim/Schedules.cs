using System.Globalization;

namespace NnxSharp;

/// <summary>optax's schedules, computed from the step count with tensor operations.</summary>
public static class Schedules
{
    /// <summary>Always <paramref name="value"/>.</summary>
    public static Schedule Constant(double value) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{value}"), _ => Tensor.Scalar(value, DType.Float64), [nameof(Constant), value]);

    /// <summary>
    /// From <paramref name="init"/> to <paramref name="end"/> linearly over <paramref name="transitionSteps"/> steps
    /// starting at <paramref name="transitionBegin"/>, then <paramref name="end"/> (optax.linear_schedule).
    /// </summary>
    public static Schedule Linear(double init, double end, int transitionSteps, int transitionBegin = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(transitionSteps);
        return new($"linear({init}→{end} over {transitionSteps})", [nameof(Linear), init, end, transitionSteps, transitionBegin], count =>
        {
            var c = (count - transitionBegin).Maximum(0).Minimum(transitionSteps);
            var frac = 1.0 - c / transitionSteps;
            return (init - end) * frac + end;
        });
    }

    /// <summary>
    /// <c>init · ((1 − α)·(½(1 + cos(π·min(t, T)/T)))^p + α)</c> (optax.cosine_decay_schedule).
    /// </summary>
    public static Schedule CosineDecay(double init, int decaySteps, double alpha = 0, double exponent = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(decaySteps);
        return new($"cosine_decay({init}, {decaySteps})", [nameof(CosineDecay), init, decaySteps, alpha, exponent], count =>
        {
            var t = count.Maximum(0).Minimum(decaySteps) / decaySteps;
            var cosine = 0.5 * (1.0 + CosPi(t));
            var decayed = (1 - alpha) * (exponent == 1 ? cosine : cosine.Pow(exponent)) + alpha;
            return init * decayed;
        });
    }

    /// <summary>
    /// Linear warmup from <paramref name="init"/> to <paramref name="peak"/> over <paramref name="warmupSteps"/>,
    /// then cosine decay to <paramref name="end"/> at <paramref name="decaySteps"/> (optax.warmup_cosine_decay_schedule).
    /// </summary>
    public static Schedule WarmupCosineDecay(double init, double peak, int warmupSteps, int decaySteps, double end = 0, double exponent = 1)
    {
        var alpha = peak == 0 ? 0 : end / peak;
        var warmup = Linear(init, peak, Math.Max(warmupSteps, 1));
        var decay = CosineDecay(peak, Math.Max(decaySteps - warmupSteps, 1), alpha, exponent);
        return new($"warmup_cosine_decay({init}→{peak}→{end})", [nameof(WarmupCosineDecay), init, peak, warmupSteps, decaySteps, end, exponent], count =>
            Tensor.Where(count < warmupSteps, warmup.At(count), decay.At(count - warmupSteps)));
    }

    /// <summary>
    /// cos(π·t) for t in [0, 1], from sin's Taylor series on [−π/2, π/2] (error under 1e-11): the primitive set
    /// has no trigonometric functions, and a schedule needs only this range.
    /// </summary>
    internal static Tensor CosPi(Tensor t)
    {
        var u = Math.PI * (t - 0.5);
        var u2 = u * u;
        // sin(u) = u(1 − u²/3!(1 − u²/(4·5)(1 − u²/(6·7)(…)))), Horner form to u^17.
        Tensor poly = 1.0 - u2 / (16.0 * 17.0);
        for (var k = 14; k >= 2; k -= 2) poly = 1.0 - u2 / (k * (k + 1.0)) * poly;
        return -(u * poly);
    }
}
