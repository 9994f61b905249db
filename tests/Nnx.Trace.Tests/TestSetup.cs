using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;

namespace NnxSharp.Tests;

[TestClass]
public static class TestSetup
{
    /// <summary>These tests run on the managed reference backend only (exact float64, no ONNX Runtime).</summary>
    [AssemblyInitialize]
    public static void UseReferenceBackend(TestContext _) => Backend.Default = ReferenceBackend.Instance;
}
