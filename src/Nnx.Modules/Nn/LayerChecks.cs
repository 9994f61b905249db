namespace NnxSharp;

/// <summary>Input checks shared by the layers; each error names the layer, the input's shape and what was expected.</summary>
internal static class LayerChecks
{
    /// <summary>Throws unless <paramref name="x"/> is a float tensor of rank ≥ <paramref name="minRank"/>.</summary>
    public static void Float(string layer, Tensor x, int minRank = 1, string? rankMeaning = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!x.DType.IsFloat())
            throw new ArgumentException($"{layer}: expected a float input but got {x.Aval} (cast integer data to float32 first).", nameof(x));
        if (x.Rank < minRank)
            throw new ArgumentException($"{layer}: expected an input of rank ≥ {minRank}{(rankMeaning is null ? "" : $" ({rankMeaning})")} but got {x.Aval}.", nameof(x));
    }

    /// <summary>Throws unless axis <paramref name="axis"/> of <paramref name="x"/> has <paramref name="expected"/> elements.</summary>
    public static void Features(string layer, Tensor x, int axis, int expected)
    {
        var a = axis < 0 ? axis + x.Rank : axis;
        if (a < 0 || a >= x.Rank)
            throw new ArgumentException($"{layer}: feature axis {axis} is out of range for an input {x.Aval}.", nameof(x));
        if (x.Shape[a] != expected)
            throw new ArgumentException($"{layer}: expected {expected} feature{(expected == 1 ? "" : "s")} on axis {axis} but the input {x.Aval} has {x.Shape[a]}.", nameof(x));
    }

    /// <summary>
    /// Throws unless a layer's variable still has the shape the layer was made with (a user may assign any tensor
    /// to a variable): the error names the variable's path, both shapes and the layer.
    /// </summary>
    public static void Variable(string layer, Variable? variable, string name, params int[] expected)
    {
        if (variable is null) return;
        var shape = variable.Shape;
        if (shape.Rank == expected.Length && shape.ToArray().AsSpan().SequenceEqual(expected)) return;
        var path = variable.KnownPath is { Length: > 0 } p ? $"'{p}'" : $"'{name}'";
        throw new InvalidOperationException(
            $"{layer}: variable {path} is {variable.Aval} but the layer was made for [{string.Join(",", expected)}]; " +
            "a variable replaced by a tensor of another shape needs a new layer (or a tensor of the original shape).");
    }

    /// <summary>Throws unless <paramref name="n"/> is positive.</summary>
    public static void Positive(string layer, string name, int n)
    {
        if (n <= 0) throw new ArgumentException($"{layer}: {name} must be positive but is {n}.", name);
    }

    /// <summary>
    /// A convolution's window (Conv, ConvTranspose): one positive size per spatial axis in <paramref name="kernelSize"/>,
    /// and positive strides and kernel dilation (all 1 when null), one per spatial axis; returns copies of the two.
    /// </summary>
    public static (int[] Strides, int[] Dilation) Window(string layer, int[] kernelSize, int[]? strides, int[]? kernelDilation)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        if (kernelSize.Length == 0 || kernelSize.Any(k => k <= 0))
            throw new ArgumentException($"{layer}: kernel size [{string.Join(",", kernelSize)}] must have one positive size per spatial axis.", nameof(kernelSize));
        int[] PerAxis(int[]? given, string what, string name)
        {
            var v = given ?? [.. Enumerable.Repeat(1, kernelSize.Length)];
            if (v.Length != kernelSize.Length || v.Any(e => e <= 0))
                throw new ArgumentException($"{layer}: {what} [{string.Join(",", v)}] must be positive, one per spatial axis of kernel size [{string.Join(",", kernelSize)}].", name);
            return [.. v];
        }
        return (PerAxis(strides, "strides", nameof(strides)), PerAxis(kernelDilation, "kernel dilation", nameof(kernelDilation)));
    }

    /// <summary>The shape [1, …, n, …, 1] of rank <paramref name="rank"/> with n at <paramref name="axis"/> (a per-feature vector broadcast against the input).</summary>
    public static int[] FeatureShape(int rank, int axis, int n)
    {
        var s = Enumerable.Repeat(1, rank).ToArray();
        s[axis] = n;
        return s;
    }
}
