namespace NnxSharp.Primitives;

/// <summary>Special functions for reference evaluation.</summary>
internal static class SpecialFunctions
{
    /// <summary>erf(x) to double precision (W. J. Cody's rational approximations via erfc for |x| ≥ 0.5).</summary>
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
