using System.Text.Json;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>A linear model in float64 for the optimizer tests: y = x·W + b.</summary>
public sealed class Affine : Module
{
    public readonly Param W;
    public readonly Param B;
    public Models.Count Calls = new(Tensor.Scalar(0));

    public Affine(Tensor w, Tensor b) => (W, B) = (new Param(w), new Param(b));

    public Tensor Call(Tensor x)
    {
        Calls.Value = Calls.Value + 1.0;
        return x.MatMul(W) + B;
    }
}

/// <summary>
/// Each optimizer's trajectory over five steps equals the reference from Data/make_optim_reference.py
/// (PyTorch's optimizers where their formulas are optax's, optax's formulas by hand elsewhere), in float64.
/// </summary>
[TestClass]
public sealed class OptimizerReferenceTests
{
    private static readonly JsonElement Data =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "optim_reference.json"))).RootElement;

    private static Tensor Read(string name, params int[] shape) =>
        Tensor.FromArray(Data.GetProperty(name).EnumerateArray().Select(e => e.GetDouble()).ToArray(), shape);

    private static double MaxError;

    public static IEnumerable<object[]> Cases =>
    [
        ["sgd"], ["sgd_momentum"], ["sgd_nesterov"], ["adam"], ["adamw"], ["adamw_masked"], ["rmsprop"], ["clip_sgd"], ["warmup_cosine_sgd"],
    ];

    private static GradientTransformation Make(string name) => name switch
    {
        "sgd" => Optax.Sgd(0.1),
        "sgd_momentum" => Optax.Sgd(0.1, momentum: 0.9),
        "sgd_nesterov" => Optax.Sgd(0.1, momentum: 0.9, nesterov: true),
        "adam" => Optax.Adam(0.05),
        "adamw" => Optax.AdamW(0.05, weightDecay: 0.1),
        "adamw_masked" => Optax.AdamW(0.05, weightDecay: 0.1, mask: path => path == "w"),
        "rmsprop" => Optax.RmsProp(0.01),
        "clip_sgd" => Optax.Chain(Optax.ClipByGlobalNorm(0.5), Optax.Sgd(0.1)),
        "warmup_cosine_sgd" => Optax.Sgd(Schedules.WarmupCosineDecay(0.0, 0.2, 2, 5, 0.01)),
        _ => throw new ArgumentException(name),
    };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void EachStepEqualsTheReference(string name)
    {
        var (x, y) = (Read("x", 4, 3), Read("y", 4, 2));
        var model = new Affine(Read("w0", 3, 2), Read("b0", 2));
        var optimizer = new Optimizer(model, Make(name));
        var steps = Data.GetProperty("cases").GetProperty(name).EnumerateArray().ToArray();
        for (var s = 0; s < steps.Length; s++)
        {
            var (_, grads) = Nnx.ValueAndGrad<Affine>(m => (m.Call(x) - y).Square().Mean())(model);
            optimizer.Update(grads);
            Compare(model.W.Value, steps[s].GetProperty("w"), $"{name} step {s + 1} w");
            Compare(model.B.Value, steps[s].GetProperty("b"), $"{name} step {s + 1} b");
        }
        optimizer.Step.Value.Item<uint>().Should().Be((uint)steps.Length);
        Console.WriteLine($"{name}: largest error so far {MaxError:G3}");
    }

    [TestMethod]
    public void TheSameStepsInsideNnxJitEqualEagerOnes()
    {
        var (x, y) = (Read("x", 4, 3), Read("y", 4, 2));
        var eager = new Affine(Read("w0", 3, 2), Read("b0", 2));
        var jitted = new Affine(Read("w0", 3, 2), Read("b0", 2));
        var (eagerOpt, jitOpt) = (new Optimizer(eager, Optax.AdamW(0.05, weightDecay: 0.1)), new Optimizer(jitted, Optax.AdamW(0.05, weightDecay: 0.1)));
        static Tensor Step(Affine m, Optimizer o, Tensor x, Tensor y)
        {
            var (loss, grads) = Nnx.ValueAndGrad<Affine>(a => (a.Call(x) - y).Square().Mean())(m);
            o.Update(grads);
            return loss;
        }
        var step = Nnx.Jit<Affine, Optimizer, Tensor, Tensor, Tensor>(Step);
        for (var i = 0; i < 4; i++)
            step(jitted, jitOpt, x, y).Item<double>().Should().BeApproximately(Step(eager, eagerOpt, x, y).Item<double>(), 1e-12);
        jitted.W.Value.ToArray<double>().Should().Equal(eager.W.Value.ToArray<double>(), (a, b) => Math.Abs(a - b) < 1e-12);
        ((OptState)jitOpt.OptState[0]["nu"]["w"]).Value.ToArray<double>().Should()
            .Equal(eagerOpt.OptState[0]["nu"]["w"].Value.ToArray<double>(), (a, b) => Math.Abs(a - b) < 1e-15);
        jitOpt.Step.Value.Item<uint>().Should().Be(4);
        jitted.Calls.Value.Item<float>().Should().Be(4, "the model's own state advanced inside ValueAndGrad inside the jit");
    }

    [TestMethod]
    public void SchedulesFollowOptaxFormulas()
    {
        var expected = Data.GetProperty("schedule").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var schedule = Schedules.WarmupCosineDecay(0.0, 0.2, 2, 5, 0.01);
        for (var i = 0; i < expected.Length; i++) schedule.At(i).Should().BeApproximately(expected[i], 1e-12, $"step {i}");
        var linear = Schedules.Linear(1.0, 0.1, 4, transitionBegin: 2);
        new[] { 0, 2, 3, 6, 10 }.Select(linear.At).Should().Equal([1.0, 1.0, 0.775, 0.1, 0.1], (a, b) => Math.Abs(a - b) < 1e-12);
        var cosine = Schedules.CosineDecay(2.0, 10, alpha: 0.1);
        for (var i = 0; i <= 12; i++)
            cosine.At(i).Should().BeApproximately(2.0 * (0.9 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(i, 10) / 10)) + 0.1), 1e-10, $"step {i}");
        Schedules.Constant(3e-4).At(7).Should().Be(3e-4);
    }

    [TestMethod]
    public void GradientsThatDoNotMatchTheParametersAreRejectedByPath()
    {
        var model = new Affine(Tensor.Zeros(DType.Float64, 3, 2), Tensor.Zeros(DType.Float64, 2));
        var optimizer = new Optimizer(model, Optax.Sgd(0.1));
        var good = Nnx.State(model, Filter.Of<Param>());
        var missing = () => optimizer.Update(good.Filter(Filter.PathContains("w")));
        missing.Should().Throw<ArgumentException>().WithMessage("*missing: 'b'*");
        var wrongShape = () => optimizer.Update(good.With("b", Tensor.Zeros(DType.Float64, 3)));
        wrongShape.Should().Throw<ArgumentException>().WithMessage("*'b' is f64[3] but the variable is f64[2]*");
        optimizer.Step.Value.Item<uint>().Should().Be(0u);
    }

    private static void Compare(Tensor actual, JsonElement expected, string what)
    {
        var a = actual.ToArray<double>();
        var e = expected.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        a.Should().HaveCount(e.Length);
        for (var i = 0; i < a.Length; i++)
        {
            var err = Math.Abs(a[i] - e[i]) / (1 + Math.Abs(e[i]));
            MaxError = Math.Max(MaxError, err);
            err.Should().BeLessThan(1e-12, $"{what}[{i}]: {a[i]} vs {e[i]}");
        }
    }
}
