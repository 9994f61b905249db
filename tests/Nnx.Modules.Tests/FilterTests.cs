using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;
using UserCode.Models;

namespace UserCode.Tests;

[TestClass]
public sealed class FilterTests
{
    [TestMethod]
    public void FiltersPartitionTheStateExactly()
    {
        var model = new Mlp(2, 3);
        var all = Nnx.State(model);

        var (graphdef, parameters, rest) = Nnx.Split(model, Filter.Of<Param>(), Filter.Everything);
        parameters.Paths.Should().OnlyContain(p => parameters.KindOf(p) == typeof(Param));
        rest.Paths.Should().OnlyContain(p => rest.KindOf(p) != typeof(Param));
        parameters.Paths.Concat(rest.Paths).Should().BeEquivalentTo(all.Paths).And.OnlyHaveUniqueItems();
        parameters.Count.Should().Be(2 * 3);

        var (_, stats, counts, other) = Nnx.Split(model, typeof(BatchStat), Filter.Of<Count>(), Filter.Everything);
        (stats.Count, counts.Count, other.Count).Should().Be((4, 2, 6));

        var copy = Nnx.Merge<Mlp>(graphdef, parameters, rest);
        Nnx.State(copy).Paths.Should().Equal(all.Paths, "merging the parts restores the whole, in order");
    }

    [TestMethod]
    public void AFilterThatMatchesNothingGivesAnEmptyState()
    {
        var model = new Mlp(2, 3);
        Nnx.State(model, Filter.Of<Cache>()).Should().BeEmpty();
        Nnx.State(model, Filter.Nothing).Count.Should().Be(0);
        var (_, caches, everything) = Nnx.Split(model, Filter.Of<Cache>(), Filter.Everything);
        caches.Count.Should().Be(0);
        everything.Count.Should().Be(Nnx.State(model).Count);
    }

    [TestMethod]
    public void NonExhaustiveFiltersAreAnError()
    {
        FluentActions.Invoking(() => Nnx.Split(new Mlp(1, 2), Filter.Of<Param>(), Filter.Of<BatchStat>()))
            .Should().Throw<ArgumentException>().WithMessage("*no filter selects 'layers/0/calls'*Filter.Everything*");
    }

    [TestMethod]
    public void PathsPredicatesAndCombinators()
    {
        var state = Nnx.State(new Mlp(2, 3));
        state.Filter(Filter.PathContains("kernel")).Paths.Should().Equal("layers/0/linear/kernel", "layers/1/linear/kernel");
        state.Filter(Filter.PathStartsWith("layers/1/bn")).Count.Should().Be(3);
        state.Filter(Filter.PathStartsWith("layers/1/b")).Count.Should().Be(0, "prefixes end at a segment boundary");
        state.Filter(Filter.Of<Param>() & Filter.PathContains("bn")).Paths.Should().Equal("layers/0/bn/scale", "layers/1/bn/scale");
        state.Filter(Filter.Any(typeof(Count), Filter.PathContains("mean"))).Count.Should().Be(4);
        state.Filter(!Filter.Of<Variable>()).Count.Should().Be(0);
        state.Filter(Filter.Not(Filter.Of<Param>())).Count.Should().Be(state.Count - 6);
        state.Filter(Filter.Where(e => e.Aval.Shape.Rank == 2)).Count.Should().Be(2);
        state.Filter(Filter.All()).Count.Should().Be(state.Count);
        state.Filter(Filter.Any()).Count.Should().Be(0);
        (Filter.Of<Param>() | Filter.PathContains("calls")).ToString().Should().Be("Any(Param, PathContains(\"calls\"))");
        FluentActions.Invoking(() => Filter.Of(typeof(string))).Should().Throw<ArgumentException>().WithMessage("*String is not a Variable kind*");
    }
}
