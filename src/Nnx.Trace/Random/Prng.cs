using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// Counter-based pseudo-random numbers as <c>jax.random</c> makes them with its default threefry2x32
/// implementation and <c>jax_threefry_partitionable=True</c> (the default since JAX 0.5.0): keys, bits,
/// uniform floats and Bernoulli draws equal JAX's bit for bit; normal draws follow JAX's formula step by
/// step and differ only where the runtime's log differs from XLA's (a few ulps). A key is a uint32 tensor
/// of shape [2] (JAX's raw key data). Every function is a pure function of the key, written with
/// primitives, so eager code, traced code and exported ONNX graphs draw identical numbers on one runtime.
/// Each draw is one batched threefry block; never reuse a key for two draws — split it.
/// </summary>
public static class Prng
{
    /// <summary>
    /// A key from a 64-bit seed: its high and low words, <c>[seed &gt;&gt; 32, seed &amp; 0xFFFFFFFF]</c>.
    /// Equals <c>jax.random.key_data(jax.random.key(seed))</c> for 0 ≤ seed &lt; 2^32, and for every seed
    /// with <c>jax_enable_x64</c>; JAX's default 32-bit mode drops the high word of a negative seed.
    /// </summary>
    public static Tensor Key(long seed) =>
        Tensor.FromArray([(uint)((ulong)seed >> 32), (uint)((ulong)seed & 0xFFFF_FFFF)], 2);

    /// <summary>
    /// <paramref name="num"/> new keys as a u32[num, 2] tensor: key i is threefry(key, (0, i)), as
    /// <c>jax.random.split</c>. Row i equals <c>FoldIn(key, i)</c>.
    /// </summary>
    public static Tensor Split(Tensor key, int num = 2)
    {
        var (k0, k1) = Threefry.Words(key, "split");
        if (num < 0) throw new ArgumentException($"split: num must be ≥ 0 but is {num}.");
        var (y0, y1) = Threefry.Hash(k0, k1, null, Tensor.Arange(num, DType.UInt32));
        return Tensor.Concat(1, y0.Reshape(num, 1), y1.Reshape(num, 1));
    }

    /// <summary><see cref="Split"/> as an array of <paramref name="num"/> keys of shape [2].</summary>
    public static Tensor[] SplitKeys(Tensor key, int num = 2)
    {
        var keys = Split(key, num);
        return Enumerable.Range(0, num).Select(i => keys.Slice(0, i, i + 1).Reshape(2)).ToArray();
    }

    /// <summary>
    /// A new key that depends on <paramref name="key"/> and <paramref name="data"/>: threefry(key, (0, data)),
    /// as <c>jax.random.fold_in</c> (data is taken as uint32, so −1 folds in 0xFFFFFFFF).
    /// </summary>
    public static Tensor FoldIn(Tensor key, int data)
    {
        var (k0, k1) = Threefry.Words(key, "fold_in");
        var (y0, y1) = Threefry.Hash(k0, k1, null, Tensor.Full((uint)data, DType.UInt32, 1));
        return Tensor.Concat(0, y0, y1);
    }

    /// <summary>
    /// Uniform random uint32 bits of the given shape, as <c>jax.random.bits</c>: element i (in row-major
    /// order) is y0 ^ y1 where (y0, y1) = threefry(key, (0, i)).
    /// </summary>
    public static Tensor Bits(Tensor key, params int[] shape)
    {
        var (y0, y1) = Block(key, shape, "bits");
        return (y0 ^ y1).Reshape(shape);
    }

    /// <summary>
    /// Uniform floats in [minval, maxval), as <c>jax.random.uniform</c>: the top mantissa bits of the random
    /// bits make u in [0, 1) (u = (bits &gt;&gt; 9)·2^−23 for float32, which equals JAX's
    /// bitcast((bits &gt;&gt; 9) | 0x3F800000) − 1 exactly), then max(minval, u·(maxval − minval) + minval)
    /// in the dtype's arithmetic. Float32 or float64.
    /// </summary>
    public static Tensor Uniform(Tensor key, int[] shape, DType dtype = DType.Float32, double minval = 0, double maxval = 1)
    {
        var u = UnitInterval(key, shape, dtype, "uniform");
        return dtype == DType.Float32
            ? Scale(u, (float)minval, (float)maxval - (float)minval)
            : Scale(u, minval, maxval - minval);
    }

    /// <summary>
    /// Standard normal samples, as <c>jax.random.normal</c>: √2·erf⁻¹(u) with u uniform in
    /// (−1, 1) (its lower end is the float just above −1). erf⁻¹ is Giles' approximation, as XLA's.
    /// </summary>
    public static Tensor Normal(Tensor key, int[] shape, DType dtype = DType.Float32)
    {
        var u = dtype == DType.Float32
            ? Scale(UnitInterval(key, shape, dtype, "normal"), MathF.BitIncrement(-1f), 1f - MathF.BitIncrement(-1f))
            : Scale(UnitInterval(key, shape, dtype, "normal"), Math.BitIncrement(-1.0), 1.0 - Math.BitIncrement(-1.0));
        return InverseErf.Of(u) * Math.Sqrt(2);
    }

    /// <summary>
    /// True with probability <paramref name="p"/>, as <c>jax.random.bernoulli</c>: a float32 uniform u
    /// compared as u &lt; p.
    /// </summary>
    public static Tensor Bernoulli(Tensor key, double p, params int[] shape) =>
        Uniform(key, shape) < p;

    /// <summary>
    /// Standard normal samples truncated to (lower, upper), as <c>jax.random.truncated_normal</c>: √2·erf⁻¹(u)
    /// with u uniform in [erf(lower/√2), erf(upper/√2)), clamped to the open interval. The bounds may be
    /// infinite. erf of the bounds is computed on the host (JAX computes it with XLA's erf, so the two
    /// can differ in the last bit of u's range).
    /// </summary>
    public static Tensor TruncatedNormal(Tensor key, double lower, double upper, int[] shape, DType dtype = DType.Float32)
    {
        var u = UnitInterval(key, shape, dtype, "truncated_normal");
        Tensor z;
        double lo, hi;
        if (dtype == DType.Float32)
        {
            float sqrt2 = MathF.Sqrt(2), l = (float)lower, h = (float)upper;
            float a = (float)SpecialFunctions.Erf(l / sqrt2), b = (float)SpecialFunctions.Erf(h / sqrt2);
            z = InverseErf.Of(Scale(u, a, b - a)) * sqrt2;
            (lo, hi) = (MathF.BitIncrement(l), MathF.BitDecrement(h));
        }
        else
        {
            double sqrt2 = Math.Sqrt(2), a = SpecialFunctions.Erf(lower / sqrt2), b = SpecialFunctions.Erf(upper / sqrt2);
            z = InverseErf.Of(Scale(u, a, b - a)) * sqrt2;
            (lo, hi) = (Math.BitIncrement(lower), Math.BitDecrement(upper));
        }
        return z.Maximum(lo).Minimum(hi);
    }

    /// <summary>
    /// A random permutation of 0, 1, …, n−1 as an int32[n] tensor, equal to <c>jax.random.permutation(key, n)</c>:
    /// JAX's sort-based shuffle, <see cref="PermutationRounds"/> rounds of (key, subkey) = split(key), then a
    /// stable sort of the current order by <c>bits(subkey, (n,))</c>. Computed on the host (it reads the
    /// key), so the key must be concrete: call it outside traced functions, as a data loader does.
    /// </summary>
    public static Tensor Permutation(Tensor key, int n) => Tensor.FromArray(PermutationIndices(key, n), n);

    /// <summary>
    /// The number of sorting rounds of <c>jax.random.permutation</c> for n elements:
    /// ⌈3·ln(max(1, n)) / ln(2^32 − 1)⌉ (1 up to n = 1625, 2 up to about 2.6 million), enough that 32-bit sort
    /// keys colliding in every round is unlikely.
    /// </summary>
    public static int PermutationRounds(int n) => (int)Math.Ceiling(3 * Math.Log(Math.Max(1, n)) / Math.Log(uint.MaxValue));

    /// <summary><see cref="Permutation"/> as a host array.</summary>
    public static int[] PermutationIndices(Tensor key, int n)
    {
        ArgumentNullException.ThrowIfNull(key);
        Threefry.Words(key, "permutation");
        if (n < 0) throw new ArgumentException($"permutation: n must be ≥ 0 but is {n}.", nameof(n));
        if (key.IsSymbolic)
            throw new InvalidOperationException(
                $"permutation: the key {key.Aval} is symbolic; the permutation is computed on the host, so call it outside the traced function and pass its result in.");
        var words = key.ToArray<uint>();
        var (k0, k1) = (words[0], words[1]);
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        var bits = new uint[n];
        var sortKeys = new ulong[n];
        var next = new int[n];
        for (var round = PermutationRounds(n); round > 0; round--)
        {
            var (sub0, sub1) = HostThreefry.SplitKey(k0, k1, 1);
            (k0, k1) = HostThreefry.SplitKey(k0, k1, 0);
            HostThreefry.Bits(sub0, sub1, bits);
            // A stable sort by the 32-bit keys: the position breaks ties, so the 64-bit keys are distinct.
            for (var i = 0; i < n; i++) sortKeys[i] = ((ulong)bits[i] << 32) | (uint)i;
            Array.Sort(sortKeys);
            for (var i = 0; i < n; i++) next[i] = order[(int)(sortKeys[i] & 0xFFFF_FFFF)];
            (order, next) = (next, order);
        }
        return order;
    }

    /// <summary>One threefry block over counters (0, i) for the flat indices i of <paramref name="shape"/>.</summary>
    private static (Tensor Y0, Tensor Y1) Block(Tensor key, int[] shape, string op)
    {
        var (k0, k1) = Threefry.Words(key, op);
        return Threefry.Hash(k0, k1, null, Tensor.Arange(Shape.Of(shape).Size, DType.UInt32));
    }

    /// <summary>u in [0, 1) from the top mantissa-width bits of one threefry block, exactly as JAX forms it.</summary>
    private static Tensor UnitInterval(Tensor key, int[] shape, DType dtype, string op)
    {
        var (y0, y1) = Block(key, shape, op);
        var u = dtype switch
        {
            // 23 random mantissa bits: (bits >> 9)·2^−23.
            DType.Float32 => (y0 ^ y1).ShiftRight(Tensor.Full(9, DType.UInt32)).Cast(DType.Float32) * Math.ScaleB(1, -23),
            // 52 random mantissa bits of the 64-bit draw y0·2^32 + y1 (JAX's partitionable 64-bit bits):
            // y0·2^−32 + (y1 >> 12)·2^−52, both terms and their sum exact in float64.
            DType.Float64 => y0.Cast(DType.Float64) * Math.ScaleB(1, -32)
                + y1.ShiftRight(Tensor.Full(12, DType.UInt32)).Cast(DType.Float64) * Math.ScaleB(1, -52),
            _ => throw new ArgumentException($"{op}: dtype must be float32 or float64 but is {dtype.ShortName()} (cast the result for other float types)."),
        };
        return u.Reshape(shape);
    }

    /// <summary>
    /// max(minval, u·scale + minval) with minval and scale already rounded to u's dtype; the steps that are
    /// exact identities for these constants (·1, +0, max with 0 when scale &gt; 0) are left out.
    /// </summary>
    private static Tensor Scale(Tensor u, double minval, double scale)
    {
        if (scale != 1) u *= scale;
        if (minval == 0 && scale > 0) return u;
        return (u + minval).Maximum(minval);
    }
}
