using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Data;

namespace NnxSharp.Tests;

[TestClass]
public sealed class BatchTests
{
    /// <summary>10 rows: features [i, 2, 3] with x[i, a, b] = 100·i + 10·a + b, labels i·3 as int64.</summary>
    private static ArrayDataset Rows(int n = 10)
    {
        var x = new float[n * 6];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < 6; k++) x[i * 6 + k] = 100 * i + 10 * (k / 3) + k % 3;
        return new ArrayDataset(DataColumn.Create(x, n, 2, 3), DataColumn.Create(Enumerable.Range(0, n).Select(i => 3L * i).ToArray(), n));
    }

    /// <summary>The row index each batch holds, read back from the labels.</summary>
    private static int[][] RowsOf(IEnumerable<Batch> batches) =>
        [.. batches.Select(b => b[1].ToArray<long>().Select(v => (int)(v / 3)).ToArray())];

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(3)]
    public void WithoutAKeyBatchesFollowTheStoredOrder(int prefetch)
    {
        var batches = Rows().Batches(4, prefetch: prefetch);
        batches.Count.Should().Be(3);
        RowsOf(batches).Should().BeEquivalentTo(new[] { new[] { 0, 1, 2, 3 }, [4, 5, 6, 7], [8, 9] }, o => o.WithStrictOrdering());
        var first = batches.First();
        first.Index.Should().Be(0);
        first.Size.Should().Be(4);
        var (x, y) = first;
        x.Aval.Should().Be(Aval.F32(4, 2, 3));
        y.Aval.Should().Be(Aval.Of(DType.Int64, 4));
        x.ToArray<float>()[6..12].Should().Equal(100, 101, 102, 110, 111, 112);
    }

    [TestMethod]
    public void DropLastLeavesOutTheSmallerBatch()
    {
        var batches = Rows().Batches(4, dropLast: true);
        batches.Count.Should().Be(2);
        RowsOf(batches).Select(b => b.Length).Should().Equal(4, 4);
        Rows().Batches(5, dropLast: true).Count.Should().Be(2);
        Rows().Batches(11, dropLast: true).Should().BeEmpty();
        Rows().Batches(11).Single().Size.Should().Be(10);
    }

    [TestMethod]
    public void AKeyShufflesInThePermutationsOrderAndReproducibly()
    {
        var key = Prng.Key(3);
        var order = Prng.PermutationIndices(key, 10);
        order.Should().NotEqual(Enumerable.Range(0, 10));
        var batches = Rows().Batches(3, key, prefetch: 2);
        batches.Order.Should().Equal(order);
        RowsOf(batches).SelectMany(r => r).Should().Equal(order);
        // The features travel with their labels.
        foreach (var b in batches)
        {
            var (x, y) = b;
            var rows = y.ToArray<long>().Select(v => v / 3).ToArray();
            x.ToArray<float>().Where((_, k) => k % 6 == 0).Should().Equal(rows.Select(r => (float)(100 * r)));
        }
        RowsOf(Rows().Batches(3, Prng.Key(3), prefetch: 0)).Should().BeEquivalentTo(RowsOf(batches), o => o.WithStrictOrdering());
        RowsOf(Rows().Batches(3, Prng.Key(4))).SelectMany(r => r).Should().NotEqual(order);
    }

    [TestMethod]
    public void PrefetchedBatchesFeedAJittedStep()
    {
        var sum = Nnx.Jit((Tensor x, Tensor y) => x.Sum() + y.Cast(DType.Float32).Sum());
        var ds = Rows(40);
        var expected = ds.Batches(8, Prng.Key(1), prefetch: 0).Select(b => sum(b[0], b[1]).Item<float>()).ToArray();
        var seq = ds.Batches(8, Prng.Key(1), prefetch: 2);
        var got = new List<float>();
        foreach (var b in seq)
        {
            got.Add(sum(b[0], b[1]).Item<float>());
            b.Dispose();
        }
        got.Should().Equal(expected);
        seq.WaitTime.Should().BeLessThanOrEqualTo(seq.PrepareTime + TimeSpan.FromSeconds(1), "the measured wait is part of the work");
    }

    [TestMethod]
    public void AnAbandonedEnumerationFreesItsPrefetchedBatches()
    {
        using (var e = Rows(40).Batches(4, prefetch: 3).GetEnumerator())
        {
            e.MoveNext().Should().BeTrue();
            e.Current.Index.Should().Be(0);
            e.MoveNext().Should().BeTrue();
            e.Current.Index.Should().Be(1);
        }
        var seq = Rows(8).Batches(4);
        using var e2 = seq.GetEnumerator();
        FluentActions.Invoking(() => e2.Current).Should().Throw<InvalidOperationException>().WithMessage("*before MoveNext*");
    }

    [TestMethod]
    public void SliceCopiesRows()
    {
        var part = Rows().Slice(2, 5);
        part.Count.Should().Be(5);
        RowsOf(part.Batches(5)).Single().Should().Equal(2, 3, 4, 5, 6);
        FluentActions.Invoking(() => Rows().Slice(8, 3)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[8, 11)*[0, 10)*");
    }

    [TestMethod]
    public void BadArgumentsAreNamed()
    {
        FluentActions.Invoking(() => new ArrayDataset(DataColumn.Create(new float[6], 3, 2), DataColumn.Create(new int[2], 2)))
            .Should().Throw<ArgumentException>().WithMessage("*different row counts*column 0: 3*column 1: 2*");
        FluentActions.Invoking(() => DataColumn.Create(new float[5], 3, 2)).Should().Throw<ArgumentException>().WithMessage("*5 f32 values do not fill shape [3,2]*");
        FluentActions.Invoking(() => Rows().Batches(0)).Should().Throw<ArgumentException>().WithMessage("*batch size must be positive*0*");
        FluentActions.Invoking(() => Rows().Batches(2, prefetch: -1)).Should().Throw<ArgumentException>().WithMessage("*prefetch*-1*");
        var one = new ArrayDataset(DataColumn.Create(new float[4], 4));
        FluentActions.Invoking(() => { var (a, b) = one.Batches(2).First(); }).Should().Throw<InvalidOperationException>().WithMessage("*2 tensors*1 column(s)*");
    }
}
