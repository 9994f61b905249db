using System.Diagnostics;
using System.Globalization;

namespace NnxSharp.Benchmarks;

/// <summary>
/// The ceiling of the seed's wide step (<c>simple --compute</c>): ONNX Runtime's GFLOP/s on the step's own matrix
/// products at width W and batch B, each jitted alone (so it is lowered exactly as the step's are), against one
/// 2048×2048×2048 MatMul on the same threads. The products: the forward <c>x·w + b</c> ([B,W]·[W,W], C = the
/// bias), the input gradient <c>g·wᵀ</c> (transB), and the weight's gradient fused with its SGD update
/// <c>w − lr·xᵀ·g</c> (transA, C = w, a contraction of B; w donated, as the step's state). "cold" rotates over four
/// weights (4 × 16 MiB at W = 2048, more than a 32 MiB L3), as the step meets each weight after the others'
/// traffic; "warm" reuses one. Two vector updates by a column sum show the two forms of a row-of-ones Gemm (a bias's
/// SGD step, β = 1, and a running average, β = 0.99). The variants alternate in rounds; each figure is the median over rounds.
/// </summary>
public static class GemmCeiling
{
    private const int Weights = 4;

    /// <summary>
    /// A measurer of the reference alone: each call of the returned function times <paramref name="calls"/> calls of one
    /// jitted 2048×2048×2048 MatMul and returns their median's GFLOP/s (for rounds that alternate it with the step).
    /// </summary>
    public static Func<double> SquareMatMul(int calls = 6)
    {
        const int n = 2048;
        var square = Jit.Pure((Tensor a, Tensor b) => a.MatMul(b));
        var (a, b) = (Prng.Uniform(Prng.Key(1), [n, n]), Prng.Uniform(Prng.Key(2), [n, n]));
        square(a, b);
        return () => 2.0 * n * n * n / MedianSeconds(() => square(a, b), calls) / 1e9;
    }

    /// <summary>The median wall time of <paramref name="calls"/> calls of <paramref name="call"/>, in seconds.</summary>
    private static double MedianSeconds(Action call, int calls)
    {
        var per = new double[calls];
        for (var c = 0; c < calls; c++)
        {
            var start = Stopwatch.GetTimestamp();
            call();
            per[c] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return per.Order().ElementAt(calls / 2);
    }

    /// <summary>Prints the ceiling table; returns the square MatMul's GFLOP/s (the reference).</summary>
    public static double Run(int width, int batch, int rounds = 5, int calls = 6)
    {
        const int n = 2048;
        var square = Jit.Pure((Tensor a, Tensor b) => a.MatMul(b));
        var forward = Jit.Pure((Tensor x, Tensor w, Tensor b) => x.MatMul(w) + b);
        var forwardNoBias = Jit.Pure((Tensor x, Tensor w) => x.MatMul(w));
        var forwardT = Jit.Pure((Tensor x, Tensor w) => w.Transpose().MatMul(x.Transpose()).Transpose());
        var inputGrad = Jit.Pure((Tensor g, Tensor w) => g.MatMul(w.Transpose()));
        var biasStep = Jit.Pure((Tensor g, Tensor b) => b - 1e-3 * g.Sum(0), 1);
        var average = Jit.Pure((Tensor g, Tensor b) => 0.99 * b + 1e-3 * g.Sum(0), 1);
        var update = Jit.Pure((Tensor x, Tensor g, Tensor w) => w - 1e-3 * x.Transpose().MatMul(g), 2);

        var sa = Prng.Uniform(Prng.Key(1), [n, n]);
        var sb = Prng.Uniform(Prng.Key(2), [n, n]);
        var x = Prng.Uniform(Prng.Key(3), [batch, width]);
        var g = Prng.Uniform(Prng.Key(4), [batch, width]);
        var bias = Prng.Uniform(Prng.Key(5), [width]);
        var ws = Enumerable.Range(0, Weights).Select(i => Prng.Uniform(Prng.Key(10 + i), [width, width])).ToArray();
        var product = 2.0 * batch * width * width;
        var k = 0;
        var (b1, b2) = (bias * 1.0, bias * 1.0);
        (string Name, double Flops, Action Call)[] variants =
        [
            ($"{n}×{n}×{n} MatMul", 2.0 * n * n * n, () => square(sa, sb)),
            ("x·w + b, warm", product, () => forward(x, ws[0], bias)),
            ("x·w + b, cold", product, () => forward(x, ws[k++ % Weights], bias)),
            ("x·w, cold", product, () => forwardNoBias(x, ws[k++ % Weights])),
            ("(wᵀ·xᵀ)ᵀ, cold", product, () => forwardT(x, ws[k++ % Weights])),
            ("g·wᵀ, warm", product, () => inputGrad(g, ws[0])),
            ("g·wᵀ, cold", product, () => inputGrad(g, ws[k++ % Weights])),
            ("w − lr·xᵀg, warm", product, () => ws[0] = update(x, g, ws[0])),
            ("w − lr·xᵀg, cold", product, () => { var i = k++ % Weights; ws[i] = update(x, g, ws[i]); }),
            ("b − lr·Σᵢgᵢ (row of −lr)", 2.0 * batch * width, () => b1 = biasStep(g, b1)),
            ("0.99·b + k·Σᵢgᵢ (α = k)", 2.0 * batch * width, () => b2 = average(g, b2)),
        ];
        foreach (var v in variants) v.Call();
        foreach (var (name, f) in new (string, Delegate)[] { ("x·w + b", forward), ("(wᵀ·xᵀ)ᵀ", forwardT), ("g·wᵀ", inputGrad), ("w − lr·xᵀg", update), ("b − lr·Σᵢgᵢ", biasStep), ("0.99·b + k·Σᵢgᵢ", average) })
        {
            var ir = name.Contains('Σ') ? f.Lower(g, bias) : name == "x·w + b" ? f.Lower(x, ws[0], bias) : name == "g·wᵀ" ? f.Lower(g, ws[0]) : name == "(wᵀ·xᵀ)ᵀ" ? f.Lower(x, ws[0]) : f.Lower(x, g, ws[0]);
            Console.WriteLine($"  {name}: {string.Join(" ; ", ir.Split('\n').Skip(1).Where(l => l.Contains('=')).Select(l => l.Trim()))}");
        }
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < rounds; r++)
            for (var i = 0; i < variants.Length; i++)
                times[i].Add(MedianSeconds(variants[i].Call, calls));
        var gflops = variants.Select((v, i) => v.Flops / times[i].Order().ElementAt(rounds / 2) / 1e9).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ceiling at width {width}, batch {batch} ({rounds} rounds of {calls} calls, median):"));
        for (var i = 0; i < variants.Length; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {variants[i].Name,-26} {gflops[i],7:F1} GFLOP/s = {100 * gflops[i] / gflops[0],5:F1}% of the square MatMul, {1e6 * times[i].Order().ElementAt(rounds / 2),9:F1} µs"));
        // The step does each of the three products once per weight: its matrix products alone, with everything else
        // free, reach 3·product ÷ (t_forward + t_input_gradient + t_update), the cold variants' times.
        double Time(string name) => times[Array.FindIndex(variants, v => v.Name == name)].Order().ElementAt(rounds / 2);
        var ceiling = 3 * product / (Time("x·w + b, cold") + Time("g·wᵀ, cold") + Time("w − lr·xᵀg, cold")) / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    the step's products together {ceiling,7:F1} GFLOP/s = {100 * ceiling / gflops[0],5:F1}% of the square MatMul (the step's ceiling)"));
        return gflops[0];
    }
}
