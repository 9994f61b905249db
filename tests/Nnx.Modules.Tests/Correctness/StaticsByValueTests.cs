using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Statics compare by value (issue 12, wrong answer 3): equal optimizers share a trace, a mutated config retraces, 0.0 ≠ −0.0.</summary>
[TestClass]
public sealed class StaticsByValueTests
{
    public sealed class Config
    {
        public double Scale = 2.0;
        public string Mode = "mul";
        public int[] Offsets = [1, 2];
    }

    public sealed class Configured : Module
    {
        public readonly Param W = new(Tensor.FromArray([1f, 2f, 3f]));
        public Config Settings = new();

        public Tensor Call(Tensor x) => Settings.Mode == "mul" ? x * W.Value * Settings.Scale : x + W.Value + Settings.Scale;
    }

    public sealed class HoldsTensorConfig
    {
        public Tensor Hidden = Tensor.Ones(2);
    }

    public sealed class BadConfigModule : Module
    {
        public readonly Param W = new(Tensor.Ones(2));
        public HoldsTensorConfig Settings = new();
    }

    [TestMethod]
    public void TransformationsAndSchedulesCompareByValue()
    {
        Optax.Adam(1e-3).Should().Be(Optax.Adam(1e-3));
        Optax.Adam(1e-3).GetHashCode().Should().Be(Optax.Adam(1e-3).GetHashCode());
        Optax.Adam(1e-3).Should().NotBe(Optax.Adam(2e-3));
        Optax.Adam(1e-3).Should().NotBe(Optax.Adam(1e-3, b1: 0.8));
        Optax.Sgd(0.0).Should().NotBe(Optax.Sgd(-0.0), "0.0 and -0.0 are different statics");
        Optax.Chain(Optax.ClipByGlobalNorm(1), Optax.Sgd(0.1, momentum: 0.9)).Should().Be(Optax.Chain(Optax.ClipByGlobalNorm(1), Optax.Sgd(0.1, momentum: 0.9)));
        Optax.Sgd(Schedules.WarmupCosineDecay(0, 1e-3, 10, 100)).Should().Be(Optax.Sgd(Schedules.WarmupCosineDecay(0, 1e-3, 10, 100)));
        Optax.Sgd(Schedules.WarmupCosineDecay(0, 1e-3, 10, 100)).Should().NotBe(Optax.Sgd(Schedules.WarmupCosineDecay(0, 1e-3, 10, 101)));
        Schedules.Linear(1, 0, 10).Should().Be(Schedules.Linear(1, 0, 10));
        Schedules.Linear(1, 0, 10).Should().NotBe(Schedules.Constant(1));
        Func<Tensor, Tensor> f = c => c * 0.5;
        new Schedule("mine", f).Should().Be(new Schedule("mine", f));
    }

    [TestMethod]
    public void AThousandCallsWithANewEqualOptimizerTraceOnce()
    {
        var model = new Linear(2, 3, new Rngs(0));
        var x = Tensor.Ones(4, 2);
        var step = Nnx.Jit((Linear m, Optimizer o, Tensor xs) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Linear>(l => l.Call(xs).Square().Mean())(m);
            o.Update(grads);
            return loss;
        });
        for (var i = 0; i < 1000; i++) step(model, new Optimizer(model, Optax.Adam(1e-3)), x);
        step.TraceCount().Should().Be(1);
        step(model, new Optimizer(model, Optax.Adam(2e-3)), x);
        step.TraceCount().Should().Be(2, "a different learning rate is a different static");
    }

    [TestMethod]
    public void AMutatedConfigRetracesAndAnEqualNewOneDoesNot()
    {
        var model = new Configured();
        var x = Tensor.FromArray([1f, 1f, 1f]);
        var step = Nnx.Jit((Configured m, Tensor xs) => m.Call(xs));
        step(model, x).ToArray<float>().Should().Equal(2f, 4f, 6f);
        model.Settings.Scale = 10.0;
        step(model, x).ToArray<float>().Should().Equal(10f, 20f, 30f);
        step.TraceCount().Should().Be(2);
        model.Settings.Mode = "add";
        step(model, x).ToArray<float>().Should().Equal(12f, 13f, 14f);
        model.Settings.Offsets[0] = 5;
        step(model, x);
        step.TraceCount().Should().Be(4, "an element of an array inside the config changed");
        model.Settings = new Config { Scale = 10.0, Mode = "add", Offsets = [5, 2] };
        step(model, x).ToArray<float>().Should().Equal(12f, 13f, 14f);
        step.TraceCount().Should().Be(4, "an equal new config is the same static");
        // Merge rebuilds an equal config, not the mutable original.
        var (def, state) = Nnx.Split(model);
        var merged = Nnx.Merge<Configured>(def, state);
        merged.Settings.Should().NotBeSameAs(model.Settings);
        merged.Settings.Scale.Should().Be(10.0);
    }

    [TestMethod]
    public void ZeroAndNegativeZeroAreDifferentStatics()
    {
        var f = Jit.Pure((Tensor x, double s) => x / s);
        f(Tensor.Ones(1), 0.0).ToArray<float>()[0].Should().Be(float.PositiveInfinity);
        f(Tensor.Ones(1), -0.0).ToArray<float>()[0].Should().Be(float.NegativeInfinity);
        f.TraceCount().Should().Be(2);
        var model = new Configured();
        var step = Nnx.Jit((Configured m, Tensor xs) => m.Call(xs));
        model.Settings.Scale = 0.0;
        step(model, Tensor.Ones(3));
        model.Settings.Scale = -0.0;
        step(model, Tensor.Ones(3));
        step.TraceCount().Should().Be(2);
    }

    [TestMethod]
    public void AStaticThatCannotBeComparedByValueIsRefusedWithItsPath()
    {
        var act = () => Nnx.Split(new BadConfigModule());
        act.Should().Throw<NotSupportedException>().WithMessage("*'settings.Hidden'*HoldsTensorConfig*holds a Tensor*");
    }
}
