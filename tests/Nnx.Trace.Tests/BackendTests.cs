using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;

namespace NnxSharp.Tests;

/// <summary>How <see cref="Backend.Default"/> is chosen: set, else registered (by Nnx.Onnx), else a clear error.</summary>
[TestClass]
public sealed class BackendTests
{
    [TestMethod]
    public void WithNothingRegisteredTheDefaultSaysHowToChooseABackend()
    {
        var slot = new DefaultBackend();
        var read = () => slot.Value;
        read.Should().Throw<InvalidOperationException>()
            .WithMessage("No backend is registered*OrtBackend.Register()*ReferenceBackend.Instance*");
    }

    [TestMethod]
    public void ARegisteredBackendIsCreatedAtTheFirstReadAndASetOneWins()
    {
        var slot = new DefaultBackend();
        var created = 0;
        slot.Register(() => { created++; return ReferenceBackend.Instance; });
        created.Should().Be(0, "registering creates nothing: a backend that cannot start fails where it is first used");
        slot.Value.Should().BeSameAs(ReferenceBackend.Instance);
        slot.Value.Should().BeSameAs(ReferenceBackend.Instance);
        created.Should().Be(1);

        var set = new DefaultBackend();
        set.Value = ReferenceBackend.Instance;
        set.Register(() => throw new InvalidOperationException("not used"));
        set.Value.Should().BeSameAs(ReferenceBackend.Instance, "a backend set explicitly is not replaced by a registration");
    }

    [TestMethod]
    public void ABackendThatCannotStartThrowsItsOwnErrorAndIsTriedAgain()
    {
        var slot = new DefaultBackend();
        var attempts = 0;
        slot.Register(() => ++attempts == 1 ? throw new DllNotFoundException("the native library is missing") : ReferenceBackend.Instance);
        var read = () => slot.Value;
        read.Should().Throw<DllNotFoundException>().WithMessage("the native library is missing");
        slot.Value.Should().BeSameAs(ReferenceBackend.Instance);
    }

    [TestMethod]
    public void NnxTraceHoldsNoOnnxTypeCodes() =>
        typeof(Tensor).Assembly.GetTypes().Select(t => t.Name).Should().NotContain("OnnxTypes", "ONNX's element-type codes live in Nnx.Onnx");
}
