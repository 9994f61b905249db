namespace NnxSharp;

/// <summary>
/// How <see cref="Conv"/> pads its input, as Flax's <c>padding</c>: <see cref="Same"/> (output size ⌈n/s⌉,
/// padded as XLA does), <see cref="Valid"/> (no padding), or explicit (low, high) pairs per spatial axis.
/// A string converts: <c>"SAME"</c> or <c>"VALID"</c>. Compared by value.
/// </summary>
public sealed class Padding : IEquatable<Padding>
{
    private readonly (int Low, int High)[] _pairs;

    private Padding(string mode, (int Low, int High)[] pairs) => (Mode, _pairs) = (mode, pairs);

    /// <summary>Pads so that the output has ⌈n/stride⌉ positions: total max((⌈n/s⌉ − 1)·s + k − n, 0), the smaller half before.</summary>
    public static Padding Same { get; } = new("SAME", []);

    /// <summary>No padding: the output has ⌈(n − k + 1)/s⌉ positions.</summary>
    public static Padding Valid { get; } = new("VALID", []);

    /// <summary>Explicit zeros (low, high) before and after each spatial axis, one pair per axis.</summary>
    public static Padding Explicit(params (int Low, int High)[] pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Any(p => p.Low < 0 || p.High < 0))
            throw new ArgumentException($"Padding: explicit pads must be ≥ 0 but are {Format(pairs)}.", nameof(pairs));
        return new("EXPLICIT", [.. pairs]);
    }

    /// <summary>"SAME", "VALID" or "EXPLICIT".</summary>
    public string Mode { get; }

    /// <summary>The explicit pairs (empty for SAME and VALID).</summary>
    public IReadOnlyList<(int Low, int High)> Pairs => _pairs;

    /// <summary>"SAME" or "VALID" (any case).</summary>
    public static implicit operator Padding(string mode) => mode?.ToUpperInvariant() switch
    {
        "SAME" => Same,
        "VALID" => Valid,
        _ => throw new ArgumentException($"Padding: expected \"SAME\" or \"VALID\" but got \"{mode}\" (use Padding.Explicit for explicit pads)."),
    };

    /// <summary>The (low, high) pads of each spatial axis for inputs of size <paramref name="sizes"/>, kernel sizes and strides.</summary>
    internal (int Low, int High)[] Resolve(int[] sizes, int[] kernel, int[] strides, string layer)
    {
        switch (Mode)
        {
            case "VALID":
                return new (int, int)[sizes.Length];
            case "SAME":
                return [.. sizes.Select((n, d) =>
                {
                    var output = (n + strides[d] - 1) / strides[d];
                    var total = Math.Max((output - 1) * strides[d] + kernel[d] - n, 0);
                    return (total / 2, total - total / 2);
                })];
            default:
                if (_pairs.Length != sizes.Length)
                    throw new ArgumentException($"{layer}: explicit padding {Format(_pairs)} has {_pairs.Length} pairs but the kernel has {sizes.Length} spatial axes.");
                return [.. _pairs];
        }
    }

    /// <inheritdoc/>
    public bool Equals(Padding? other) => other is not null && Mode == other.Mode && _pairs.AsSpan().SequenceEqual(other._pairs);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Padding);

    /// <inheritdoc/>
    public override int GetHashCode() => _pairs.Aggregate(Mode.GetHashCode(StringComparison.Ordinal), HashCode.Combine);

    /// <summary>"SAME", "VALID" or the pairs, like <c>[(1, 1), (0, 2)]</c>.</summary>
    public override string ToString() => Mode == "EXPLICIT" ? Format(_pairs) : Mode;

    private static string Format((int Low, int High)[] pairs) => $"[{string.Join(", ", pairs.Select(p => $"({p.Low}, {p.High})"))}]";
}
