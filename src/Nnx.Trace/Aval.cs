using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>An abstract value: the shape and dtype of a tensor, without its data (as JAX's ShapedArray).</summary>
public sealed record Aval(Shape Shape, DType DType)
{
    /// <summary>A float32 aval of the given shape.</summary>
    public static Aval F32(params int[] dims) => new(Shape.Of(dims), DType.Float32);

    /// <summary>A float64 aval of the given shape.</summary>
    public static Aval F64(params int[] dims) => new(Shape.Of(dims), DType.Float64);

    /// <summary>An aval of the given dtype and shape.</summary>
    public static Aval Of(DType dtype, params int[] dims) => new(Shape.Of(dims), dtype);

    /// <summary>Equal shapes and dtypes; compiled optimised at its first call, as the cached step compares avals every call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(Aval? other) => other is not null && (ReferenceEquals(this, other) || (DType == other.DType && Shape.Equals(other.Shape)));

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Shape, DType);

    /// <summary>Prints as <c>f32[32,3]</c>.</summary>
    public override string ToString() => DType.ShortName() + Shape;
}
