using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class SplitMergeTests
{
    private static float[] Data(Tensor t) => t.ToArray<float>();

    [TestMethod]
    public void MergeOfSplitRoundTripsValuesTypesAndStatics()
    {
        var model = new Mlp(2, 3, "gelu");
        model.Layers[1].Linear.Kernel.Value = Tensor.FromArray(Enumerable.Range(0, 9).Select(i => (float)i).ToArray(), 3, 3);
        model.Layers[0].Rate = 0.25;

        var (graphdef, state) = Nnx.Split(model);
        var copy = Nnx.Merge<Mlp>(graphdef, state);

        copy.Should().NotBeSameAs(model);
        copy.Layers.Should().HaveCount(2).And.AllBeOfType<Block>();
        copy.Layers[0].Should().NotBeSameAs(model.Layers[0]);
        copy.Activation.Should().Be("gelu");
        copy.Layers[0].Rate.Should().Be(0.25);
        copy.Layers[1].Linear.InFeatures.Should().Be(3);
        copy.Layers[0].Bn.Momentum.Should().Be(0.99);
        copy.Layers[0].Calls.Should().BeOfType<Count>();
        copy.Layers[0].Bn.Mean.Should().BeOfType<BatchStat>();
        copy.Layers[1].Linear.Kernel.Should().NotBeSameAs(model.Layers[1].Linear.Kernel);
        Data(copy.Layers[1].Linear.Kernel.Value).Should().Equal(Data(model.Layers[1].Linear.Kernel.Value));
        Nnx.GraphDef(copy).Should().Be(graphdef);
        Nnx.State(copy).Paths.Should().Equal(state.Paths);
    }

    [TestMethod]
    public void PathsAreSnakeCaseFieldNamesIndicesAndKeys()
    {
        var (_, state) = Nnx.Split(new Mlp(1, 2));
        state.Paths.Should().Equal(
            "layers/0/linear/kernel", "layers/0/linear/bias", "layers/0/bn/scale", "layers/0/bn/mean", "layers/0/bn/var", "layers/0/calls");
        state.KindOf("layers/0/calls").Should().Be(typeof(Count));
    }

    [TestMethod]
    public void SeveralRootsShareWhatTheyShare()
    {
        var model = new Mlp(2, 3);
        var optimizer = new Sgd(model, 0.1);

        var (graphdef, state) = Nnx.Split(model, optimizer);
        state.Paths.Should().StartWith("0/layers/0/linear/kernel");
        state.Paths.Should().Contain("1/step").And.Contain("1/momentum/layers.0.linear");
        state.Paths.Should().NotContain(p => p.StartsWith("1/model/", StringComparison.Ordinal), "the optimizer's model is the model, stored once");
        state.Count.Should().Be(Nnx.State(model).Count + 1 + 2);
        graphdef.RootCount.Should().Be(2);

        var (m2, o2) = Nnx.Merge<Mlp, Sgd>(graphdef, state);
        o2.Model.Should().BeSameAs(m2, "the sharing survives the round trip");
        m2.Should().NotBeSameAs(model);
        Nnx.GraphDef((model, optimizer)).Should().Be(graphdef, "a tuple of roots is the same as several roots");
    }

    [TestMethod]
    public void TiedWeightsStayTied()
    {
        var tied = new Tied(2);
        var (graphdef, state) = Nnx.Split(tied);
        state.Paths.Should().Equal("encoder/kernel");

        var copy = Nnx.Merge<Tied>(graphdef, state.Map(t => t * 3.0));
        copy.Decoder.Should().BeSameAs(copy.Encoder.Kernel);
        copy.Both[0].Should().BeSameAs(copy.Decoder);
        copy.Both[1].Should().BeSameAs(copy.Decoder);
        Data(copy.Decoder.Value).Should().Equal(1.5f, 1.5f, 1.5f, 1.5f);

        copy.Encoder.Kernel.Value = Tensor.Zeros(2, 2);
        Data(copy.Decoder.Value).Should().Equal(0f, 0f, 0f, 0f);
    }

    [TestMethod]
    public void CyclesAreReferences()
    {
        var parent = new Parent();
        var (graphdef, state) = Nnx.Split(parent);
        state.Paths.Should().Equal("child/s", "w");
        graphdef.NodeCount.Should().Be(4);

        var copy = Nnx.Merge<Parent>(graphdef, state);
        copy.Child.Parent.Should().BeSameAs(copy);
        copy.Child.S.Value.Shape.Should().Equal(3);
        Nnx.GraphDef(new Parent()).Should().Be(graphdef);
    }

    [TestMethod]
    public void StaticAttributesOfManyKindsRoundTrip()
    {
        var m = new Statics(7) { Mode = Mode.Exact, Eps = 1e-5f, Config = new Config(5, "x") };
        var (graphdef, state) = Nnx.Split(m);
        var copy = Nnx.Merge<Statics>(graphdef, state);

        copy.Features.Should().Equal(4, 8).And.NotBeSameAs(m.Features, "a static array is copied");
        copy.Tags.Should().Equal("a", "b");
        (copy.Mode, copy.Eps, copy.Config, copy.Seed).Should().Be((Mode.Exact, 1e-5f, new Config(5, "x"), 7));
        copy.Training.Should().BeTrue();
    }

    [TestMethod]
    public void UpdateWritesValuesInPlace()
    {
        var model = new Mlp(2, 3);
        var kernel = model.Layers[0].Linear.Kernel;
        var state = Nnx.State(model).Map(t => t + 1.0);

        Nnx.Update(model, state);

        model.Layers[0].Linear.Kernel.Should().BeSameAs(kernel, "the variables are the same objects");
        Data(kernel.Value).Should().AllBeEquivalentTo(1.5f);
        Data(model.Layers[1].Bn.Var.Value).Should().AllBeEquivalentTo(2f);
    }

    [TestMethod]
    public void UpdateTakesATupleOfRootsAndPartialStates()
    {
        var model = new Mlp(1, 2);
        var optimizer = new Sgd(model, 0.1);
        var (_, parameters, rest) = Nnx.Split((model, optimizer), Filter.Of<Param>(), Filter.Everything);

        Nnx.Update((model, optimizer), parameters.Map(t => t * 0.0));

        Data(model.Layers[0].Linear.Kernel.Value).Should().AllBeEquivalentTo(0f);
        Data(model.Layers[0].Bn.Var.Value).Should().AllBeEquivalentTo(1f, "only the given paths are written");
        rest.Paths.Should().Contain("1/step");
    }

    [TestMethod]
    public void ModulesAreListedOnceWithTheirPaths()
    {
        var model = new Mlp(2, 3);
        var optimizer = new Sgd(model, 0.1);
        optimizer.Modules().Select(m => m.Path).Should().Equal(
            "", "model", "model/layers/0", "model/layers/0/linear", "model/layers/0/bn", "model/layers/1", "model/layers/1/linear", "model/layers/1/bn");
    }
}
