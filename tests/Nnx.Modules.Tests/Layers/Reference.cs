using System.Text.Json;
using FluentAssertions;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>
/// PyTorch reference values for the layers, activations and losses: Data/layer_reference.json, made by
/// Data/make_layer_reference.py (float64; see the script for the conventions it translates).
/// </summary>
internal static class Reference
{
    private static readonly JsonElement Cases =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "layer_reference.json"))).RootElement.GetProperty("cases");

    public static JsonElement Case(string name) => Cases.GetProperty(name);

    public static Tensor Read(JsonElement t) => Tensor.FromArray(
        t.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
        t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    public static Tensor ReadInt64(JsonElement t) => Tensor.FromArray(
        t.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
        t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    public static Tensor Input(JsonElement c, string name) => Read(c.GetProperty("inputs").GetProperty(name));

    /// <summary>
    /// Runs <paramref name="forward"/> on the case's inputs named <paramref name="wrt"/> (in that order), takes the
    /// gradient of sum(output · r) with <see cref="Autodiff"/>, and compares the output and every gradient with
    /// PyTorch's: |ours − torch| ≤ tol·(1 + |torch|). Returns the largest scaled error.
    /// </summary>
    public static double Check(string caseName, string[] wrt, Func<Tensor[], Tensor> forward, double tol)
    {
        var c = Case(caseName);
        var xs = wrt.Select(n => Input(c, n)).ToArray();
        var r = Read(c.GetProperty("r"));
        Tensor? output = null;
        var (_, grads) = Autodiff.ValueAndGrad<Tensor[]>(a =>
        {
            output = forward(a);
            return (output * r).Sum();
        })(xs);
        var largest = Compare($"{caseName} output", output!, Read(c.GetProperty("output")), tol);
        for (var i = 0; i < wrt.Length; i++)
            largest = Math.Max(largest, Compare($"{caseName} ∂/∂{wrt[i]}", grads[i], Read(c.GetProperty("grads").GetProperty(wrt[i])), tol));
        Console.WriteLine($"{caseName}: largest scaled error against PyTorch {largest:e2}");
        return largest;
    }

    /// <summary>Elementwise |actual − expected| ≤ tol·(1 + |expected|), shapes equal; returns the largest scaled error.</summary>
    public static double Compare(string what, Tensor actual, Tensor expected, double tol)
    {
        actual.Shape.Should().Equal(expected.Shape, "{0} has PyTorch's shape", what);
        var (a, e) = (actual.Cast(DType.Float64).ToArray<double>(), expected.Cast(DType.Float64).ToArray<double>());
        var largest = 0.0;
        for (var k = 0; k < a.Length; k++)
        {
            var err = Math.Abs(a[k] - e[k]) / (1 + Math.Abs(e[k]));
            largest = Math.Max(largest, err);
            err.Should().BeLessThanOrEqualTo(tol, "{0}[{1}]: {2} vs PyTorch {3}", what, k, a[k], e[k]);
        }
        return largest;
    }
}
