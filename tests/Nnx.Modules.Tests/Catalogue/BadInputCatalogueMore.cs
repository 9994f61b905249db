using NnxSharp;
using static UserCode.Tests.BadInputCatalogue;

namespace UserCode.Tests;

/// <summary>The catalogue's cases over modules, Split/Merge, both jits, optimizers and export.</summary>
internal static class BadInputCatalogueMore
{
    public sealed class HoldsTensor : Module
    {
        public Tensor Raw = Tensor.Ones(2);
    }

    public sealed class KindWithField(Tensor v) : Variable(v)
    {
        public int Extra = 1;
    }

    public sealed class UsesKind : Module
    {
        public readonly KindWithField V = new(Tensor.Ones(2));
    }

    public sealed class Two : Module
    {
        public readonly Linear A = new(2, 3, new Rngs(0));
        public Linear? B = new(3, 1, new Rngs(1));
        public double Scale = 1.0;

        public Tensor Call(Tensor x) => B is null ? A.Call(x).Sum() : B.Call(A.Call(x)).Sum() * Scale;
    }

    private static Tensor X => Tensor.Ones(4, 2);

    public static IEnumerable<BadInput> Modules()
    {
        yield return Case<NotSupportedException>("module", "a module holding a bare Tensor", () => Nnx.Split(new HoldsTensor()), "HoldsTensor", "Raw", "Tensor", "Variable");
        yield return Case<NotSupportedException>("module", "a variable kind with a field", () => Nnx.Split(new UsesKind()), "KindWithField", "Extra");
        yield return Case<ArgumentException>("split", "Split of something that is not a module", () => Nnx.Split("not a module"), "String", "not a graph node");
        yield return Case<ArgumentException>("merge", "Merge with a State of another model", () =>
        {
            var (def, _) = Nnx.Split(new Two());
            var (_, other) = Nnx.Split(new Linear(2, 3, new Rngs(0)));
            Nnx.Merge<Two>(def, other);
        }, "Merge", "a/kernel");
        yield return Case<ArgumentException>("merge", "Merge with a value of another shape", () =>
        {
            var (def, state) = Nnx.Split(new Two());
            Nnx.Merge<Two>(def, state.Map((p, t) => p == "a/kernel" ? Tensor.Ones(5, 5) : t));
        }, "Merge", "a/kernel", "f32[5,5]", "f32[2,3]");
        yield return Case<ArgumentException>("update", "Update with an unknown path", () =>
        {
            var m = new Two();
            Nnx.Update(m, Nnx.State(new Linear(2, 3, new Rngs(0))));
        }, "Update", "kernel");
        yield return Case<KeyNotFoundException>("state", "a State read at a missing path", () => _ = Nnx.State(new Two())["a/nope"], "a/nope");
        yield return Case<ArgumentException>("filter", "Filter.Of a type that is not a variable kind", () => Filter.Of(typeof(string)), "Filter.Of", "String", "not a Variable kind");
        yield return Case<NotSupportedException>("static", "a static config that holds a tensor", () => Nnx.Split(new StaticsByValueTests.BadConfigModule()), "'settings.Hidden'", "HoldsTensorConfig", "Tensor");
    }

    public static IEnumerable<BadInput> Jits()
    {
        yield return Case<ArgumentNullException>("Jit.Pure", "a null tensor argument", () => Jit.Pure((Tensor x, Tensor y) => x + y)(Tensor.Ones(1), null!), "Jit.Pure", "argument 1", "'y'", "Tensor");
        yield return Case<ArgumentException>("Jit.Pure", "Lower with too few arguments", () => Jit.Pure((Tensor x, Tensor y) => x + y).Lower(Tensor.Ones(1)), "takes 2 arguments", "Tensor x, Tensor y", "1 was given");
        yield return Case<ArgumentException>("Jit.Pure", "Lower with an argument of the wrong type", () => Jit.Pure((Tensor x) => x).Lower("x"), "argument 0 'x'", "Tensor", "String");
        yield return Case<ArgumentException>("Jit.Pure", "Lower of a delegate that was not jitted", () => ((Func<Tensor, Tensor>)(x => x)).Lower(Tensor.Ones(1)), "not made by Jit.Pure or Nnx.Jit");
        yield return Case<ArgumentException>("Jit.Pure", "a result that is not tensors", () => Jit.Pure((Tensor x) => new object())(Tensor.Ones(1)), "Object");
        yield return Case<ArgumentException>("Jit.Pure", "a shape error inside the traced function", () => Jit.Pure((Tensor x) => x.MatMul(x))(Tensor.Ones(2, 3)), "mat_mul", "f32[2,3]");
        yield return Case<ArgumentNullException>("Nnx.Jit", "a null module", () => Nnx.Jit((Two model, Tensor x) => model.Call(x))(null!, X), "Nnx.Jit", "argument 0", "'model'", "Two");
        yield return Case<InvalidOperationException>("Nnx.Jit", "a step that adds a submodule", () =>
        {
            var m = new Two { B = null };
            Nnx.Jit((Two model, Tensor x) => { model.B = new Linear(3, 1, new Rngs(2)); return model.Call(x); })(m, X);
        }, "Nnx.Jit", "changed the structure", "'b'", "Two");
        yield return Case<InvalidOperationException>("Nnx.Jit", "a step that changes a static attribute", () =>
            Nnx.Jit((Two model, Tensor x) => { model.Scale = 3.0; return model.Call(x); })(new Two(), X), "Nnx.Jit", "static attribute 'scale'", "1", "3");
        yield return Case<InvalidOperationException>("Nnx.Jit", "a step that gives a variable another shape", () =>
            Nnx.Jit((Two model, Tensor x) => { model.A.Bias!.Value = Tensor.Ones(7); return x.Sum(); })(new Two(), X), "Nnx.Jit", "variable 'a/bias'", "f32[3]", "f32[7]");
        yield return Case<InvalidOperationException>("Nnx.Jit", "a step that assigns to a module captured by its closure", () =>
        {
            var captured = new Two();
            Nnx.State(captured);
            Nnx.Jit((Two model, Tensor x) => { captured.A.Kernel.Value = model.A.Kernel.Value * 2.0; return x.Sum(); })(new Two(), X);
        }, "variable 'a/kernel'", "f32[2,3]", "not an argument");
        yield return Case<InvalidOperationException>("Nnx.Jit", "a jitted Action that changes nothing", () =>
            Nnx.Jit((Two model) => { _ = model.A.Kernel.Value.Sum(); })(new Two()), "Nnx.Jit", "changes no variable", "returns nothing");
        yield return Case<ArgumentException>("Nnx.Jit", "a tensor argument of another shape inside the step", () =>
            Nnx.Jit((Two model, Tensor x) => model.Call(x))(new Two(), Tensor.Ones(4, 5)), "Linear", "2 features", "f32[4,5]");
        yield return Case<ArgumentException>("Nnx.Jit", "Export with too few arguments", () =>
            Nnx.Jit((Two model, Tensor x) => model.Call(x)).Export(Path.Combine(Path.GetTempPath(), "nnx-catalogue-unused.onnx"), new Two()),
            "takes 2 arguments", "Two model, Tensor x", "1 was given");
        yield return Case<ArgumentException>("Nnx.Jit", "Lower with a tensor where a module goes", () =>
            Nnx.Jit((Two model, Tensor x) => model.Call(x)).Lower(X, X), "argument 0 'model'", "Two", "Tensor");
        yield return Case<ArgumentException>("Nnx.Jit", "a symbolic tensor from another trace as an argument", () =>
        {
            Tensor? leaked = null;
            Jit.Pure((Tensor t) => { leaked = t; return t.Sum(); })(Tensor.Ones(4, 2));
            Nnx.Jit((Two model, Tensor x) => model.Call(x))(new Two(), leaked!);
        }, "Nnx.Jit", "argument x", "symbolic tensor", "f32[4,2]");
        yield return Case<NotFiniteNumberException>("Nnx.Jit", "a NaN output with DebugNans on", () =>
        {
            Nnx.Config.DebugNans = true;
            try
            {
                Jit.Pure((Tensor x) => x.Log())(Tensor.FromArray([-1f]));
            }
            finally
            {
                Nnx.Config.DebugNans = false;
            }
        }, "Jit.Pure", "output 'out'", "f32[]", "NaN");
    }

    private static Tensor Step(Two m, Optimizer o)
    {
        var (loss, grads) = Nnx.ValueAndGrad<Two>(t => t.Call(X))(m);
        o.Update(grads);
        return loss;
    }

    public static IEnumerable<BadInput> Optimizers()
    {
        yield return Case<ArgumentException>("optimizer", "an optimizer given another model's gradients", () =>
        {
            var a = new Two();
            Step(new Two(), new Optimizer(a, Optax.Sgd(0.1)));
        }, "Optimizer.Update", "Two #", "different object");
        yield return Case<ArgumentException>("optimizer", "gradients missing a path", () =>
        {
            var m = new Two();
            new Optimizer(m, Optax.Sgd(0.1)).Update(Nnx.State(m).Filter(Filter.Of<Param>()).At("a"));
        }, "Optimizer.Update", "missing", "'a/kernel'");
        yield return Case<InvalidOperationException>("optimizer", "an optimizer whose model lost a layer", () =>
        {
            var m = new Two();
            var o = new Optimizer(m, Optax.Adam(1e-3));
            m.B = null;
            Step(m, o);
        }, "Optimizer.Update", "gone", "'b/kernel'");
        yield return Case<InvalidOperationException>("optimizer", "an optimizer whose variable was replaced by another shape", () =>
        {
            var m = new Two();
            var o = new Optimizer(m, Optax.Adam(1e-3));
            m.B!.Bias!.Value = Tensor.Ones(4);
            o.Update(Nnx.State(m).Filter(Filter.Of<Param>()));
        }, "Optimizer.Update", "'b/bias'", "f32[4]", "f32[1]");
        yield return Case<ArgumentException>("optimizer", "a gradient of another dtype", () =>
        {
            var m = new Two();
            new Optimizer(m, Optax.Sgd(0.1)).Update(Nnx.State(m).Filter(Filter.Of<Param>()).Map(t => t.Cast(DType.Float64)));
        }, "Optimizer.Update", "'a/kernel'", "f64[2,3]", "f32[2,3]");
        yield return Case<ArgumentOutOfRangeException>("optimizer", "a schedule of zero steps", () => Schedules.Linear(1, 0, 0), "transitionSteps");
        yield return Case<ArgumentNullException>("optimizer", "an optimizer without a transformation", () => _ = new Optimizer(new Two(), null!), "tx");
        yield return Case<ArgumentException>("optimizer", "Nnx.Jit step pairing a model with another model's optimizer", () =>
        {
            var a = new Two();
            var oa = new Optimizer(a, Optax.Sgd(0.1));
            Nnx.Jit((Two m, Optimizer o) => Step(m, o))(new Two(), oa);
        }, "Optimizer.Update", "Two #", "made for the Two #");
    }
}
