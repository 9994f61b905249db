using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// Max and average pooling over channels-last windows, as Flax's <c>nnx.max_pool</c>/<c>nnx.avg_pool</c>
/// (<c>flax.linen.pooling</c>), written with primitives. Windows that tile the input (strides equal to the
/// window, no padding) reshape to [n, out₁, k₁, out₂, k₂, …, C] and reduce; other windows gather every
/// window's positions with one constant index, as <see cref="Conv"/> does, and reduce over the window.
/// </summary>
internal static class Pool
{
    public enum Kind
    {
        Max,
        Sum,
    }

    /// <summary>
    /// Reduces each window of x [batch..., spatial..., C] (or unbatched [spatial..., C]); pads are −∞ for max and
    /// 0 for sums. With <paramref name="divideByValid"/> a sum is divided by the number of real (unpadded)
    /// elements in its window, else by the window size when <paramref name="mean"/>.
    /// </summary>
    public static Tensor Apply(Tensor x, int[] window, int[]? strides, Padding padding, Kind kind, bool mean, bool divideByValid, string op)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(padding);
        var d = window.Length;
        if (d == 0 || window.Any(k => k <= 0))
            throw new ArgumentException($"{op}: window shape [{string.Join(",", window)}] must have one positive size per spatial axis.", nameof(window));
        var s = strides ?? [.. Enumerable.Repeat(1, d)];
        if (s.Length != d || s.Any(v => v <= 0))
            throw new ArgumentException($"{op}: strides [{string.Join(",", s)}] must be positive, one per axis of window [{string.Join(",", window)}].", nameof(strides));
        LayerChecks.Float(op, x, d + 1, $"[batch..., {string.Join(", ", Enumerable.Range(1, d).Select(i => $"spatial{i}"))}, features]");
        if (x.Rank == d + 1) return Apply(x.ExpandDims(0), window, s, padding, kind, mean, divideByValid, op).Squeeze(0);

        var batch = x.Shape.Take(x.Rank - d - 1).ToArray();
        var sizes = x.Shape.Skip(x.Rank - d - 1).Take(d).ToArray();
        var c = x.Shape[^1];
        var pads = padding.Resolve(sizes, window, s, op);
        var padded = sizes.Select((n, i) => n + pads[i].Low + pads[i].High).ToArray();
        if (padded.Where((n, i) => n < window[i]).Any())
            throw new ArgumentException($"{op}: the input {x.Aval} padded to spatial size [{string.Join(",", padded)}] is smaller than the window [{string.Join(",", window)}].", nameof(x));
        var output = padded.Select((n, i) => (n - window[i]) / s[i] + 1).ToArray();
        var n = batch.Aggregate(1, (a, b) => a * b);
        var kCount = window.Aggregate(1, (a, b) => a * b);
        var outCount = output.Aggregate(1, (a, b) => a * b);
        var xn = x.Reshape([n, .. sizes, c]);
        var unpadded = pads.All(p => p.Low == 0 && p.High == 0);

        Tensor reduced;
        if (unpadded && s.SequenceEqual(window))
        {
            // Tiling windows: drop the rows that no window covers, split each axis into (out, k) and reduce the k's.
            var used = xn.Slice(new int[d + 2], [n, .. output.Select((o, i) => o * window[i]), c]);
            var split = used.Reshape([n, .. Enumerable.Range(0, d).SelectMany(i => new[] { output[i], window[i] }), c]);
            var axes = Enumerable.Range(0, d).Select(i => 2 + 2 * i).ToArray();
            reduced = kind == Kind.Max ? split.Max(axes) : split.Sum(axes);
        }
        else
        {
            if (!unpadded)
            {
                xn = xn.Pad([0, .. pads.Select(p => p.Low), 0], [0, .. pads.Select(p => p.High), 0]);
                if (kind == Kind.Max) xn += Constant(PadMask(padded, pads, double.NegativeInfinity, 0), [1, .. padded, 1], x.DType);
            }
            var windows = xn.Reshape(n, padded.Aggregate(1, (a, b) => a * b), c).Gather(WindowIndex(padded, output, window, s), axis: 1);
            var grouped = windows.Reshape(n, outCount, kCount, c);
            reduced = kind == Kind.Max ? grouped.Max(2) : grouped.Sum(2);
        }
        reduced = reduced.Reshape([n, outCount, c]);
        if (divideByValid && !unpadded)
        {
            var valid = PadMask(padded, pads, 0, 1);
            var counts = new double[outCount];
            var index = WindowPositions(padded, output, window, s);
            for (var p = 0; p < outCount; p++)
                for (var q = 0; q < kCount; q++) counts[p] += valid[index[p * kCount + q]];
            reduced /= Constant(counts, [1, outCount, 1], x.DType);
        }
        else if (mean) reduced *= 1.0 / kCount;
        return reduced.Reshape([.. batch, .. output, c]);
    }

    private static Tensor Constant(double[] values, int[] shape, DType dtype) => Tensor.FromArray(values, shape).Cast(dtype);

    /// <summary>Over the padded positions (row-major): <paramref name="pad"/> where a position is padding, else <paramref name="inside"/>.</summary>
    private static double[] PadMask(int[] padded, (int Low, int High)[] pads, double pad, double inside)
    {
        var count = padded.Aggregate(1, (a, b) => a * b);
        var mask = new double[count];
        var at = new int[padded.Length];
        for (var p = 0; p < count; p++)
        {
            Windows.Unravel(p, padded, at);
            var isPad = at.Where((v, i) => v < pads[i].Low || v >= padded[i] - pads[i].High).Any();
            mask[p] = isPad ? pad : inside;
        }
        return mask;
    }

    /// <summary>The window index of <see cref="WindowPositions"/> as an int64 tensor.</summary>
    private static Tensor WindowIndex(int[] padded, int[] output, int[] window, int[] strides)
    {
        var index = WindowPositions(padded, output, window, strides);
        return Tensor.FromArray(index, index.Length);
    }

    /// <summary>The flat padded position of every (output position, window offset) pair, output positions outer.</summary>
    internal static long[] WindowPositions(int[] padded, int[] output, int[] window, int[] strides) =>
        Windows.Positions(padded, output, window, strides);
}
