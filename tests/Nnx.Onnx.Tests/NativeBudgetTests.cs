using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// Small CPU buffers are bounded by <see cref="NativeBudget"/> (young collections past a limit) instead of memory
/// pressure (full collections): dropped eager results cost no gen2 collection, their values are reused, and every
/// buffer gives its bytes back exactly once, disposed or finalized.
/// </summary>
[TestClass]
public sealed class NativeBudgetTests
{
    // What one f32[32] buffer counts: 128 bytes of data and the native overhead OrtBuffer assumes.
    private const long SmallCost = 32 * 4 + 256;

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void Drop(Tensor x, Tensor y, int calls)
    {
        for (var i = 0; i < calls; i++) _ = x + y;
    }

    [TestMethod]
    public void ALoopOfDroppedResultsCausesNoFullCollectionAndReusesItsValues()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (float)i).ToArray());
        var y = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => 0.5f * i).ToArray());
        // Two budgets' worth first: the pool fills, and the values made for it reach the old generation.
        var perLimit = (int)(NativeBudget.Shared.Limit / SmallCost);
        Drop(x, y, 2 * perLimit);
        Settle();
        var (gen2, created, asked) = (GC.CollectionCount(2), OrtBackend.CreatedValues, NativeBudget.Shared.Collections(0));
        long most = 0;
        for (var round = 0; round < 20; round++)
        {
            Drop(x, y, perLimit / 2);
            most = Math.Max(most, NativeBudget.Shared.Bytes);
        }
        (GC.CollectionCount(2) - gen2).Should().Be(0, "dropped small results are reclaimed by young collections (memory pressure made several full ones)");
        (NativeBudget.Shared.Collections(0) - asked).Should().BeGreaterThan(0, "the loop passed the limit several times");
        (OrtBackend.CreatedValues - created).Should().BeLessThan(perLimit / 10, "each collection's dropped values serve the next calls");
        most.Should().BeLessThanOrEqualTo(NativeBudget.Shared.Limit + 64 * SmallCost, "the budget bounds the bytes alive");
        (x + y).ToArray<float>().Should().Equal(Enumerable.Range(0, 32).Select(i => 1.5f * i));
    }

    [TestMethod]
    public void ResultsKeptAmongDroppedOnesKeepTheirValues()
    {
        var perLimit = (int)(NativeBudget.Shared.Limit / SmallCost);
        var kept = new List<(Tensor T, float V)>();
        var x = Tensor.FromArray(new float[32]);
        for (var i = 0; i < 3 * perLimit; i++)
        {
            var v = i % 997;
            var r = x + (double)v;
            if (i % (perLimit / 8) == 0) kept.Add((r, v));
        }
        Settle();
        Drop(x, x, perLimit); // reuses every value that was freed
        kept.Should().HaveCountGreaterThan(20);
        foreach (var (t, v) in kept) t.ToArray<float>().Should().AllSatisfy(e => e.Should().Be(v), "a kept tensor's value is never handed to another");
    }

    [TestMethod]
    public void DisposingOrFinalizingABufferGivesItsBytesBackOnce()
    {
        Settle();
        var start = NativeBudget.Shared.Bytes;
        var tensors = Enumerable.Range(0, 1000).Select(i => Tensor.FromArray(new float[32])).ToList();
        (NativeBudget.Shared.Bytes - start).Should().Be(1000 * SmallCost);
        foreach (var t in tensors.Take(500))
        {
            t.Dispose();
            t.Dispose();
        }
        (NativeBudget.Shared.Bytes - start).Should().Be(500 * SmallCost, "a second Dispose gives nothing back");
        tensors.Clear();
        Settle();
        NativeBudget.Shared.Bytes.Should().Be(start, "the finalizers gave the dropped ones back");

        var startLarge = NativeBudget.Large.Bytes;
        var large = Tensor.FromArray(new float[64 * 1024 / 4]);
        NativeBudget.Shared.Bytes.Should().Be(start, "large buffers have a budget of their own");
        (NativeBudget.Large.Bytes - startLarge).Should().Be(64 * 1024 + 256, "memory pressure would ask for full collections");
        large.Dispose();
        NativeBudget.Large.Bytes.Should().Be(startLarge);
    }

    [TestMethod]
    public void LargeDroppedResultsAreReclaimedWithoutFullCollections()
    {
        // An eager step at width 512 makes [32, 512] results of 64 KB: with memory pressure, three full collections a step.
        var x = Tensor.FromArray(new float[32 * 512], 32, 512);
        Drop(x, x, 400);
        Settle();
        var gen2 = GC.CollectionCount(2);
        var asked = NativeBudget.Large.Collections(0);
        long most = 0, limit = NativeBudget.Large.Limit;
        for (var i = 0; i < 4000; i++)
        {
            _ = x + x;
            most = Math.Max(most, NativeBudget.Large.Bytes);
            limit = Math.Max(limit, NativeBudget.Large.Limit);
        }
        (GC.CollectionCount(2) - gen2).Should().Be(0, "dropped results are reclaimed by young collections");
        (NativeBudget.Large.Collections(0) - asked).Should().BeGreaterThan(0, "4,000 results of 64 KB (256 MiB) pass the limit");
        most.Should().BeLessThanOrEqualTo(limit + 8 * (64 * 1024 + 256), "the budget bounds the bytes alive");
    }

    /// <summary>A budget whose collections free what <paramref name="freed"/> says for each generation, recorded in <paramref name="asked"/>.</summary>
    private static NativeBudget Fake(long baseLimit, List<int> asked, Func<int, long> freed)
    {
        NativeBudget budget = null!;
        budget = new NativeBudget(baseLimit, generation =>
        {
            asked.Add(generation);
            budget.Remove(freed(generation));
        });
        return budget;
    }

    [TestMethod]
    public void PastItsLimitABudgetCollectsTheYoungestGenerationAndStopsWhenThatFreesEnough()
    {
        var asked = new List<int>();
        var budget = Fake(1000, asked, _ => 1100);
        budget.Add(600);
        budget.Add(400);
        asked.Should().BeEmpty("at the limit, not past it");
        budget.Add(200);
        asked.Should().Equal(0);
        budget.Bytes.Should().Be(100);
        budget.Limit.Should().Be(1000, "twice what stayed alive is under the base");
        budget.Collections(0).Should().Be(1);
        budget.Collections(1).Should().Be(0);
    }

    [TestMethod]
    public void ABudgetGoesToOlderGenerationsOnlyWhileLittleIsFreed()
    {
        var asked = new List<int>();
        var budget = Fake(1000, asked, generation => generation == 1 ? 900 : 0);
        budget.Add(1200);
        asked.Should().Equal([0, 1], "gen0 freed nothing, gen1 brought it under half the limit");
        budget.Bytes.Should().Be(300);
    }

    [TestMethod]
    public void AFullCollectionOnlyWhenMoreThanFourBasesStayAfterGen1()
    {
        var asked = new List<int>();
        var budget = Fake(1000, asked, _ => 0);
        budget.Add(3500);
        asked.Should().Equal([0, 1], "nothing was freed, but 3,500 bytes alive is under 4 × the base: no full collection");
        budget.Limit.Should().Be(7000);
        asked.Clear();
        budget.Add(4000);
        asked.Should().Equal([0, 1, 2], "7,500 bytes stayed after gen1, over 4 × the base");
    }

    [TestMethod]
    public void WhatAFullCollectionLeftAliveDoesNotCallForAnotherOne()
    {
        // A program that holds a model of 10 bases. The first reclaim's full collection finds it alive; a later reclaim
        // whose gen1 leaves 3 bases more than that stops there, although more than 4 bases stay.
        var asked = new List<int>();
        var freed = new long[3];
        var budget = Fake(1000, asked, g => freed[g]);
        budget.Add(10_500);
        asked.Should().Equal([0, 1, 2], "10,500 bytes stayed after gen1, and no full collection had run yet");
        budget.Limit.Should().Be(21_000);
        asked.Clear();
        freed[1] = 8_000;
        budget.Add(11_000);
        asked.Should().Equal([0, 1], "13,500 bytes stayed after gen1: 3,000 more than the last full collection left, under 4 bases");
        budget.Bytes.Should().Be(13_500);
    }

    [TestMethod]
    public void WhatStaysAliveRaisesTheLimitAndWhatIsFreedLowersItAgain()
    {
        var asked = new List<int>();
        var freeing = 0L;
        var budget = Fake(1000, asked, _ => freeing);
        budget.Add(1500);
        asked.Should().Equal([0, 1], "nothing was freed: gen0 and gen1 were tried once, and 1,500 bytes do not call for a full collection");
        budget.Limit.Should().Be(3000, "twice what is alive, so that live tensors are not collected over and over");
        asked.Clear();
        budget.Add(1400);
        asked.Should().BeEmpty("still under the raised limit");
        freeing = 2800;
        budget.Add(200);
        asked.Should().Equal([0], "the young generation freed enough");
        budget.Bytes.Should().Be(300);
        budget.Limit.Should().Be(1000, "back to the base once little stays alive");
    }
}
