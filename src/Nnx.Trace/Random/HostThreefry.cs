namespace NnxSharp;

/// <summary>
/// threefry2x32-20 on the host, one scalar block at a time: the same cipher as <see cref="Threefry"/>
/// (rotations, key schedule and injections), for host-side draws such as <see cref="Prng.Permutation"/>
/// that would otherwise need one device round trip per step. Tests check it against the traced version.
/// </summary>
internal static class HostThreefry
{
    private static readonly int[][] Rotations = [[13, 15, 26, 6], [17, 29, 16, 24]];

    private const uint Parity = 0x1BD11BDA;

    /// <summary>Encrypts the counter (x0, x1) under the key (k0, k1).</summary>
    public static (uint Y0, uint Y1) Hash(uint k0, uint k1, uint x0, uint x1)
    {
        Span<uint> ks = [k0, k1, k0 ^ k1 ^ Parity];
        var a = unchecked(x0 + k0);
        var b = unchecked(x1 + k1);
        for (var i = 0; i < 5; i++)
        {
            foreach (var r in Rotations[i % 2])
            {
                a = unchecked(a + b);
                b = ((b << r) | (b >> (32 - r))) ^ a;
            }
            a = unchecked(a + ks[(i + 1) % 3]);
            b = unchecked(b + ks[(i + 2) % 3] + (uint)(i + 1));
        }
        return (a, b);
    }

    /// <summary>Key i of <c>jax.random.split(key, n)</c>: threefry(key, (0, i)).</summary>
    public static (uint K0, uint K1) SplitKey(uint k0, uint k1, uint i) => Hash(k0, k1, 0, i);

    /// <summary><c>jax.random.bits(key, (n,))</c> as uint32: element i is y0 ^ y1 of threefry(key, (0, i)).</summary>
    public static void Bits(uint k0, uint k1, Span<uint> into)
    {
        for (var i = 0; i < into.Length; i++)
        {
            var (y0, y1) = Hash(k0, k1, 0, (uint)i);
            into[i] = y0 ^ y1;
        }
    }
}
