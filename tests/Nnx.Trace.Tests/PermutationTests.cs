using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>
/// <see cref="Prng.Permutation"/> is JAX's <c>_shuffle</c> (jax/_src/random.py): for each of
/// ⌈3·ln n / ln(2^32 − 1)⌉ rounds, <c>key, subkey = split(key)</c>, then a stable <c>sort_key_val</c> of
/// <c>bits(subkey, (n,))</c> carrying the current order. The reference below builds that from the traced
/// <see cref="Prng.Split"/> and <see cref="Prng.Bits"/> (which equal jax.random's, PrngTests) and a stable
/// LINQ sort, so the host implementation is checked against JAX's algorithm on JAX-equal bits.
/// </summary>
[TestClass]
public sealed class PermutationTests
{
    [TestMethod]
    public void HostThreefryMatchesTheRandom123KnownAnswersAndTheTracedBlock()
    {
        HostThreefry.Hash(0, 0, 0, 0).Should().Be((0x6b200159u, 0x99ba4efeu));
        HostThreefry.Hash(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff).Should().Be((0x1cb996fcu, 0xbb002be7u));
        HostThreefry.Hash(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3).Should().Be((0xc4923a9cu, 0x483df7a0u));

        var key = Prng.Key(0x0123_4567_89ab_cdefL);
        var bits = new uint[300];
        HostThreefry.Bits(0x01234567, 0x89abcdef, bits);
        bits.Should().Equal(Prng.Bits(key, 300).ToArray<uint>());
        var split = Prng.Split(key, 2).ToArray<uint>();
        HostThreefry.SplitKey(0x01234567, 0x89abcdef, 0).Should().Be((split[0], split[1]));
        HostThreefry.SplitKey(0x01234567, 0x89abcdef, 1).Should().Be((split[2], split[3]));
    }

    [TestMethod]
    public void RoundsFollowJaxsStopCriterion()
    {
        // 3·ln(1625)/ln(2^32 − 1) = 0.99996 and 3·ln(1626)/ln(2^32 − 1) = 1.00004.
        Prng.PermutationRounds(0).Should().Be(0);
        Prng.PermutationRounds(1).Should().Be(0);
        Prng.PermutationRounds(2).Should().Be(1);
        Prng.PermutationRounds(1625).Should().Be(1);
        Prng.PermutationRounds(1626).Should().Be(2);
        Prng.PermutationRounds(60_000).Should().Be(2);
        Prng.PermutationRounds(2_642_245).Should().Be(2);
        Prng.PermutationRounds(2_642_246).Should().Be(3);
    }

    [TestMethod]
    [DataRow(0L, 10)]
    [DataRow(42L, 1625)]
    [DataRow(7L, 1626)]
    [DataRow(1701L, 5000)]
    public void PermutationIsJaxsSortBasedShuffle(long seed, int n)
    {
        var expected = Reference(Prng.Key(seed), n);
        var p = Prng.Permutation(Prng.Key(seed), n);
        p.DType.Should().Be(DType.Int32, "jax.random.permutation returns int32 without x64");
        p.ToArray<int>().Should().Equal(expected);
        p.ToArray<int>().Order().Should().Equal(Enumerable.Range(0, n));
    }

    [TestMethod]
    public void DifferentKeysGiveDifferentOrdersAndTheSameKeyTheSame()
    {
        var a = Prng.PermutationIndices(Prng.Key(1), 100);
        a.Should().Equal(Prng.PermutationIndices(Prng.Key(1), 100));
        a.Should().NotEqual(Prng.PermutationIndices(Prng.Key(2), 100));
        a.Should().NotEqual(Enumerable.Range(0, 100));
        Prng.PermutationIndices(Prng.Key(1), 0).Should().BeEmpty();
        Prng.PermutationIndices(Prng.Key(1), 1).Should().Equal(0);
    }

    [TestMethod]
    public void BadArgumentsAreNamed()
    {
        FluentActions.Invoking(() => Prng.Permutation(Prng.Key(0), -1)).Should().Throw<ArgumentException>().WithMessage("*permutation*≥ 0*-1*");
        FluentActions.Invoking(() => Prng.Permutation(Tensor.Zeros(3), 4)).Should().Throw<ArgumentException>().WithMessage("*permutation*u32[2]*");
        var graph = () => Ir.Graph.Trace(k => Prng.Permutation(k, 4), Aval.Of(DType.UInt32, 2));
        graph.Should().Throw<InvalidOperationException>().WithMessage("*permutation*symbolic*outside the traced function*");
    }

    /// <summary>JAX's algorithm written directly over the traced split and bits.</summary>
    private static int[] Reference(Tensor key, int n)
    {
        var x = Enumerable.Range(0, n).ToArray();
        var rounds = (int)Math.Ceiling(3 * Math.Log(Math.Max(1, n)) / Math.Log(4294967295.0));
        for (var r = 0; r < rounds; r++)
        {
            var keys = Prng.SplitKeys(key);
            (key, var subkey) = (keys[0], keys[1]);
            var sortKeys = Prng.Bits(subkey, n).ToArray<uint>();
            x = [.. Enumerable.Range(0, n).OrderBy(i => sortKeys[i]).Select(i => x[i])];  // OrderBy is stable
        }
        return x;
    }
}
