// Namespace NnxSharp, not NnxSharp.Random: a namespace named Random would hide System.Random in all
// code under NnxSharp (tests included).
namespace NnxSharp;

/// <summary>
/// The threefry2x32-20 block cipher (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11)
/// written with primitives, so that it runs eagerly, traces into a graph and lowers to ONNX with the same
/// bits everywhere. A key (k0, k1) encrypts a pair of uint32 counter tensors (x0, x1), broadcast together,
/// into a pair of uint32 tensors: 20 rounds of <c>x0 += x1; x1 = rotl(x1, r) ^ x0</c> with a key injection
/// every 4 rounds. One call is one batched block of ~125 elementwise nodes, whatever the number of counters.
/// </summary>
internal static class Threefry
{
    /// <summary>The rotation amounts of rounds 0–3 and 4–7 (they alternate every 4 rounds).</summary>
    private static readonly int[][] Rotations = [[13, 15, 26, 6], [17, 29, 16, 24]];

    /// <summary>The key-schedule parity constant of Threefish: k2 = k0 ^ k1 ^ 0x1BD11BDA.</summary>
    private const uint Parity = 0x1BD11BDA;

    /// <summary>
    /// Encrypts the counters (x0, x1) under the key (k0, k1). All are uint32 tensors that broadcast
    /// together (keys are usually of shape [1]). A null <paramref name="x0"/> stands for zeros, which
    /// saves a node when the counters' high words are all zero.
    /// </summary>
    public static (Tensor Y0, Tensor Y1) Hash(Tensor k0, Tensor k1, Tensor? x0, Tensor x1)
    {
        var constants = new Dictionary<uint, Tensor>();
        Tensor C(uint v)
        {
            if (!constants.TryGetValue(v, out var t)) constants[v] = t = Tensor.Full(v, DType.UInt32);
            return t;
        }

        Tensor[] ks = [k0, k1, k0 ^ k1 ^ C(Parity)];
        var a = x0 is null ? k0 : x0 + k0;
        var b = x1 + k1;
        for (var i = 0; i < 5; i++)
        {
            foreach (var r in Rotations[i % 2])
            {
                a += b;
                // rotl(b, r) = b·2^r + (b >> (32 − r)): the uint32 multiply wraps, and the two halves share no
                // bits, so Add serves as Or. ONNX Runtime runs Mul and Add 3–4× faster than BitShift/BitwiseOr.
                b = (b * C(1u << r) + b.ShiftRight(C((uint)(32 - r)))) ^ a;
            }
            a += ks[(i + 1) % 3];
            b += ks[(i + 2) % 3] + C((uint)(i + 1));
        }
        return (a, b);
    }

    /// <summary>The key's two words as uint32 tensors of shape [1]; throws unless the key is a u32[2] tensor.</summary>
    public static (Tensor K0, Tensor K1) Words(Tensor key, string op)
    {
        if (key.DType != DType.UInt32 || key.Rank != 1 || key.Shape[0] != 2)
            throw new ArgumentException($"{op}: a key is a u32[2] tensor (from Prng.Key, Split or FoldIn) but got {key.Aval}.");
        return (key.Slice(0, 0, 1), key.Slice(0, 1, 2));
    }
}
