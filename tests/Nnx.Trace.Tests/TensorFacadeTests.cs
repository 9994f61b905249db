using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>The tensor methods that layers call in place of the (internal) primitive records.</summary>
[TestClass]
public sealed class TensorFacadeTests
{
    [TestMethod]
    public void PadAddsZerosBeforeAndAfterEachAxis()
    {
        var x = Tensor.FromArray([1.0, 2.0, 3.0, 4.0], 2, 2);
        var y = x.Pad([1, 0], [0, 2]);
        y.Shape.Should().Equal(3, 4);
        y.ToArray<double>().Should().Equal(0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0);
        x.Pad([0, 0], [0, 0]).Should().BeSameAs(x, "no padding is no operation");
        var wrong = () => x.Pad([1], [1]);
        wrong.Should().Throw<ArgumentException>().WithMessage("pad: *one entry per axis of f64[2,2] (argument 0)*");
    }

    [TestMethod]
    public void ConvGeneralCrossCorrelatesInChannelsFirstLayout()
    {
        var x = Tensor.FromArray([1.0, 2.0, 3.0, 4.0, 5.0], 1, 1, 5);
        var k = Tensor.FromArray([1.0, -1.0], 1, 1, 2);
        x.ConvGeneral(k, [1], [0], [0], [1]).ToArray<double>().Should().Equal(-1, -1, -1, -1);
        x.ConvGeneral(k, [2], [1], [0], [2]).ToArray<double>().Should().Equal(-2, -2); // stride 2, dilation 2, one zero before
        var grad = Autodiff.Grad(kernel => x.ConvGeneral(kernel, [1], [0], [0], [1]).Sum())(k);
        grad.ToArray<double>().Should().Equal(10, 14);
    }
}
