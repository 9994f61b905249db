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
        typeof(NnxSharp.Nnx).IsClass.Should().BeTrue();
        typeof(NnxSharp.Tensor).Assembly.GetTypes().Select(t => t.Namespace).Should().NotContain(n => n == "Nnx" || (n != null && n.StartsWith("Nnx.")));
    }
}
