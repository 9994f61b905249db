using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;

namespace NnxSharp.Tests;

[TestClass]
public static class TestSetup
{
    /// <summary>
    /// These tests run on the managed reference backend only (exact float64, no ONNX Runtime), and verify every
    /// graph they make, in Release builds too (CI builds Release).
    /// </summary>
    [AssemblyInitialize]
    public static void Initialize(TestContext _)
    {
        Backend.Default = ReferenceBackend.Instance;
        NnxSharp.Ir.Invariants.Checked = true;
    }
}
