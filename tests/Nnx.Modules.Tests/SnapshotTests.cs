using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class SnapshotTests
{
    private static GraphSnapshot Snap(params object[] roots) => GraphSnapshot.Capture(roots, roots.Length > 1);

    [TestMethod]
    public void AStructureCheckSeesEveryStructuralChangeAndNothingElse()
    {
        var model = new Mlp(3, 4);
        var optimizer = new Sgd(model, 0.1);
        var snapshot = Snap(model, optimizer);
        snapshot.IsCurrent().Should().BeTrue();

        model.Layers[0].Linear.Kernel.Value = Tensor.Ones(4, 4);
        model.Layers[1].Calls.Value = Tensor.Scalar(3);
        snapshot.IsCurrent().Should().BeTrue("new values of the same avals are not structure");

        void Expect(Action change, Action undo, string because, bool sameDef = false)
        {
            change();
            snapshot.IsCurrent().Should().BeFalse(because);
            if (sameDef) Snap(model, optimizer).GraphDef.Should().Be(snapshot.GraphDef, because);
            else Snap(model, optimizer).GraphDef.Should().NotBe(snapshot.GraphDef, because);
            undo();
            snapshot.IsCurrent().Should().BeTrue();
        }

        var calls = model.Layers[2].Calls;
        Expect(() => model.Layers[2].Calls = new Count(Tensor.Scalar(0)), () => model.Layers[2].Calls = calls,
            "a variable replaced by an equal one: the snapshot holds the old object, though the GraphDef is equal", sameDef: true);
        Expect(() => model.Layers[0].Linear.Kernel.Value = Tensor.Ones(4, 5), () => model.Layers[0].Linear.Kernel.Value = Tensor.Ones(4, 4), "a shape changed");
        var block = model.Layers[1];
        Expect(() => model.Layers[1] = new Block(4, 4), () => model.Layers[1] = block, "a list element replaced by an equal one", sameDef: true);
        Expect(() => model.Layers.Add(block), () => model.Layers.RemoveAt(3), "a list grown");
        Expect(() => model.Layers[0].Rate = 0.7, () => model.Layers[0].Rate = 0.1, "a static attribute changed");
        Expect(() => model.Eval(), () => model.Train(), "train/eval switched");
        var bias = model.Layers[0].Linear.Bias;
        Expect(() => model.Layers[0].Linear.Bias = null, () => model.Layers[0].Linear.Bias = bias, "a variable removed");
        Expect(() => model.Layers[0].Linear.Kernel.Value = Tensor.Ones(DType.Float64, 4, 4), () => model.Layers[0].Linear.Kernel.Value = Tensor.Ones(4, 4), "a dtype changed");

        var statics = new Statics(1);
        var s2 = Snap(statics);
        statics.Features[1] = 9;
        s2.IsCurrent().Should().BeFalse("an element of a static array changed in place");
        statics.Features[1] = 8;
        statics.Tags.Add("c");
        s2.IsCurrent().Should().BeFalse("a static list grew in place");
        statics.Tags.RemoveAt(2);
        statics.Eps = 0.5f;
        s2.IsCurrent().Should().BeFalse("a nullable attribute set");
        statics.Eps = null;
        s2.IsCurrent().Should().BeTrue();
    }

    [TestMethod]
    public void SplitReusesTheCachedStructureWhileItIsCurrent()
    {
        var model = new Mlp(2, 3);
        var (g1, s1) = Nnx.Split(model);
        var (g2, s2) = Nnx.Split(model);
        g2.Should().BeSameAs(g1, "the structure is cached per root");
        s2.Should().NotBeSameAs(s1);
        s2.Values.Should().Equal(s1.Values);

        model.Layers.Add(new Block(3, 3));
        var (g3, s3) = Nnx.Split(model);
        g3.Should().NotBe(g1);
        s3.Count.Should().Be(s1.Count + 6);

        var optimizer = new Sgd(model, 0.1);
        Nnx.GraphDef(model, optimizer).Should().NotBe(g3, "other roots, another structure");
        Nnx.GraphDef(model).Should().BeSameAs(g3);
    }
}
