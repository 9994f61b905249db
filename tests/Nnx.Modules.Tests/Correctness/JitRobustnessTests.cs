using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>Issue 12's "also": no lock around user code, DebugNans, a bounded cache with explained retraces, disposable tensors, checked arguments.</summary>
[TestClass]
public sealed class JitRobustnessTests
{
    public sealed class Scaled : Module
    {
        public readonly Param W = new(Tensor.FromArray([1f, 2f, 3f]));
        public double Scale = 1.0;

        public Tensor Call(Tensor x) => (x * W.Value).Sum() * Scale;
    }

    [TestMethod]
    public void AJitPureStepThatWaitsOnAnotherThreadCallingItDoesNotDeadlock()
    {
        var spawned = 0;
        Func<Tensor, Tensor>? f = null;
        f = Jit.Pure((Tensor x) =>
        {
            if (Interlocked.Exchange(ref spawned, 1) == 0)
            {
                var other = Task.Run(() => f!(Tensor.FromArray([5f, 5f])).Item<float>());
                other.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("the other thread's call must not wait for this trace forever");
                other.Result.Should().Be(20f);
            }
            return (x * 2.0).Sum();
        });
        var run = Task.Run(() => f(Tensor.FromArray([1f, 2f])).Item<float>());
        run.Wait(TimeSpan.FromSeconds(60)).Should().BeTrue("the call finishes");
        run.Result.Should().Be(6f);
    }

    [TestMethod]
    public void AnNnxJitStepThatWaitsOnAnotherThreadCallingItDoesNotDeadlock()
    {
        var spawned = 0;
        Func<Scaled, Tensor, Tensor>? step = null;
        step = Nnx.Jit((Scaled m, Tensor x) =>
        {
            if (Interlocked.Exchange(ref spawned, 1) == 0)
            {
                var other = Task.Run(() => step!(new Scaled(), Tensor.Ones(3)).Item<float>());
                other.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
                other.Result.Should().Be(6f);
            }
            return m.Call(x);
        });
        var run = Task.Run(() => step(new Scaled(), Tensor.FromArray([1f, 0f, 0f])).Item<float>());
        run.Wait(TimeSpan.FromSeconds(60)).Should().BeTrue();
        run.Result.Should().Be(1f);
    }

    [TestMethod]
    public void ACallOnAModuleThatAnotherThreadIsTracingWaitsForTheTrace()
    {
        // While one thread traces, the model's variables hold symbolic tensors: a second call on the same model
        // must wait for the trace instead of reading them (it failed with "Cannot read its buffer of a symbolic tensor").
        using var tracing = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var step = Nnx.Jit((Scaled m) =>
        {
            tracing.Set();
            release.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
            m.W.Value = m.W.Value + 1f;
        });
        var model = new Scaled();
        var first = Task.Run(() => step(model));
        tracing.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
        var second = Task.Run(() => step(model));
        second.Wait(TimeSpan.FromMilliseconds(200)).Should().BeFalse("the second call waits while the model is being traced");
        release.Set();
        Task.WaitAll([first, second], TimeSpan.FromSeconds(60)).Should().BeTrue();
        model.W.Value.ToArray<float>().Should().Equal(3f, 4f, 5f);
        step.TraceCount().Should().Be(1);
    }

    [TestMethod]
    public void TheTraceCacheIsBoundedLeastRecentlyUsedFirst()
    {
        var limit = Nnx.Config.TraceCacheLimit;
        limit.Should().Be(64, "the documented default");
        try
        {
            Nnx.Config.TraceCacheLimit = 2;
            var f = Jit.Pure((Tensor x) => x.Sum());
            f(Tensor.Ones(1));
            f(Tensor.Ones(2));
            f(Tensor.Ones(1)); // 1 is now the most recent: 2 goes first
            f(Tensor.Ones(3));
            f.TraceCount().Should().Be(3);
            f(Tensor.Ones(1));
            f.TraceCount().Should().Be(3);
            f(Tensor.Ones(2));
            f.TraceCount().Should().Be(4, "the entry for length 2 was dropped");
            var step = Nnx.Jit((Scaled m, Tensor x) => m.Call(x));
            var model = new Scaled();
            foreach (var s in new[] { 1.0, 2.0, 3.0, 1.0 })
            {
                model.Scale = s;
                step(model, Tensor.Ones(3));
            }
            step.TraceCount().Should().Be(4);
            var act = () => Nnx.Config.TraceCacheLimit = 0;
            act.Should().Throw<ArgumentOutOfRangeException>();
        }
        finally
        {
            Nnx.Config.TraceCacheLimit = limit;
        }
    }

    [TestMethod]
    public void ARetraceIsExplainedWhenAsked()
    {
        var lines = new List<string>();
        var log = Nnx.Config.Log;
        try
        {
            Nnx.Config.Log = lines.Add;
            Nnx.Config.ExplainCacheMisses = true;
            var f = Jit.Pure((Tensor x, int power) => x.Pow(power));
            f(Tensor.Ones(3), 2);
            f(Tensor.Ones(4), 2);
            f(Tensor.Ones(4), 3);
            var step = Nnx.Jit((Scaled m, Tensor x) => m.Call(x));
            var model = new Scaled();
            step(model, Tensor.Ones(3));
            model.Scale = 0.5;
            step(model, Tensor.Ones(3));
            model.W.Value = Tensor.Ones(4);
            step(model, Tensor.Ones(4));
        }
        finally
        {
            Nnx.Config.ExplainCacheMisses = false;
            Nnx.Config.Log = log;
        }
        lines.Should().HaveCount(6);
        lines[1].Should().Contain("argument 'x' changed from f32[3] to f32[4]");
        lines[2].Should().Contain("argument 'power' changed structure or static value: 2 → 3");
        lines[4].Should().Contain("static attribute 'scale' of the Scaled changed from 1 to 0.5");
        lines[5].Should().Contain("variable 'w' changed from f32[3] to f32[4]");
    }

    [TestMethod]
    public void DebugNansNamesTheFirstOutputAndKeepsTheState()
    {
        var f = Jit.Pure((Tensor x) => (x.Sum(), x.Log()));
        var bad = Tensor.FromArray([1f, -1f]);
        f(bad).Item2.ToArray<float>()[1].Should().Be(float.NaN, "with DebugNans off NaN flows through as IEEE 754 says");
        var model = new Scaled();
        var step = Nnx.Jit((Scaled m, Tensor x) =>
        {
            m.W.Value = m.W.Value * x.Log();
            return m.W.Value.Sum();
        });
        var before = model.W.Value;
        try
        {
            Nnx.Config.DebugNans = true;
            var act = () => f(bad);
            act.Should().Throw<NotFiniteNumberException>().WithMessage("Jit.Pure(*): output 'out1' f32[2] holds NaN at flat index 1*");
            var stepAct = () => step(model, Tensor.FromArray([1f, 0f, 2f]));
            stepAct.Should().Throw<NotFiniteNumberException>().WithMessage("Nnx.Jit: output 'new/m/w' f32[3] holds -Inf at flat index 1*");
            model.W.Value.Should().BeSameAs(before, "the step's NaN is not written into the state");
            step(model, Tensor.FromArray([1f, 1f, 1f])).Item<float>().Should().Be(0f);
        }
        finally
        {
            Nnx.Config.DebugNans = false;
        }
    }

    [TestMethod]
    public void TensorsAreDisposableAndADisposedVariableIsNamed()
    {
        float total;
        using (var t = Tensor.Ones(3))
            total = t.Sum().Item<float>();
        total.Should().Be(3f);
        using var u = Tensor.Ones(2);
        u.Dispose();
        u.IsDisposed.Should().BeTrue();
        var eager = () => u + 1.0;
        eager.Should().Throw<ObjectDisposedException>().WithMessage("*add: argument 0 is a tensor f32[2] that was disposed*");
        var model = new Scaled();
        var step = Nnx.Jit((Scaled m, Tensor x) => m.Call(x));
        step(model, Tensor.Ones(3));
        model.W.Value.Dispose();
        var act = () => step(model, Tensor.Ones(3));
        act.Should().Throw<ObjectDisposedException>().WithMessage("*variable 'w'*holds a disposed tensor f32[3]*");
    }

    [TestMethod]
    public void NullsWrongCountsAndWrongTypesNameTheParameter()
    {
        var f = Jit.Pure((Tensor x, Tensor y) => x + y);
        var nullArg = () => f(Tensor.Ones(1), null!);
        nullArg.Should().Throw<ArgumentNullException>().WithMessage("Jit.Pure(*): argument 1 'y' (Tensor) is null*").Which.ParamName.Should().Be("y");
        var lower = () => f.Lower(Tensor.Ones(1));
        lower.Should().Throw<ArgumentException>().WithMessage("*takes 2 arguments (Tensor x, Tensor y) but 1 was given*");
        var wrongType = () => f.Lower(Tensor.Ones(1), 3);
        wrongType.Should().Throw<ArgumentException>().WithMessage("*argument 1 'y' must be a Tensor but is a Int32*");
        var step = Nnx.Jit((Scaled model, Tensor x) => model.Call(x));
        var nullModel = () => step(null!, Tensor.Ones(3));
        nullModel.Should().Throw<ArgumentNullException>().WithMessage("Nnx.Jit(*): argument 0 'model' (Scaled) is null*");
        var export = () => step.Export(Path.Combine(Path.GetTempPath(), "nnx-never-written.onnx"), new Scaled());
        export.Should().Throw<ArgumentException>().WithMessage("*takes 2 arguments (Scaled model, Tensor x) but 1 was given*");
    }

    [TestMethod]
    public void OutOfRangeIndicesInAJittedStepFillWithNaNAndGetNoGradient()
    {
        var table = Tensor.FromArray([0f, 1f, 10f, 11f, 20f, 21f], 3, 2);
        var gather = Jit.Pure((Tensor t, Tensor i) => t.Gather(i));
        var rows = gather(table, Tensor.FromArray([1L, 7L, -1L])).ToArray<float>();
        rows[..2].Should().Equal(10f, 11f);
        rows[2..4].Should().OnlyContain(v => float.IsNaN(v));
        rows[4..].Should().Equal([20f, 21f], "negative indices count from the end");
        var grad = Jit.Pure((Tensor t, Tensor i) => Autodiff.Grad((Tensor u) => u.Gather(i).Maximum(0.0).Sum())(t));
        grad(table, Tensor.FromArray([1L, 7L])).ToArray<float>().Should().Equal(0f, 0f, 1f, 1f, 0f, 0f);
        var take = Jit.Pure((Tensor t, Tensor i) => t.TakeAlongAxis(i, axis: 1));
        var picked = take(table, Tensor.FromArray([1L, 2L, 0L])).ToArray<float>();
        picked[0].Should().Be(1f);
        float.IsNaN(picked[1]).Should().BeTrue("index 2 is past axis 1 (size 2); flattened it would silently pick row 2's first element");
        picked[2].Should().Be(20f);
    }
}
