using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;

namespace NnxSharp.Tests;

/// <summary>
/// The counter-based generator on the reference backend. JAX values are for its default configuration
/// (threefry2x32 with jax_threefry_partitionable=True, the default since JAX 0.5.0): each comes from a
/// doctest or a test in the jax-ml/jax repository, cited where it is used. Commit a60ead6 ("enable
/// partitionable threefry by default", Jan 2025) updated the doctests quoted here to the new values.
/// </summary>
[TestClass]
public sealed class PrngTests
{
    [TestMethod]
    public void ThreefryMatchesTheRandom123KnownAnswers()
    {
        // Random123's kat_vectors for threefry2x32_20 (also JAX's tests/random_test.py, testThreefry2x32):
        // key, counter → output. The three vectors run as one batched block.
        var k0 = U32(0x00000000, 0xffffffff, 0x13198a2e);
        var k1 = U32(0x00000000, 0xffffffff, 0x03707344);
        var x0 = U32(0x00000000, 0xffffffff, 0x243f6a88);
        var x1 = U32(0x00000000, 0xffffffff, 0x85a308d3);

        var (y0, y1) = Threefry.Hash(k0, k1, x0, x1);

        y0.ToArray<uint>().Should().Equal(0x6b200159u, 0x1cb996fcu, 0xc4923a9cu);
        y1.ToArray<uint>().Should().Equal(0x99ba4efeu, 0xbb002be7u, 0x483df7a0u);
    }

    [TestMethod]
    public void ThreefryMatchesAScalarImplementation()
    {
        var key = Prng.Key(0x0123_4567_89ab_cdefL);
        var (y0, y1) = Threefry.Hash(key.Slice(0, 0, 1), key.Slice(0, 1, 2), U32(0, 7, 0xffffffff), U32(5, 0, 123456789));
        var (a, b) = (y0.ToArray<uint>(), y1.ToArray<uint>());
        uint[][] counters = [[0, 5], [7, 0], [0xffffffff, 123456789]];
        for (var i = 0; i < 3; i++)
            (a[i], b[i]).Should().Be(ScalarThreefry.Hash(0x01234567, 0x89abcdef, counters[i][0], counters[i][1]));
    }

    [TestMethod]
    public void KeysHoldTheSeedsWords()
    {
        // JAX tests/random_test.py, test_prng_seeds_and_keys: seed 0 → [0, 0], seed 1 → [0, 1], and with
        // jax_enable_x64 seed −3 → [4294967295, 4294967293].
        Prng.Key(0).ToArray<uint>().Should().Equal(0u, 0u);
        Prng.Key(1).ToArray<uint>().Should().Equal(0u, 1u);
        Prng.Key(-3).ToArray<uint>().Should().Equal(4294967295u, 4294967293u);
        Prng.Key(0x1_0000_0002L).ToArray<uint>().Should().Equal(1u, 2u);
    }

    [TestMethod]
    public void UniformMatchesJax()
    {
        // docs/jep/9263-typed-keys.md: jax.random.uniform(jax.random.key(0), shape=(3,))
        //   → [0.947667, 0.9785799, 0.33229148]
        Prng.Uniform(Prng.Key(0), [3]).ToArray<float>().Should().Equal(0.947667f, 0.9785799f, 0.33229148f);

        // jax/random.py (module docstring): random.uniform(random.key(0)) → 0.947667
        Prng.Uniform(Prng.Key(0), []).Item<float>().Should().Be(0.947667f);
    }

    [TestMethod]
    public void SplitMatchesJax()
    {
        // jax/random.py (module docstring): key, subkey = random.split(random.key(0));
        // random.uniform(subkey) → 0.00729382 (NumPy prints at most 8 decimals: 0.0072938204 shows so).
        var keys = Prng.Split(Prng.Key(0));
        keys.Shape.Should().Equal(2, 2);
        Prng.Uniform(Prng.SplitKeys(Prng.Key(0))[1], []).Item<float>().Should().BeApproximately(0.00729382f, 5e-9f);
        keys.ToArray<uint>().Should().Equal(Prng.SplitKeys(Prng.Key(0)).SelectMany(k => k.ToArray<uint>()));
    }

    [TestMethod]
    public void UniformInARangeMatchesJax()
    {
        // jax/_src/numpy/lax_numpy.py (trunc docstring), printed to 2 decimals:
        // jax.random.uniform(jax.random.key(42), (3, 3), minval=-10, maxval=10)
        ShouldBeClose(Prng.Uniform(Prng.Key(42), [3, 3], minval: -10, maxval: 10), [-0.23, 3.6, 2.33, 1.22, -0.99, 1.72, -8.5, 5.5, 3.98], 0.0051);
        // jax/_src/numpy/ufuncs.py (ceil docstring): jax.random.uniform(jax.random.key(1), (3, 3), minval=-5, maxval=5)
        ShouldBeClose(Prng.Uniform(Prng.Key(1), [3, 3], minval: -5, maxval: 5), [-0.61, 0.34, -0.54, -0.62, 3.97, 0.59, 4.84, 3.42, -1.14], 0.0051);
    }

    [TestMethod]
    public void FoldInEqualsTheRowsOfSplit()
    {
        // JAX tests/random_test.py, test_threefry_split_fold_in_symmetry (partitionable mode):
        // fold_in(key(72), i) == split(key(72), 3)[i].
        var key = Prng.Key(72);
        var split = Prng.Split(key, 3).ToArray<uint>();
        for (var i = 0; i < 3; i++)
            Prng.FoldIn(key, i).ToArray<uint>().Should().Equal(split[(2 * i)..(2 * i + 2)]);
    }

    [TestMethod]
    public void BitsAreThreefryOfTheFlatIndex()
    {
        var bits = Prng.Bits(Prng.Key(1701), 2, 3);
        bits.Aval.Should().Be(new Aval(Shape.Of(2, 3), DType.UInt32));
        var expected = Enumerable.Range(0, 6).Select(i =>
        {
            var (y0, y1) = ScalarThreefry.Hash(0, 1701, 0, (uint)i);
            return y0 ^ y1;
        });
        bits.ToArray<uint>().Should().Equal(expected);
    }

    [TestMethod]
    public void TheSameKeyGivesTheSameBitsAndOtherKeysOthers()
    {
        var key = Prng.Key(7);
        Prng.Bits(key, 16).ToArray<uint>().Should().Equal(Prng.Bits(Prng.Key(7), 16).ToArray<uint>());
        Prng.Bits(Prng.FoldIn(key, 1), 16).ToArray<uint>().Should().NotIntersectWith(Prng.Bits(key, 16).ToArray<uint>());
    }

    [TestMethod]
    public void NormalMatchesJaxsCovariance()
    {
        // jax/_src/numpy/lax_numpy.py (cov docstring), printed to 2 decimals:
        // jnp.cov(jax.random.normal(jax.random.key(0), shape=(3, 100)))
        var x = Prng.Normal(Prng.Key(0), [3, 100]).ToArray<float>();
        double[] expected = [0.9, 0.03, 0.1, 0.03, 1.0, 0.01, 0.1, 0.01, 0.85];
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                Covariance(x, i, j, 100).Should().BeApproximately(expected[3 * i + j], 0.0051, $"cov[{i},{j}]");
    }

    [TestMethod]
    public void NormalMatchesJaxsDct()
    {
        // jax/_src/scipy/fft.py (dct docstring), printed to 2 decimals:
        // jax.scipy.fft.dct(jax.random.normal(jax.random.key(0), (3, 3)))  (type II, unnormalised, last axis)
        var x = Prng.Normal(Prng.Key(0), [3, 3]).ToArray<float>();
        double[] expected = [6.43, 3.56, -2.86, -1.75, 1.55, -1.4, 1.33, -2.01, -0.82];
        for (var r = 0; r < 3; r++)
            for (var k = 0; k < 3; k++)
            {
                var y = Enumerable.Range(0, 3).Sum(n => 2 * x[3 * r + n] * Math.Cos(Math.PI * k * (2 * n + 1) / 6));
                y.Should().BeApproximately(expected[3 * r + k], 0.0051, $"dct[{r},{k}]");
            }
    }

    [TestMethod]
    public void NormalHasZeroMeanAndUnitVariance()
    {
        var x = Prng.Normal(Prng.Key(3), [10_000]).ToArray<float>();
        var mean = x.Average(v => (double)v);
        var variance = x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1);
        mean.Should().BeApproximately(0, 0.04);        // 4 standard errors
        Math.Sqrt(variance).Should().BeApproximately(1, 0.03);
        x.Count(v => Math.Abs(v) > 1.96).Should().BeInRange(400, 600);   // 5% expected
    }

    [TestMethod]
    public void ErfInvInvertsErf()
    {
        double[] xs = [-0.999999, -0.99, -0.7, -0.3, -1e-3, 0, 1e-6, 0.2, 0.5, 0.9, 0.99, 0.99999];
        var f32 = InverseErf.Of(Tensor.FromArray(xs.Select(v => (float)v).ToArray())).ToArray<float>();
        var f64 = InverseErf.Of(Tensor.FromArray(xs)).ToArray<double>();
        for (var i = 0; i < xs.Length; i++)
        {
            var (exact32, exact64) = (ErfInvByNewton((float)xs[i]), ErfInvByNewton(xs[i]));
            ((double)f32[i]).Should().BeApproximately(exact32, 2e-6 * Math.Max(1, Math.Abs(exact32)), $"float32 erfinv({xs[i]})");
            // Near ±1, 1 − x² cancels: allow a few ulps of x, scaled by the slope √π/2·exp(erfinv²).
            var slope = Math.Sqrt(Math.PI) / 2 * Math.Exp(exact64 * exact64);
            f64[i].Should().BeApproximately(exact64, 1e-14 * Math.Max(1, Math.Abs(exact64)) + 4e-16 * slope, $"float64 erfinv({xs[i]})");
        }
        InverseErf.Of(Tensor.FromArray([1f, -1f])).ToArray<float>().Should().Equal(float.MaxValue, -float.MaxValue);
    }

    [TestMethod]
    public void Float64UniformAndNormalUseFiftyTwoBits()
    {
        var u = Prng.Uniform(Prng.Key(5), [1000], DType.Float64).ToArray<double>();
        u.Should().OnlyContain(v => v >= 0 && v < 1);
        u.Count(v => v * (1L << 52) % 512 != 0).Should().BeGreaterThan(900, "the low mantissa bits are random too");
        var z = Prng.Normal(Prng.Key(5), [1000], DType.Float64).ToArray<double>();
        z.Average().Should().BeApproximately(0, 0.13);
    }

    [TestMethod]
    public void BernoulliFractionIsP()
    {
        var b = Prng.Bernoulli(Prng.Key(11), 0.3, 10_000);
        b.DType.Should().Be(DType.Bool);
        b.ToArray<bool>().Count(v => v).Should().BeInRange(2_820, 3_180);  // 0.3 ± 4σ (σ ≈ 46)
    }

    [TestMethod]
    public void TruncatedNormalStaysWithinItsBounds()
    {
        var x = Prng.TruncatedNormal(Prng.Key(4), -0.5, 1.5, [4000]).ToArray<float>();
        x.Should().OnlyContain(v => v > -0.5f && v < 1.5f);
        x.Average(v => (double)v).Should().BeApproximately(0.3563, 0.03);  // (φ(−0.5) − φ(1.5)) / (Φ(1.5) − Φ(−0.5))

        var tail = Prng.TruncatedNormal(Prng.Key(4), 2, double.PositiveInfinity, [1000]).ToArray<float>();
        tail.Should().OnlyContain(v => v > 2f && float.IsFinite(v));
        tail.Average(v => (double)v).Should().BeApproximately(2.3732, 0.05);  // φ(2)/(1 − Φ(2))
    }

    [TestMethod]
    public void ATracedDrawHasOneThreefryBlock()
    {
        var graph = Graph.Trace(k => Prng.Bits(k, 1024), new Aval(Shape.Of(2), DType.UInt32));
        var ops = graph.Nodes.Where(n => n.Op is not Primitives.Full).ToArray();
        Console.WriteLine($"bits(1024): {graph.Nodes.Length} IR nodes, {ops.Length} without constants");
        ops.Length.Should().BeLessThan(130);
        ops.Count(n => n.Op is Primitives.ShiftRight).Should().Be(20);
        ops.Count(n => n.Op is Primitives.BitwiseXor).Should().Be(20 + 3);

        var result = ReferenceBackendRun(graph, Prng.Key(9));
        result.Should().Equal(Prng.Bits(Prng.Key(9), 1024).ToArray<uint>());
    }

    [TestMethod]
    public void RejectsAnythingButAKey()
    {
        var act = () => Prng.Bits(Tensor.Zeros(DType.UInt32, 3), 4);
        act.Should().Throw<ArgumentException>().WithMessage("bits: a key is a u32[2] tensor*u32[3]*");
        var dtype = () => Prng.Uniform(Prng.Key(0), [2], DType.Int32);
        dtype.Should().Throw<ArgumentException>().WithMessage("uniform: dtype must be float32 or float64*");
    }

    private static uint[] ReferenceBackendRun(Graph graph, Tensor key) =>
        Backends.ReferenceBackend.Evaluate(graph, [key.ToHost()])[0].ToArray<uint>();

    private static Tensor U32(params uint[] values) => Tensor.FromArray(values);

    private static void ShouldBeClose(Tensor actual, double[] expected, double tolerance)
    {
        var a = actual.ToArray<float>();
        a.Should().HaveCount(expected.Length);
        for (var i = 0; i < a.Length; i++) ((double)a[i]).Should().BeApproximately(expected[i], tolerance, $"element {i}");
    }

    private static double Covariance(float[] x, int i, int j, int n)
    {
        var (mi, mj) = (x.Skip(i * n).Take(n).Average(v => (double)v), x.Skip(j * n).Take(n).Average(v => (double)v));
        return Enumerable.Range(0, n).Sum(k => (x[i * n + k] - mi) * (x[j * n + k] - mj)) / (n - 1);
    }

    private static double ErfInvByNewton(double y)
    {
        var x = 0.0;
        for (var k = 0; k < 100; k++)
            x -= (Primitives.SpecialFunctions.Erf(x) - y) / (2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x));
        return x;
    }
}

/// <summary>A plain scalar threefry2x32-20, an independent oracle for the tensor version.</summary>
internal static class ScalarThreefry
{
    public static (uint, uint) Hash(uint k0, uint k1, uint x0, uint x1)
    {
        int[] rot = [13, 15, 26, 6, 17, 29, 16, 24];
        uint[] ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA];
        x0 += ks[0];
        x1 += ks[1];
        for (var i = 0; i < 5; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                x0 += x1;
                x1 = uint.RotateLeft(x1, rot[4 * (i % 2) + j]) ^ x0;
            }
            x0 += ks[(i + 1) % 3];
            x1 += ks[(i + 2) % 3] + (uint)(i + 1);
        }
        return (x0, x1);
    }
}
