using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace UserCode.Tests;

[TestClass]
public static class TestSetup
{
    /// <summary>Every graph these tests make is verified, in Release builds too (CI builds Release).</summary>
    [AssemblyInitialize]
    public static void Initialize(TestContext _) => NnxSharp.Ir.Invariants.Checked = true;
}
