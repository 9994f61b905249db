using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

[TestClass]
public sealed class EagerTests
{
    [TestMethod]
    public void DefaultBackendIsOnnxRuntime() => Backend.Default.Should().BeSameAs(OrtBackend.Cpu);

    [TestMethod]
    public void ComputesAnMlpLayerEagerly()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var w = Tensor.FromArray([0.5f, -1f, 1f, 0.25f, -0.5f, 2f], 3, 2);
        var b = Tensor.FromArray([0.1f, -0.2f]);

        var h = (x.MatMul(w) + b).Relu();
        var m = h.Mean(axis: 0);

        h.ToArray<float>().Should().Equal(1.1f, 5.3f, 4.1f, 9.05f);
        m.ToArray<float>().Should().BeEquivalentTo([2.6f, 7.175f], o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        m.ToString().Should().Be("Tensor(f32[2]) [2.6, 7.175]");
    }

    [TestMethod]
    public void AScalarPrintsAsItsNumberAndTakesFormatStrings()
    {
        var loss = Tensor.Scalar(0.01037445f);
        loss.ToString().Should().Be("0.01037445");
        $"loss {loss:F4}".Should().Be("loss 0.0104");
        Tensor.Scalar(3, DType.Int64).ToString("D3", System.Globalization.CultureInfo.InvariantCulture).Should().Be("003");
        Tensor.Scalar(1, DType.Bool).ToString().Should().Be("true");
        Tensor.FromArray([1f, 2f]).ToString("F1", null).Should().Be("Tensor(f32[2]) [1, 2]", "format strings apply to scalars only");
    }
}
