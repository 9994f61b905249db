using System.Collections.Immutable;
using System.Globalization;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// ONNX Runtime's CPU provider agrees with the reference evaluator on every row of the conformance table
/// (<see cref="PrimitiveCases"/>): each row is a one-node graph run on both backends. Integers and bools
/// must match exactly; floats within a per-dtype tolerance.
/// </summary>
[TestClass]
public sealed class OrtConformanceTests
{
    /// <summary>One test row per primitive of <see cref="OpRegistry.All"/>, so a new primitive fails until it has cases.</summary>
    public static IEnumerable<object[]> Primitives => OpRegistry.All.Select(p => new object[] { p.Name });

    [TestMethod]
    [DynamicData(nameof(Primitives))]
    public void OnnxRuntimeMatchesTheReference(string primitive)
    {
        var cases = PrimitiveCases.For(primitive);
        cases.Should().NotBeEmpty("every primitive of OpRegistry.All needs rows in the conformance table");
        var failures = new List<string>();
        foreach (var c in cases)
            if (Check(c) is { } failure) failures.Add($"{c}: {failure}");
        if (failures.Count > 0)
            Assert.Fail($"{failures.Count} of {cases.Count} rows differ from the reference:\n" + string.Join("\n", failures));
    }

    /// <summary>Relative and absolute tolerance per dtype: integers, bools and float16 data movement are exact.</summary>
    internal static double Tolerance(DType t) => t switch
    {
        DType.Float32 => 1e-5,
        DType.Float64 => 1e-12,
        _ => 0,
    };

    /// <summary>Runs one row on both backends; null when they agree, else what differs.</summary>
    internal static string? Check(PrimitiveCase c)
    {
        var inputs = c.Inputs.Select(x => new Value(x.Aval)).ToImmutableArray();
        var node = Node.Create(c.Op, inputs);
        var graph = new Graph(inputs, [node], [node.Output]);
        var expected = ReferenceBackend.Evaluate(graph, c.Inputs)[0];
        HostArray actual;
        try
        {
            actual = RunOnOrt(graph, c.Inputs);
        }
        catch (Exception e) when (e is not AssertFailedException)
        {
            return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
        }
        return Compare(expected, actual);
    }

    internal static HostArray RunOnOrt(Graph graph, IReadOnlyList<HostArray> inputs)
    {
        var ort = OrtBackend.Cpu;
        using var exe = ort.Compile(graph);
        var buffers = inputs.Select(ort.Upload).ToArray();
        var outputs = exe.Run(buffers);
        try
        {
            return ort.Download(outputs[0]);
        }
        finally
        {
            foreach (var b in buffers.Concat(outputs)) b.Dispose();
        }
    }

    /// <summary>Null when <paramref name="actual"/> matches <paramref name="expected"/> within the dtype's tolerance.</summary>
    internal static string? Compare(HostArray expected, HostArray actual)
    {
        if (actual.Aval != expected.Aval) return $"got {actual.Aval}, expected {expected.Aval}";
        var tol = Tolerance(expected.DType);
        var bad = new List<int>();
        for (var k = 0; k < expected.Size; k++)
        {
            var ok = expected.DType.IsFloat()
                ? Close(expected.GetDouble(k), actual.GetDouble(k), tol)
                : expected.GetULong(k) == actual.GetULong(k);
            if (!ok) bad.Add(k);
        }
        if (bad.Count == 0) return null;
        var k0 = bad[0];
        return string.Create(CultureInfo.InvariantCulture,
            $"{bad.Count} of {expected.Size} elements differ; first at flat index {k0}: expected {expected.FormatElement(k0)} ({expected.GetDouble(k0):R}), got {actual.FormatElement(k0)} ({actual.GetDouble(k0):R})");
    }

    private static bool Close(double e, double a, double tol) =>
        double.IsNaN(e) ? double.IsNaN(a) : e == a || Math.Abs(a - e) <= tol * (1 + Math.Abs(e));
}
