using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Issue 12's wrong answers 4–7: each was silent and is now right or a clear error.</summary>
[TestClass]
public sealed class WrongAnswerTests
{
    public sealed class Net : Module
    {
        public readonly Linear L1;
        public readonly BatchNorm Bn;
        public Linear? Extra;
        public double Scale = 1.0;

        public Net(int seed)
        {
            var rngs = new Rngs(seed);
            L1 = new Linear(2, 3, rngs);
            Bn = new BatchNorm(3, rngs);
        }

        public Tensor Call(Tensor x) => Bn.Call(L1.Call(x)) * Scale;
    }

    private static readonly Tensor X = Tensor.FromArray([1f, 2f, 0.5f, -1f, 0f, 3f], 3, 2);

    private static Tensor Step(Net model, Optimizer optimizer, Tensor x)
    {
        var (loss, grads) = Nnx.ValueAndGrad<Net>(m => m.Call(x).Square().Mean())(model);
        optimizer.Update(grads);
        return loss;
    }

    [TestMethod]
    public void AnOptimizerUsedWithAnotherModelIsRefusedNamingBoth()
    {
        var a = new Net(0);
        var b = new Net(1);
        var optA = new Optimizer(a, Optax.Sgd(0.1));
        var before = a.L1.Kernel.Value.ToArray<float>();
        var step = Nnx.Jit((Net m, Optimizer o, Tensor x) => Step(m, o, x));
        var act = () => step(b, optA, X);
        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("Optimizer.Update") && e.Message.Contains("Net #")
            && e.Message.Contains("different object"));
        // Eagerly too, and A is untouched.
        var eager = () => Step(b, optA, X);
        eager.Should().Throw<ArgumentException>().WithMessage("*gradients are of the Net #*made for the Net #*");
        a.L1.Kernel.Value.ToArray<float>().Should().Equal(before);
        // The right pairing works.
        step(a, optA, X);
        a.L1.Kernel.Value.ToArray<float>().Should().NotEqual(before);
    }

    [TestMethod]
    public void AModuleCapturedByTheClosureCannotTakeATracedValue()
    {
        var captured = new Net(0);
        Nnx.State(captured);
        var before = captured.L1.Kernel.Value;
        var pure = Jit.Pure((Tensor x) =>
        {
            captured.L1.Kernel.Value = captured.L1.Kernel.Value * x.Sum();
            return x;
        });
        var act = () => pure(Tensor.Ones(1));
        act.Should().Throw<InvalidOperationException>().WithMessage("*variable 'l1/kernel'*not an argument of the function being traced*");
        captured.L1.Kernel.Value.Should().BeSameAs(before);
        captured.L1.Kernel.Value.IsSymbolic.Should().BeFalse();
        // Through Nnx.Jit: a module argument may be updated, a captured one may not.
        var other = new Net(1);
        var step = Nnx.Jit((Net m, Tensor x) =>
        {
            m.L1.Bias!.Value = m.L1.Bias.Value + 1.0;
            other.L1.Bias!.Value = m.L1.Bias.Value;
            return x;
        });
        var act2 = () => step(captured, X);
        act2.Should().Throw<InvalidOperationException>().WithMessage("Cannot assign a traced value f32[3] to a Param variable f32[3]*not an argument*");
        other.L1.Bias!.Value.IsSymbolic.Should().BeFalse();
    }

    [TestMethod]
    public void AFailedTraceRestoresEveryTouchedObject()
    {
        var model = new Net(0);
        var kernel = model.L1.Kernel;
        var kernelValue = kernel.Value;
        var step = Nnx.Jit((Net m, Tensor x, bool fail) =>
        {
            m.Extra = new Linear(3, 3, new Rngs(3));
            m.Scale = 7.0;
            m.Eval();
            m.L1.Kernel.Value = m.L1.Kernel.Value * 2.0;
            if (fail) throw new InvalidOperationException("user failure");
            return x;
        });
        var act = () => step(model, X, true);
        act.Should().Throw<InvalidOperationException>().WithMessage("user failure");
        model.Extra.Should().BeNull();
        model.Scale.Should().Be(1.0);
        model.Training.Should().BeTrue();
        model.Bn.Training.Should().BeTrue();
        model.L1.Kernel.Should().BeSameAs(kernel);
        model.L1.Kernel.Value.Should().BeSameAs(kernelValue);
        // The next call fails with its own message (a structure change), not an unrelated one, and restores too.
        var next = () => step(model, X, false);
        next.Should().Throw<InvalidOperationException>().WithMessage("*changed the structure*");
        model.Extra.Should().BeNull();
        model.Training.Should().BeTrue();
        // A step that does nothing wrong after the failures works.
        var ok = Nnx.Jit((Net m, Tensor x) => m.Call(x).Sum());
        ok(model, X).IsSymbolic.Should().BeFalse();
    }

    [TestMethod]
    public void AZeroSizeBatchInTrainingBatchNormIsAClearError()
    {
        var model = new Net(0);
        var opt = new Optimizer(model, Optax.Adam(1e-3));
        var mean = model.Bn.Mean.Value.ToArray<float>();
        var act = () => Step(model, opt, Tensor.Zeros(0, 2));
        act.Should().Throw<ArgumentException>().WithMessage("BatchNorm: the input f32[0,3] has no elements*zero-size batch*");
        var step = Nnx.Jit((Net m, Optimizer o, Tensor x) => Step(m, o, x));
        var jitted = () => step(model, opt, Tensor.Zeros(0, 2));
        jitted.Should().Throw<ArgumentException>().WithMessage("BatchNorm*f32[0,3]*zero-size batch*");
        model.Bn.Mean.Value.ToArray<float>().Should().Equal(mean);
        // In eval mode the running averages are used and an empty batch is simply empty.
        model.Eval();
        model.Call(Tensor.Zeros(0, 2)).Shape.ToArray().Should().Equal(0, 3);
    }
}
