using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// Device selection and its errors on a machine without CUDA (the tests use the CPU-only native package):
/// asking for CUDA fails with a message that says what is missing, and nothing falls back silently.
/// </summary>
[TestClass]
public sealed class DeviceTests
{
    [TestMethod]
    public void CudaOnTheCpuOnlyPackageSaysWhichPackageToUse()
    {
        var before = Backend.Default;
        var act = () => Device.Cuda(0);
        act.Should().Throw<InvalidOperationException>()
            .WithMessage("*CUDA device 0*CPU-only native package*CPUExecutionProvider*Microsoft.ML.OnnxRuntime.Gpu*-p:NnxGpu=true*does not fall back*");
        Backend.Default.Should().BeSameAs(before, "a failed Cuda() leaves the default device alone");
        var parse = () => Device.Parse("cuda:1");
        parse.Should().Throw<InvalidOperationException>().WithMessage("*CUDA device 1*");
    }

    [TestMethod]
    public void TheProviderCheckPassesWhenCudaIsListed()
    {
        var ok = () => CudaSupport.EnsureProviderAvailable(0, ["CUDAExecutionProvider", "CPUExecutionProvider"]);
        ok.Should().NotThrow();
        CudaSupport.StartFailed(2, new InvalidOperationException("libcudnn.so.9: cannot open shared object file")).Message
            .Should().Match("*device 2*libcudnn.so.9*nvidia-smi*LD_LIBRARY_PATH*does not fall back*");
    }

    [TestMethod]
    public void ParseNamesTheCpuAndRejectsUnknownDevices()
    {
        Device.Parse("cpu").Should().BeSameAs(Device.Cpu);
        Device.Parse(" CPU ").Should().BeSameAs(Device.Cpu);
        Device.Cpu.ToString().Should().Be("cpu");
        var tpu = () => Device.Parse("tpu");
        tpu.Should().Throw<ArgumentException>().WithMessage("*'tpu'*cpu, cuda or cuda:N*");
        Device.Default.Should().Be(Device.Cpu);
    }

    [TestMethod]
    public void ToMovesATensorAndUsingOneFromElsewhereFailsClearly()
    {
        var host = HostArray.Create([1f, 2f, 3f], Shape.Of(3));
        var elsewhere = new Tensor(ReferenceBackend.Instance.Upload(host));
        elsewhere.Device().Should().BeNull();
        var moved = elsewhere.To(Device.Cpu);
        moved.Device().Should().Be(Device.Cpu);
        moved.ToArray<float>().Should().Equal(1f, 2f, 3f);
        moved.To(Device.Cpu).Should().BeSameAs(moved, "already there");

        var step = Jit.Pure((Tensor a, Tensor b) => a + b);
        var mixed = () => step(moved, elsewhere);
        mixed.Should().Throw<ArgumentException>().WithMessage("*f32[3] on reference*was used on onnxruntime-cpu*tensor.To(device)*");
    }
}
