using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class ErrorTests
{
    [TestMethod]
    public void MergingAStateThatDoesNotFitNamesThePathAndBothShapes()
    {
        var (graphdef, state) = Nnx.Split(new Mlp(2, 3));

        FluentActions.Invoking(() => Nnx.Merge<Mlp>(graphdef, state.With("layers/1/linear/kernel", Tensor.Zeros(3, 4))))
            .Should().Throw<ArgumentException>()
            .WithMessage("Merge: 'layers/1/linear/kernel' is f32[3,3] (shape [3,3]) in the GraphDef but f32[3,4] (shape [3,4]) in the state.");

        var missing = state.Filter(Filter.Not(Filter.PathContains("calls")));
        FluentActions.Invoking(() => Nnx.Merge<Mlp>(graphdef, missing))
            .Should().Throw<ArgumentException>().WithMessage("Merge: the state has no value for 'layers/0/calls' (Count f32[])*also missing: 'layers/1/calls'.");

        var extra = NnxSharp.State.Merge(state, NnxSharp.State.Of([new StateEntry("layers/9/kernel", typeof(Param), Tensor.Ones(1))]));
        FluentActions.Invoking(() => Nnx.Merge<Mlp>(graphdef, extra))
            .Should().Throw<ArgumentException>().WithMessage("Merge: the state has 'layers/9/kernel' (Param f32[1]), which the GraphDef does not*");

        var wrongKind = NnxSharp.State.Of(state.Select(e => e.Path == "layers/0/calls" ? e with { Kind = typeof(Param) } : e));
        FluentActions.Invoking(() => Nnx.Merge<Mlp>(graphdef, wrongKind))
            .Should().Throw<ArgumentException>().WithMessage("Merge: 'layers/0/calls' is a Count in the GraphDef but a Param in the state.");

        FluentActions.Invoking(() => Nnx.Merge<Block>(graphdef, state)).Should().Throw<InvalidCastException>().WithMessage("*root is a Mlp*");
        FluentActions.Invoking(() => Nnx.Merge<Mlp, Mlp>(graphdef, state)).Should().Throw<ArgumentException>().WithMessage("*1 root(s) but 2*");
    }

    [TestMethod]
    public void AFailedUpdateChangesNothing()
    {
        var model = new Mlp(2, 3);
        var before = Nnx.State(model);
        var bad = before.Map(t => t + 1.0).With("layers/1/bn/var", Tensor.Ones(7));

        FluentActions.Invoking(() => Nnx.Update(model, bad))
            .Should().Throw<ArgumentException>()
            .WithMessage("Update: 'layers/1/bn/var' is f32[3] (shape [3]) in the object graph but f32[7] (shape [7]) in the state.");
        Nnx.State(model).Values.Should().Equal(before.Values, "nothing was written: the first entries were valid but the update failed as a whole");

        var unknown = NnxSharp.State.Of([new StateEntry("layers/2/calls", typeof(Count), Tensor.Scalar(1))]);
        FluentActions.Invoking(() => Nnx.Update(model, unknown)).Should().Throw<ArgumentException>().WithMessage("Update: the state has 'layers/2/calls', which is not in the object graph*");
    }

    [TestMethod]
    public void UnsupportedMembersAreNamed()
    {
        FluentActions.Invoking(() => Nnx.Split(new Raw())).Should().Throw<NotSupportedException>().WithMessage("Raw.W is a Tensor: *Variables*");
        FluentActions.Invoking(() => Nnx.Split(new HoldsTagged())).Should().Throw<NotSupportedException>().WithMessage("Variable kind Tagged declares the field 'Tag'*");
        FluentActions.Invoking(() => Nnx.Split(new Unsupported())).Should().Throw<NotSupportedException>().WithMessage("*Dictionary<Int32, Dense> holds modules*");
        var mixed = new Mixed();
        mixed.Items.Add(Tensor.Ones(2));
        FluentActions.Invoking(() => Nnx.Split(mixed)).Should().Throw<ArgumentException>().WithMessage("*'items/0' holds a bare Tensor f32[2]*");
        FluentActions.Invoking(() => Nnx.Split(3)).Should().Throw<ArgumentException>().WithMessage("*the root is a Int32, which is not a graph node*");
        FluentActions.Invoking(() => Nnx.Split(new Mlp(1, 1), 3)).Should().Throw<ArgumentException>().WithMessage("*root 1 is a Int32*");
    }

    [TestMethod]
    public void AnObjectListHoldsNodesAndStaticsSideBySide()
    {
        var mixed = new Mixed();
        var dense = new Dense(1, 2);
        mixed.Items.AddRange([dense, 3, null, "x", dense]);
        var (graphdef, state) = Nnx.Split(mixed);
        state.Paths.Should().Equal("items/0/kernel", "items/0/bias");
        var copy = Nnx.Merge<Mixed>(graphdef, state);
        copy.Items.Should().HaveCount(5);
        copy.Items[4].Should().BeSameAs(copy.Items[0]);
        copy.Items.Skip(1).Take(3).Should().Equal(3, null, "x");
    }
}
