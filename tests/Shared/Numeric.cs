using FluentAssertions;
using NnxSharp;

namespace NnxSharp.Tests;

/// <summary>Random float64 inputs and central finite differences for gradient checks (shared, as a linked file, by the Trace and Modules tests).</summary>
internal static class Numeric
{
    public enum Domain { Any, Positive, AwayFromZero }

    public static Tensor Random(Random rng, int[] shape, Domain domain = Domain.Any)
    {
        var n = shape.Aggregate(1, (a, b) => a * b);
        var data = new double[n];
        for (var i = 0; i < n; i++)
        {
            var u = rng.NextDouble();
            data[i] = domain switch
            {
                Domain.Positive => 0.5 + 1.5 * u,
                Domain.AwayFromZero => (0.5 + 1.5 * u) * (rng.Next(2) == 0 ? -1 : 1),
                _ => 4 * u - 2,
            };
        }
        return Tensor.FromArray(data, shape);
    }

    public static Tensor With(Tensor t, int k, double delta)
    {
        var data = t.ToArray<double>();
        data[k] += delta;
        return Tensor.FromArray(data, t.Shape.ToArray());
    }

    /// <summary>Central differences of a scalar function with respect to every element of every input.</summary>
    public static double[][] FiniteDifferences(Func<Tensor[], Tensor> f, Tensor[] xs, double eps)
    {
        var result = new double[xs.Length][];
        for (var i = 0; i < xs.Length; i++)
        {
            result[i] = new double[xs[i].Size];
            for (var k = 0; k < xs[i].Size; k++)
            {
                var plus = (Tensor[])xs.Clone();
                var minus = (Tensor[])xs.Clone();
                plus[i] = With(xs[i], k, eps);
                minus[i] = With(xs[i], k, -eps);
                result[i][k] = (f(plus).Item<double>() - f(minus).Item<double>()) / (2 * eps);
            }
        }
        return result;
    }

    /// <summary>
    /// Checks reverse-mode gradients of a scalar function against central differences: |ad − fd| ≤ tol·(1 + |fd|).
    /// Returns the largest scaled error |ad − fd| / (1 + |fd|).
    /// </summary>
    public static double CheckGrad(Func<Tensor[], Tensor> f, Tensor[] xs, double eps = 1e-6, double tol = 1e-6, string because = "")
    {
        var largest = 0.0;
        var grads = Autodiff.Grad<Tensor[]>(f)(xs);
        var fd = FiniteDifferences(f, xs, eps);
        for (var i = 0; i < xs.Length; i++)
        {
            grads[i].Aval.Should().Be(xs[i].Aval, "the gradient of input {0} has its aval {1}", i, because);
            var ad = grads[i].ToArray<double>();
            for (var k = 0; k < ad.Length; k++)
            {
                var err = Math.Abs(ad[k] - fd[i][k]) / (1 + Math.Abs(fd[i][k]));
                largest = Math.Max(largest, err);
                err.Should().BeLessThanOrEqualTo(tol, "input {0} element {1}: reverse mode {2} vs finite differences {3} {4}", i, k, ad[k], fd[i][k], because);
            }
        }
        return largest;
    }

    /// <summary>Checks the VJP of <paramref name="op"/>: the gradient of sum(op(xs) · r) for a random cotangent r.</summary>
    public static double CheckVjp(Func<Tensor[], Tensor> op, Tensor[] xs, int seed, double eps = 1e-6, double tol = 1e-6, string because = "")
    {
        var r = Random(new Random(seed), op(xs).Shape.ToArray());
        return CheckGrad(a => (op(a) * r).Sum(), xs, eps, tol, because);
    }
}
