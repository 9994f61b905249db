namespace NnxSharp.Primitives;

/// <summary>
/// Index arithmetic shared by the gather-based lowerings of windowed ops (convolution's im2col, pooling): where
/// each window element sits in a padded, row-major spatial grid.
/// </summary>
internal static class Windows
{
    /// <summary>
    /// The flat position in a <paramref name="padded"/> grid of every (output position, window offset) pair,
    /// output positions outer and window offsets inner (both row-major): output position <c>o</c> and offset
    /// <c>k</c> read the element at <c>o·stride + k·dilation</c> on each axis.
    /// </summary>
    public static long[] Positions(int[] padded, int[] output, int[] window, IReadOnlyList<int> strides, IReadOnlyList<int>? dilation = null)
    {
        var d = window.Length;
        var outCount = output.Aggregate(1, (a, b) => a * b);
        var kCount = window.Aggregate(1, (a, b) => a * b);
        var index = new long[outCount * kCount];
        var (o, k) = (new int[d], new int[d]);
        for (var p = 0; p < outCount; p++)
        {
            Unravel(p, output, o);
            for (var q = 0; q < kCount; q++)
            {
                Unravel(q, window, k);
                long flat = 0;
                for (var i = 0; i < d; i++) flat = flat * padded[i] + o[i] * strides[i] + k[i] * (dilation?[i] ?? 1);
                index[p * kCount + q] = flat;
            }
        }
        return index;
    }

    /// <summary>
    /// <see cref="Positions"/> for each of <paramref name="n"/> examples stacked as rows of [n·padded positions, …]:
    /// example b's positions offset by b·∏padded. The index of im2col's gather along axis 0.
    /// </summary>
    public static long[] Rows(int n, int[] padded, int[] output, int[] window, IReadOnlyList<int> strides, IReadOnlyList<int>? dilation = null)
    {
        var one = Positions(padded, output, window, strides, dilation);
        var positions = padded.Aggregate(1L, (a, b) => a * b);
        var index = new long[n * one.Length];
        for (var b = 0; b < n; b++)
            for (var j = 0; j < one.Length; j++) index[b * one.Length + j] = b * positions + one[j];
        return index;
    }

    /// <summary>Writes the row-major coordinates of <paramref name="flat"/> in a grid of <paramref name="dims"/> into <paramref name="into"/>.</summary>
    public static void Unravel(int flat, int[] dims, int[] into)
    {
        for (var i = dims.Length - 1; i >= 0; i--)
        {
            into[i] = flat % dims[i];
            flat /= dims[i];
        }
    }
}
