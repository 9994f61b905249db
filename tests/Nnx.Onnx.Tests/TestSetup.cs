using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

[TestClass]
public static class TestSetup
{
    /// <summary>
    /// Every graph these tests make is verified, in Release builds too (CI builds Release). ONNX Runtime's environment
    /// is Nnx's (with the shared thread pool) whichever test reaches ONNX Runtime first, as in an application whose
    /// first ONNX Runtime call is Nnx's.
    /// </summary>
    [AssemblyInitialize]
    public static void Initialize(TestContext _)
    {
        NnxSharp.Ir.Invariants.Checked = true;
        NnxSharp.Onnx.OrtThreads.EnsureEnvironment();
    }
}
