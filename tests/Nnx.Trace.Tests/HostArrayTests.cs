using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>Host arrays keep every value exactly representable in their dtype and round-trip through bytes and CLR arrays.</summary>
[TestClass]
public sealed class HostArrayTests
{
    [TestMethod]
    public void RoundTripsEveryDTypeThroughBytesAndClrArrays()
    {
        RoundTrip([1.5f, -0f, float.MaxValue, float.Epsilon, float.NaN, float.NegativeInfinity], DType.Float32);
        RoundTrip([0.1, -0.0, double.MaxValue, double.Epsilon, double.NaN, double.PositiveInfinity], DType.Float64);
        RoundTrip([(Half)0.1, Half.MaxValue, Half.Epsilon, Half.NaN, (Half)(-2)], DType.Float16);
        RoundTrip([int.MinValue, -1, 0, 1, int.MaxValue], DType.Int32);
        RoundTrip([long.MinValue, -1, 0, long.MaxValue], DType.Int64);
        RoundTrip([0u, 1u, 1u << 31, uint.MaxValue], DType.UInt32);
        RoundTrip([0ul, 1ul << 63, ulong.MaxValue], DType.UInt64);
        RoundTrip([true, false, true], DType.Bool);
    }

    private static void RoundTrip<T>(T[] values, DType dtype) where T : unmanaged
    {
        var shape = Shape.Of(values.Length);
        var a = HostArray.Create(values, shape);
        a.DType.Should().Be(dtype);
        a.ToArray<T>().Should().Equal(values);
        var bytes = a.ToBytes();
        bytes.Should().HaveCount(values.Length * dtype.ItemSize());
        var back = HostArray.FromBytes(dtype, shape, bytes);
        back.Should().Be(a);
        back.GetHashCode().Should().Be(a.GetHashCode());
        back.ToArray<T>().Should().Equal(values);
        a.Reshape(Shape.Of(1, values.Length)).ToArray<T>().Should().Equal(values);
    }

    [TestMethod]
    public void ReadingWithTheWrongClrTypeOrShapeFails()
    {
        var a = HostArray.Create([1f, 2f], Shape.Of(2));
        a.Invoking(x => x.ToArray<double>()).Should().Throw<InvalidCastException>().WithMessage("*f32[2]*Double*f64*");
        a.Invoking(x => x.Reshape(Shape.Of(3))).Should().Throw<ArgumentException>();
        var fromBytes = () => HostArray.FromBytes(DType.Int32, Shape.Of(2), new byte[7]);
        fromBytes.Should().Throw<ArgumentException>().WithMessage("7 bytes do not hold i32[2].");
        var create = () => HostArray.Create([1, 2, 3], Shape.Of(2));
        create.Should().Throw<ArgumentException>();
    }

    [TestMethod]
    public void IntegersWrapToTheirWidth()
    {
        HostArray.FromLongs(DType.Int32, Shape.Of(3), [(1L << 32) + 5, int.MaxValue + 1L, -1]).ToArray<int>()
            .Should().Equal(5, int.MinValue, -1);
        HostArray.FromULongs(DType.UInt32, Shape.Of(2), [(1UL << 32) + 7, ulong.MaxValue]).ToArray<uint>()
            .Should().Equal(7u, uint.MaxValue);
        HostArray.FromLongs(DType.UInt64, Shape.Of(1), [-1]).ToArray<ulong>().Should().Equal(ulong.MaxValue);
        HostArray.FromULongs(DType.Int64, Shape.Of(1), [1UL << 63]).ToArray<long>().Should().Equal(long.MinValue);
        HostArray.FromLongs(DType.Bool, Shape.Of(3), [5, 0, -1]).ToArray<bool>().Should().Equal(true, false, true);
        HostArray.Scalar(DType.Int32, 2147483648.0).ToArray<int>().Should().Equal(int.MinValue);
        HostArray.Scalar(DType.UInt32, -1).ToArray<uint>().Should().Equal(uint.MaxValue);
        HostArray.Scalar(DType.Int64, -2.9).ToArray<long>().Should().Equal(-2);
    }

    [TestMethod]
    public void FloatsRoundToTheirPrecision()
    {
        HostArray.Scalar(DType.Float32, 0.1).GetDouble(0).Should().Be((double)0.1f).And.NotBe(0.1);
        HostArray.Scalar(DType.Float64, 0.1).GetDouble(0).Should().Be(0.1);
        HostArray.Scalar(DType.Float16, 0.1).GetDouble(0).Should().Be((double)(Half)0.1);
        HostArray.Scalar(DType.Float32, 1e39).GetDouble(0).Should().Be(double.PositiveInfinity);
        HostArray.FromDoubles(DType.Float32, Shape.Of(2), [1 + 1e-10, 16777217]).ToArray<float>().Should().Equal(1f, 16777216f);
    }

    [TestMethod]
    public void EqualityIsByDTypeShapeAndContents()
    {
        var a = HostArray.Create([1, 2, 3], Shape.Of(3));
        a.Should().Be(HostArray.Create([1, 2, 3], Shape.Of(3)));
        a.GetHashCode().Should().Be(HostArray.Create([1, 2, 3], Shape.Of(3)).GetHashCode());
        a.Should().NotBe(HostArray.Create([1, 2, 4], Shape.Of(3)));
        a.Should().NotBe(HostArray.Create([1L, 2, 3], Shape.Of(3)));
        a.Should().NotBe(a.Reshape(Shape.Of(3, 1)));
    }

    [TestMethod]
    public void FormatsValuesAsTheIrPrinterShowsThem()
    {
        HostArray.Create([1.5f, 2f, 3f, 4f], Shape.Of(2, 2)).ToString().Should().Be("f32[2,2] [[1.5, 2],\n [3, 4]]");
        HostArray.Create(Enumerable.Range(0, 10).ToArray(), Shape.Of(10)).FormatValues().Should().Be("[0, 1, 2, ..., 7, 8, 9]");
        HostArray.Zeros(DType.Bool, Shape.Of(0, 3)).FormatValues().Should().Be("[]");
    }
}
