using NnxSharp.Primitives;

namespace NnxSharp;

public sealed partial class Tensor
{
    private Ints AxesOf(string op, int[]? axes) =>
        axes is null ? new Ints(Enumerable.Range(0, Rank).ToArray()) : ShapeRules.Axes(op, Shape, axes);

    /// <summary>Sum over an axis, or over all axes when <paramref name="axis"/> is null.</summary>
    public Tensor Sum(int? axis = null, bool keepDims = false) => Sum(axis is { } a ? [a] : null, keepDims);

    /// <summary>Sum over the given axes (all when null).</summary>
    public Tensor Sum(int[]? axes, bool keepDims = false) => new ReduceSum(AxesOf("reduce_sum", axes), keepDims).Bind(this);

    /// <summary>Mean over an axis, or over all axes when <paramref name="axis"/> is null.</summary>
    public Tensor Mean(int? axis = null, bool keepDims = false) => Mean(axis is { } a ? [a] : null, keepDims);

    /// <summary>
    /// Mean over the given axes (all when null): the sum times 1/n. Integers and bools are averaged as float32
    /// (as <c>jnp.mean</c>): the mean of <c>[1, 2]</c> is 1.5.
    /// </summary>
    public Tensor Mean(int[]? axes, bool keepDims = false)
    {
        var ax = AxesOf("mean", axes);
        var n = ax.Aggregate(1, (acc, d) => acc * Shape[d]);
        return new ReduceSum(ax, keepDims).Bind(Cast(DTypes.Inexact(DType))) * (1.0 / n);
    }

    /// <summary>Maximum over an axis, or over all axes when null.</summary>
    public Tensor Max(int? axis = null, bool keepDims = false) =>
        new ReduceMax(AxesOf("reduce_max", axis is { } a ? [a] : null), keepDims).Bind(this);

    /// <summary>Maximum over the given axes.</summary>
    public Tensor Max(int[] axes, bool keepDims = false) => new ReduceMax(AxesOf("reduce_max", axes), keepDims).Bind(this);

    /// <summary>Minimum over an axis, or over all axes when null.</summary>
    public Tensor Min(int? axis = null, bool keepDims = false) =>
        new ReduceMin(AxesOf("reduce_min", axis is { } a ? [a] : null), keepDims).Bind(this);

    /// <summary>Minimum over the given axes.</summary>
    public Tensor Min(int[] axes, bool keepDims = false) => new ReduceMin(AxesOf("reduce_min", axes), keepDims).Bind(this);

    /// <summary>The int64 index of the first maximum along an axis.</summary>
    public Tensor ArgMax(int axis = -1, bool keepDims = false) => new ArgMax(Shape.Axis(axis, "arg_max"), keepDims).Bind(this);
}
