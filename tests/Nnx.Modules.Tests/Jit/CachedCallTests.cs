using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>
/// Issue 16, item 2: a cached call takes the fast path whatever its arguments are (modules, tensors, static
/// values, trees of tensors): the previous call's statics and tree structure are compared in place, so the call
/// allocates no more than one with modules and tensors only, and it still retraces when a static, a structure or
/// a shape changes. The allocation bounds are loose (a small slack), never timings.
/// </summary>
[TestClass]
public sealed class CachedCallTests
{
    /// <summary>A static enum argument.</summary>
    public enum Sign
    {
        Plus,
        Minus,
    }

    /// <summary>The slack allowed over the plain call: a box for a tuple argument, nothing like a rebuilt key.</summary>
    private const double Slack = 64;

    private static readonly Tensor X = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
    private static readonly Tensor X2 = Tensor.FromArray([6f, 5f, 4f, 3f, 2f, 1f], 2, 3);

    /// <summary>Managed bytes per call, after a warm-up.</summary>
    private static double BytesPerCall(Action call, int calls = 400)
    {
        for (var i = 0; i < 50; i++) call();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < calls; i++) call();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls;
    }

    [TestMethod]
    public void ACachedCallWithStaticArgumentsAllocatesNoMoreThanOneWithout()
    {
        var model = new Models.Dense(3, 3);
        var plain = Nnx.Jit((Models.Dense m, Tensor x) => { m.Bias!.Value = m.Bias.Value + x.Mean(axis: 0); });
        var withInt = Nnx.Jit((Models.Dense m, Tensor x, int k) => { m.Bias!.Value = m.Bias.Value + x.Mean(axis: 0) * k; });
        var withDouble = Nnx.Jit((Models.Dense m, Tensor x, double s) => { m.Bias!.Value = m.Bias.Value + x.Mean(axis: 0) * s; });
        var withEnum = Nnx.Jit((Models.Dense m, Tensor x, Sign sign) =>
        {
            m.Bias!.Value = sign == Sign.Plus ? m.Bias.Value + x.Mean(axis: 0) : m.Bias.Value - x.Mean(axis: 0);
        });
        var withString = Nnx.Jit((Models.Dense m, Tensor x, string how) => { m.Bias!.Value = how == "half" ? m.Bias.Value * 0.5 : m.Bias.Value; });
        var baseline = BytesPerCall(() => plain(model, X));
        BytesPerCall(() => withInt(model, X, 3)).Should().BeLessThanOrEqualTo(baseline + Slack, "an int static is compared in place");
        BytesPerCall(() => withDouble(model, X, 0.5)).Should().BeLessThanOrEqualTo(baseline + Slack, "a double static is compared in place");
        BytesPerCall(() => withEnum(model, X, Sign.Minus)).Should().BeLessThanOrEqualTo(baseline + Slack, "an enum static is compared in place");
        BytesPerCall(() => withString(model, X, "half")).Should().BeLessThanOrEqualTo(baseline + Slack, "a string static is compared in place");
        new[] { withInt.TraceCount(), withDouble.TraceCount(), withEnum.TraceCount(), withString.TraceCount() }.Should().AllBeEquivalentTo(1);
    }

    [TestMethod]
    public void ACachedCallWithTreeArgumentsAllocatesNoMoreThanOneWithout()
    {
        var model = new Models.Dense(3, 3);
        var pair = new[] { X, X2 };
        var dict = new Dictionary<string, Tensor> { ["a"] = X, ["b"] = X2 };
        var list = new List<Tensor> { X, X2 };
        var plain = Nnx.Jit((Models.Dense m, Tensor x, Tensor y) => { m.Bias!.Value = m.Bias.Value + x.Mean(axis: 0) - y.Mean(axis: 0); });
        var withTuple = Nnx.Jit((Models.Dense m, (Tensor X, Tensor Y) t) => { m.Bias!.Value = m.Bias.Value + t.X.Mean(axis: 0) - t.Y.Mean(axis: 0); });
        var withArray = Nnx.Jit((Models.Dense m, Tensor[] t) => { m.Bias!.Value = m.Bias.Value + t[0].Mean(axis: 0) - t[1].Mean(axis: 0); });
        var withList = Nnx.Jit((Models.Dense m, List<Tensor> t) => { m.Bias!.Value = m.Bias.Value + t[0].Mean(axis: 0) - t[1].Mean(axis: 0); });
        var withDict = Nnx.Jit((Models.Dense m, Dictionary<string, Tensor> d) => { m.Bias!.Value = m.Bias.Value + d["a"].Mean(axis: 0) - d["b"].Mean(axis: 0); });
        var baseline = BytesPerCall(() => plain(model, X, X2));
        BytesPerCall(() => withTuple(model, (X, X2))).Should().BeLessThanOrEqualTo(baseline + Slack, "a tuple costs its box at most");
        BytesPerCall(() => withArray(model, pair)).Should().BeLessThanOrEqualTo(baseline + Slack);
        BytesPerCall(() => withList(model, list)).Should().BeLessThanOrEqualTo(baseline + Slack);
        BytesPerCall(() => withDict(model, dict)).Should().BeLessThanOrEqualTo(baseline + Slack);
        new[] { withTuple.TraceCount(), withArray.TraceCount(), withList.TraceCount(), withDict.TraceCount() }.Should().AllBeEquivalentTo(1);
    }

    [TestMethod]
    public void AJitPureCachedCallAllocatesNoMoreWithStaticsAndTreesThanWithTensorsOnly()
    {
        var dict = new Dictionary<string, Tensor> { ["a"] = X, ["b"] = X2 };
        var plain = Jit.Pure((Tensor a, Tensor b) => a + b);
        var withStatic = Jit.Pure((Tensor a, Tensor b, int k) => a + b * k);
        var withDict = Jit.Pure((Dictionary<string, Tensor> d) => d["a"] + d["b"]);
        // Each result is disposed, so its buffer goes back to the CPU backend's pool and every call allocates alike,
        // whatever the pool held when the measurement began (a pooled value saves its wrapper's 72 bytes).
        var baseline = BytesPerCall(() => plain(X, X2).Dispose());
        BytesPerCall(() => withStatic(X, X2, 2).Dispose()).Should().BeLessThanOrEqualTo(baseline + Slack, "the static is compared in place, the lookup makes no closure");
        BytesPerCall(() => withDict(dict).Dispose()).Should().BeLessThanOrEqualTo(baseline + Slack);
        withStatic.TraceCount().Should().Be(1);
        withDict.TraceCount().Should().Be(1);
    }

    [TestMethod]
    public void TheFastPathStillRetracesWhenAStaticAStructureOrAShapeChanges()
    {
        var model = new Models.Dense(3, 3);
        var step = Nnx.Jit((Models.Dense m, Dictionary<string, Tensor> d, double s) =>
            d.Values.Select(t => t.Sum()).Aggregate((p, q) => p + q) * s);
        var ab = new Dictionary<string, Tensor> { ["a"] = X, ["b"] = X2 };
        step(model, ab, 1.0).Item<float>().Should().Be(42);
        step(model, ab, 1.0).Item<float>().Should().Be(42);
        step.TraceCount().Should().Be(1);
        step(model, ab, 2.0).Item<float>().Should().Be(84, "a new static value retraces");
        step.TraceCount().Should().Be(2);
        step(model, ab, 1.0).Item<float>().Should().Be(42, "the earlier entry is still cached");
        step.TraceCount().Should().Be(2);
        step(model, new Dictionary<string, Tensor> { ["a"] = X, ["c"] = X2 }, 1.0).Item<float>().Should().Be(42);
        step.TraceCount().Should().Be(3, "another key is another structure");
        step(model, new Dictionary<string, Tensor> { ["a"] = X }, 1.0).Item<float>().Should().Be(21);
        step.TraceCount().Should().Be(4, "fewer entries is another structure");
        step(model, new Dictionary<string, Tensor> { ["a"] = X, ["b"] = Tensor.Ones(4) }, 1.0).Item<float>().Should().Be(25);
        step.TraceCount().Should().Be(5, "another shape retraces");
        step(model, ab, -0.0).Item<float>().Should().Be(0);
        step(model, ab, 0.0).Item<float>().Should().Be(0);
        step.TraceCount().Should().Be(7, "0.0 and -0.0 are different statics, compared by their bits");

        var pure = Jit.Pure((Tensor[] xs, int k) => xs[0] * k);
        pure([X], 2).ToArray<float>()[0].Should().Be(2);
        pure([X], 3).ToArray<float>()[0].Should().Be(3);
        pure([X2], 3).ToArray<float>()[0].Should().Be(18, "new tensors of the same aval run the same entry");
        pure([X, X2], 3).ToArray<float>()[0].Should().Be(3);
        pure.TraceCount().Should().Be(3);
    }

    [TestMethod]
    public void AStaticArgumentOfAnotherTypeIsAnotherEntry()
    {
        var f = Jit.Pure((Tensor x, object scale) => x * Convert.ToDouble(scale, System.Globalization.CultureInfo.InvariantCulture));
        f(X, 2).ToArray<float>()[0].Should().Be(2);
        f(X, 2L).ToArray<float>()[0].Should().Be(2);
        f(X, 2.0).ToArray<float>()[0].Should().Be(2);
        f.TraceCount().Should().Be(3, "2, 2L and 2.0 have different types, so they are different statics");
        f(X, 2L).ToArray<float>()[0].Should().Be(2);
        f.TraceCount().Should().Be(3);
    }

    [TestMethod]
    public void ADisposedTensorInATreeArgumentIsStillAnErrorOnTheFastPath()
    {
        var model = new Models.Dense(3, 3);
        var step = Nnx.Jit((Models.Dense m, Tensor[] xs) => { m.Bias!.Value = m.Bias.Value + xs[0].Mean(axis: 0); });
        var x = Tensor.FromArray([1f, 2f, 3f], 1, 3);
        step(model, [x]);
        step(model, [x]);
        x.Dispose();
        var act = () => step(model, [x]);
        act.Should().Throw<ObjectDisposedException>().WithMessage("*Nnx.Jit: a tensor argument*was disposed*");
    }
}
