using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using NnxSharp.Onnx;

namespace UserCode.Tests;

/// <summary>
/// An eager <see cref="Optimizer.Update"/> with the library's transformations runs its arithmetic as one jitted call: the
/// values of the stages run one operation at a time (a user's stage runs as it is), and no update tensors in between.
/// </summary>
[TestClass]
public sealed class EagerUpdateTests
{
    /// <summary>A user's stage that hands each call to a library stage: the optimizer runs it operation by operation.</summary>
    private sealed class Plain(GradientTransformation inner) : GradientTransformation
    {
        public override string Name => $"plain({inner.Name})";

        public override IReadOnlyList<string> StateNames => inner.StateNames;

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count) =>
            inner.Update(updates, state, parameters, paths, count);
    }

    private static Affine NewModel() => new(
        Tensor.FromArray(Enumerable.Range(0, 48).Select(i => 0.05f * ((i * 5 % 13) - 6)).ToArray(), 6, 8),
        Tensor.FromArray(Enumerable.Range(0, 8).Select(i => 0.01f * i).ToArray()));

    private static readonly Tensor X = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => 0.1f * ((i * 7 % 11) - 5)).ToArray(), 4, 6);

    private static State Grads(Affine model) => Nnx.Grad<Affine>(m => m.Call(X).Square().Mean())(model);

    public static IEnumerable<object[]> Transformations =>
    [
        ["sgd", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.ScaleByLearningRate(0.1)))],
        ["momentum", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.Trace(0.9, nesterov: true), Optax.ScaleByLearningRate(0.05)))],
        ["adamw", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.ScaleByAdam(), Optax.AddDecayedWeights(0.01, p => p == "w"),
            Optax.ScaleByLearningRate(Schedules.CosineDecay(0.01, 10))))],
        ["adam", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.ScaleByAdam(), Optax.ScaleByLearningRate(0.01)))],
        ["decayed", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.AddDecayedWeights(0.01, p => p == "w"), Optax.ScaleByLearningRate(0.01)))],
        ["cosine", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.ScaleByLearningRate(Schedules.CosineDecay(0.01, 10))))],
        ["clipped rmsprop", (Func<bool, GradientTransformation>)(plain => Stages(plain, Optax.ClipByGlobalNorm(0.5), Optax.RmsProp(0.01, initialScale: 0.1)))],
    ];

    private static GradientTransformation Stages(bool plain, params GradientTransformation[] stages) =>
        Optax.Chain([.. stages.SelectMany(s => plain ? s.Stages.Select(t => (GradientTransformation)new Plain(t)) : [s])]);

    [TestMethod]
    [DynamicData(nameof(Transformations))]
    public void AnEagerUpdateMatchesItsStagesRunOneByOne(string name, Func<bool, GradientTransformation> make)
    {
        // The jitted arithmetic goes through the jit's passes, which may fold a decay or a bias correction into one scale
        // (β·W + α·g), so it matches to float32 rounding; SGD, momentum and RMSProp have nothing to fold and match exactly.
        var exact = name is "sgd" or "momentum" or "cosine" or "clipped rmsprop";
        var (jitted, plain) = (NewModel(), NewModel());
        var (a, b) = (new Optimizer(jitted, make(false)), new Optimizer(plain, make(true)));
        for (var step = 0; step < 5; step++)
        {
            a.Update(Grads(jitted));
            b.Update(Grads(plain));
            Same(jitted.W.Value, plain.W.Value, exact, $"{name}, step {step}: w");
            Same(jitted.B.Value, plain.B.Value, exact, $"{name}, step {step}: b");
        }
        var (sa, sb) = (Nnx.State(a, Filter.Of<OptState>()), Nnx.State(b, Filter.Of<OptState>()));
        sa.Paths.Should().Equal(sb.Paths);
        foreach (var path in sa.Paths) Same(sa[path], sb[path], exact, $"{name}: {path}");
    }

    private static void Same(Tensor actual, Tensor expected, bool exact, string what)
    {
        actual.DType.Should().Be(expected.DType, what);
        var (x, y) = (actual.Cast(DType.Float64).ToArray<double>(), expected.Cast(DType.Float64).ToArray<double>());
        if (exact) x.Should().Equal(y, what);
        else for (var i = 0; i < x.Length; i++) x[i].Should().BeApproximately(y[i], 1e-7 + 1e-6 * Math.Abs(y[i]), "{0}[{1}]", what, i);
    }

    [TestMethod]
    public void AnEagerUpdateMakesNoUpdateTensorsInBetween()
    {
        var model = NewModel();
        var optimizer = new Optimizer(model, Optax.Sgd(0.1));
        optimizer.Update(Grads(model)); // compiled
        var grads = Grads(model);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.TryStartNoGCRegion(16 << 20).Should().BeTrue();
        long made;
        try
        {
            var before = OrtBuffer.Live;
            optimizer.Update(grads);
            made = OrtBuffer.Live - before;
        }
        finally
        {
            GC.EndNoGCRegion();
        }
        // The new W and b, the step count (its float64 cast and the count + 1), and the update's own scalars: one by one,
        // −(lr·g) and W + u made two more tensors per parameter.
        made.Should().BeLessThanOrEqualTo(6, "the update's arithmetic is one jitted call");
    }
}
