using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// The lowering's peepholes (<see cref="IOnnxEmitter.Producer"/>): a transpose of a transpose is one transpose, or
/// none when they cancel; a node nothing reads is left out; and two graph values that became one ONNX value still
/// get an output each.
/// </summary>
[TestClass]
public sealed class LoweringPeepholeTests
{
    private static readonly HostArray X = HostArray.FromDoubles(DType.Float32, Shape.Of(2, 3, 4), [.. Enumerable.Range(0, 24).Select(i => (double)i)]);

    /// <summary>x → ×2 → transpose(first) → transpose(second), with the given values as outputs.</summary>
    private static Graph Chain(int[] first, int[] second, Func<Value, Value, Value, Value[]> outputs)
    {
        var input = new Value(X.Aval);
        var two = Node.Create(new Full(Shape.Of(), DType.Float32, 2.0), []);
        var doubled = Node.Create(new Mul(), [input, two.Output]);
        var a = Node.Create(new Transpose(new Ints(first)), [doubled.Output]);
        var b = Node.Create(new Transpose(new Ints(second)), [a.Output]);
        return new Graph([input], [two, doubled, a, b], [.. outputs(doubled.Output, a.Output, b.Output)]);
    }

    private static string[] Ops(Graph g) => [.. OnnxLowering.ToModel(g).Graph.Node.Select(n => n.OpType)];

    private static void SameAsReference(Graph g)
    {
        var expected = ReferenceBackend.Evaluate(g, [X]);
        var actual = CastChainTests.RunAll(OrtBackend.Cpu, g, X);
        for (var i = 0; i < expected.Length; i++) actual[i].ToDoubles().Should().Equal(expected[i].ToDoubles(), $"output {i}");
    }

    [TestMethod]
    public void TwoTransposesLowerAsOneByTheComposedPermutation()
    {
        var g = Chain([1, 0, 2], [0, 2, 1], (_, _, b) => [b]);
        Ops(g).Count(o => o == "Transpose").Should().Be(1, "the first transpose is read only by the second, so it is dropped");
        OnnxLowering.ToModel(g).Graph.Node.Single(n => n.OpType == "Transpose").Attribute.Single().Ints.Should().Equal(1, 2, 0);
        SameAsReference(g);
    }

    [TestMethod]
    public void ATransposeUndoneLowersToNothing()
    {
        var g = Chain([2, 0, 1], [1, 2, 0], (_, _, b) => [b]);
        Ops(g).Should().NotContain("Transpose");
        SameAsReference(g);
    }

    [TestMethod]
    public void ATransposeWithAnotherReaderStays()
    {
        var g = Chain([1, 0, 2], [0, 2, 1], (_, a, b) => [a, b]);
        Ops(g).Count(o => o == "Transpose").Should().Be(2);
        SameAsReference(g);
    }

    [TestMethod]
    public void AValueAndItsUndoneTransposeAreTwoOutputs()
    {
        // b is the same ONNX value as the product: the first output renames it, the second copies it.
        var g = Chain([2, 0, 1], [1, 2, 0], (p, _, b) => [p, b]);
        SameAsReference(g);
        var h = Chain([2, 0, 1], [1, 2, 0], (p, _, b) => [b, p]);
        SameAsReference(h);
    }
}
