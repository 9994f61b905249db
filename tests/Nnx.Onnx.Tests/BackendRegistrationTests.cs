using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Onnx.Schema;

namespace NnxSharp.Tests;

/// <summary>Nnx.Onnx registers itself as the default backend and owns ONNX's element-type codes.</summary>
[TestClass]
public sealed class BackendRegistrationTests
{
    [TestMethod]
    public void TheBuildCompilesARegistrationIntoTheApplication()
    {
        // NnxSharp.Onnx.Backend.targets (imported by tests/Directory.Build.targets, as the package imports it into an
        // application) adds a module initializer to this assembly that calls OrtBackend.Register().
        var registration = typeof(BackendRegistrationTests).Assembly.GetType("NnxSharpOrtBackendRegistration");
        registration.Should().NotBeNull();
        registration!.GetMethod("Register", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!
            .GetCustomAttributes(typeof(System.Runtime.CompilerServices.ModuleInitializerAttribute), false).Should().ContainSingle();
        Backend.Default.Should().BeSameAs(OrtBackend.Cpu);
    }

    [TestMethod]
    public void EveryDTypeHasAnOnnxCodeThatMapsBack()
    {
        foreach (var t in Enum.GetValues<DType>())
            OnnxTypes.FromElementType(OnnxTypes.ElementType(t)).Should().Be(t);
        OnnxTypes.ElementType(DType.Float64).Should().Be(11, "TensorProto.DOUBLE");
        var unknown = () => OnnxTypes.FromElementType(16);
        unknown.Should().Throw<NotSupportedException>().WithMessage("*16*");
    }

    [TestMethod]
    public void ACastNamesItsTargetAsADTypeAndTheEmitterWritesTheOnnxCode()
    {
        var graph = Graph.Trace(x => x.Cast(DType.Float64), new Aval(Shape.Of(3), DType.Float32));
        var cast = OnnxLowering.ToModel(graph).Graph.Node.Single(n => n.OpType == "Cast");
        var to = cast.Attribute.Single(a => a.Name == "to");
        to.Type.Should().Be(AttributeProto.Types.AttributeType.Int);
        to.I.Should().Be(OnnxTypes.ElementType(DType.Float64));
    }
}
