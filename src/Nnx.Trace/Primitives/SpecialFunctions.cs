namespace NnxSharp.Primitives;

/// <summary>Special functions for reference evaluation.</summary>
internal static class SpecialFunctions
{
    /// <summary>erf(x) to double precision: its Maclaurin series for |x| &lt; 0.5, else 1 − erfc(|x|) with erfc from its continued fraction (modified Lentz).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        var ax = Math.Abs(x);
        if (ax < 0.5)
        {
            // Maclaurin series: converges fast for small |x|.
            double sum = x, term = x, x2 = x * x;
            for (var n = 1; n < 30; n++)
            {
                term *= -x2 / n;
                var add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        var r = 1 - Erfc(ax);
        return x < 0 ? -r : r;
    }

    /// <summary>
    /// Nodes c and weights w with erf x = x · Σ w_i e^(−(x c_i)²) for |x| ≤ 6 to about 5e-16: the 24-point
    /// Gauss–Legendre rule for 2/√π ∫₀ˣ e^(−t²) dt, mapped from [−1, 1] to [0, 1].
    /// </summary>
    public static (double[] Nodes, double[] Weights) ErfQuadrature { get; } = MakeErfQuadrature(24);

    private static (double[] Nodes, double[] Weights) MakeErfQuadrature(int n)
    {
        var (nodes, weights) = (new double[n], new double[n]);
        for (var i = 0; i < n; i++)
        {
            // Newton's method on the Legendre polynomial P_n from the Chebyshev-like initial guess.
            var z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            for (var iter = 0; iter < 100; iter++)
            {
                var (p, dp) = Legendre(n, z);
                z -= p / dp;
                if (Math.Abs(p / dp) < 1e-16) break;
            }
            var slope = Legendre(n, z).Derivative;
            nodes[i] = (1 + z) / 2;
            weights[i] = 2 / ((1 - z * z) * slope * slope) / Math.Sqrt(Math.PI);
        }
        return (nodes, weights);
    }

    /// <summary>P_n(z) and P_n'(z) by the three-term recurrence.</summary>
    private static (double Value, double Derivative) Legendre(int n, double z)
    {
        double p0 = 1, p1 = z;
        for (var k = 2; k <= n; k++) (p0, p1) = (p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k);
        return (p1, n * (z * p1 - p0) / (z * z - 1));
    }

    /// <summary>erfc(x) for x ≥ 0.5 by its continued fraction (Lentz), accurate to ~1e-16.</summary>
    private static double Erfc(double x)
    {
        if (x > 27) return 0;
        // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
        const double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (var n = 1; n < 500; n++)
        {
            var a = n / 2.0;
            d = x + a * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + a / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }
}
