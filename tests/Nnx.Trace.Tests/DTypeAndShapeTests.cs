using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>Type promotion (as in JAX) and shapes with structural equality and NumPy broadcasting.</summary>
[TestClass]
public sealed class DTypeAndShapeTests
{
    private static readonly DType[] All = Enum.GetValues<DType>();

    [TestMethod]
    [DataRow(DType.Bool, DType.Bool, DType.Bool)]
    [DataRow(DType.Bool, DType.Int32, DType.Int32)]
    [DataRow(DType.Bool, DType.UInt64, DType.UInt64)]
    [DataRow(DType.Bool, DType.Float16, DType.Float16)]
    [DataRow(DType.Int32, DType.Int64, DType.Int64)]
    [DataRow(DType.UInt32, DType.UInt64, DType.UInt64)]
    [DataRow(DType.UInt32, DType.Int32, DType.Int64)]
    [DataRow(DType.UInt32, DType.Int64, DType.Int64)]
    [DataRow(DType.Int32, DType.Float32, DType.Float32)]
    [DataRow(DType.Int64, DType.Float16, DType.Float16)]
    [DataRow(DType.UInt64, DType.Float64, DType.Float64)]
    [DataRow(DType.Float16, DType.Float32, DType.Float32)]
    [DataRow(DType.Float32, DType.Float64, DType.Float64)]
    [DataRow(DType.Float16, DType.Float64, DType.Float64)]
    public void PromotesAsJaxDoes(DType a, DType b, DType expected)
    {
        DTypes.Promote(a, b).Should().Be(expected);
        DTypes.Promote(b, a).Should().Be(expected);
    }

    [TestMethod]
    [DataRow(DType.UInt64, DType.Int64)]
    [DataRow(DType.UInt64, DType.Int32)]
    public void UInt64WithASignedTypeIsAWeakFloatAsInJax(DType a, DType b)
    {
        // JAX's lattice: u64 ⊔ i32 = u64 ⊔ i64 = f*, materialized as the default float (float32).
        DTypes.Promote(a, b).Should().Be(DType.Float32);
        DTypes.Promote(b, a).Should().Be(DType.Float32);
    }

    [TestMethod]
    public void PromotionIsALatticeJoin()
    {
        // Bool < integers < floats: bool is the identity, a float absorbs any integer, and the join is symmetric.
        foreach (var a in All)
        {
            DTypes.Promote(a, a).Should().Be(a);
            DTypes.Promote(DType.Bool, a).Should().Be(a);
            foreach (var b in All)
            {
                DTypes.Promote(a, b).Should().Be(DTypes.Promote(b, a), $"{a} with {b}");
                if (a.IsFloat() && !b.IsFloat()) DTypes.Promote(a, b).Should().Be(a);
            }
        }
    }

    [TestMethod]
    public void ShapesCompareByDimensions()
    {
        Shape.Of(2, 3).Equals(new Shape(2, 3)).Should().BeTrue();
        (Shape.Of(2, 3) == new Shape(2, 3)).Should().BeTrue();
        Shape.Of(2, 3).GetHashCode().Should().Be(new Shape(2, 3).GetHashCode());
        (Shape.Of(2, 3) == Shape.Of(3, 2)).Should().BeFalse();
        (Shape.Of(2, 3) != Shape.Of(2, 3, 1)).Should().BeTrue();
        Shape.Of().Should().BeSameAs(Shape.Scalar);
        (new Shape() == Shape.Scalar).Should().BeTrue();
        Shape.Scalar.Size.Should().Be(1);
        Shape.Of(2, 0, 3).Size.Should().Be(0);
        Shape.Of(2, 3, 4).Strides().Should().Equal(12, 4, 1);
        Shape.Of(2, 3).ToString().Should().Be("[2,3]");
        new HashSet<Shape> { Shape.Of(1, 2), new Shape(1, 2) }.Should().HaveCount(1);
    }

    [TestMethod]
    public void ShapesRejectNegativeAndOversizedDimensions()
    {
        var negative = () => Shape.Of(2, -1);
        negative.Should().Throw<ArgumentException>().WithMessage("*[2,-1]*negative*");
        var huge = () => Shape.Of(1 << 16, 1 << 16);
        huge.Should().Throw<ArgumentException>().WithMessage("*2^31*");
    }

    [TestMethod]
    [DataRow(new[] { 3, 1 }, new[] { 4 }, new[] { 3, 4 })]
    [DataRow(new[] { 2, 3 }, new int[0], new[] { 2, 3 })]
    [DataRow(new[] { 2, 0 }, new[] { 1 }, new[] { 2, 0 })]
    [DataRow(new[] { 5, 1, 3 }, new[] { 4, 1 }, new[] { 5, 4, 3 })]
    [DataRow(new[] { 1 }, new[] { 1, 1 }, new[] { 1, 1 })]
    public void BroadcastsAsNumPyDoes(int[] a, int[] b, int[] expected)
    {
        (Shape.TryBroadcast(Shape.Of(a), Shape.Of(b)) == Shape.Of(expected)).Should().BeTrue();
        (Shape.TryBroadcast(Shape.Of(b), Shape.Of(a)) == Shape.Of(expected)).Should().BeTrue();
    }

    [TestMethod]
    public void ShapesThatCannotBroadcastGiveNull()
    {
        Shape.TryBroadcast(Shape.Of(3), Shape.Of(4)).Should().BeNull();
        Shape.TryBroadcast(Shape.Of(2, 0), Shape.Of(3)).Should().BeNull();
        Shape.TryBroadcast(Shape.Of(3, 4), Shape.Of(5)).Should().BeNull();
    }

    [TestMethod]
    public void AxesNormaliseAndNameTheOpWhenOutOfRange()
    {
        Shape.Of(2, 3).Axis(-1, "op").Should().Be(1);
        Shape.Of(2, 3).Axis(0, "op").Should().Be(0);
        var bad = () => Shape.Of(2, 3).Axis(2, "reduce_sum");
        bad.Should().Throw<ArgumentException>().WithMessage("reduce_sum: axis 2 is out of range for shape [2,3] (rank 2).");
        bad = () => Shape.Of(2, 3).Axis(-3, "concat");
        bad.Should().Throw<ArgumentException>().WithMessage("concat: axis -3*");
    }
}
