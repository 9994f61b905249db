using FluentAssertions;
using NnxSharp;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace UserCode.Elsewhere;

/// <summary>A user's own namespace with only <c>using</c> lines for the library: <c>Nnx.X</c> must resolve to the class.</summary>
[TestClass]
public sealed class FrontDoorTests
{
    [TestMethod]
    public void NnxIsAClassReachableFromAUserNamespace()
    {
        Nnx.Version.Should().NotBeNullOrEmpty();
        typeof(Nnx).Should().BeSameAs(typeof(NnxSharp.Nnx), "from a user's namespace, Nnx names the front-door class");
        // A namespace called Nnx in any of the three libraries would make user code's Nnx.Jit(...) name it instead.
        var libraries = new[] { typeof(NnxSharp.Tensor).Assembly, typeof(NnxSharp.Onnx.OrtBackend).Assembly, typeof(NnxSharp.Nnx).Assembly };
        libraries.Distinct().Should().HaveCount(3);
        libraries.SelectMany(a => a.GetTypes()).Select(t => t.Namespace).Should().NotContain(n => n == "Nnx" || (n != null && n.StartsWith("Nnx.")));
    }

    [TestMethod]
    public void ThePrimitivesArePrivateToNnxTraceAndTheLoweringSeamIsPublic()
    {
        // Users call tensor methods; a backend lowers graphs through Primitive.Lower and IOnnxEmitter. The records
        // themselves (Add, Pad, ConvGeneral, ...) are internal, listed once in OpRegistry.All.
        var trace = typeof(NnxSharp.Tensor).Assembly;
        trace.GetExportedTypes().Where(t => t.Namespace == "NnxSharp.Primitives").Select(t => t.Name).Should().BeEquivalentTo(
            ["Primitive", "OpRegistry", "IOnnxEmitter", "LowerArgs", "OnnxAttribute", "OnnxNode", "OnnxTarget"]);
        NnxSharp.Primitives.OpRegistry.All.Select(p => p.GetType()).Should().OnlyContain(t => !t.IsVisible);
        typeof(NnxSharp.Ir.Node).GetProperty("Op")!.PropertyType.Should().Be(typeof(NnxSharp.Primitives.Primitive), "graphs show their primitives");
        Console.WriteLine($"Nnx.Trace exports {trace.GetExportedTypes().Length} types");
    }
}
