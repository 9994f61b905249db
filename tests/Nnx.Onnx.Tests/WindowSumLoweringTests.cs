using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// ReduceSum over two axes with kept axes between them (a max pool's tie count) on ONNX Runtime's CPU, float32: lowered
/// as an AveragePool times the window size when the window has a power-of-two size, else as ReduceSum; either way equal
/// to the reference evaluator, infinities and NaN included.
/// </summary>
[TestClass]
public sealed class WindowSumLoweringTests
{
    private static Graph SumGraph(Shape shape, int[] axes, bool keepDims)
    {
        var input = new Value(new Aval(shape, DType.Float32));
        var node = Node.Create(new ReduceSum(Ints.Of(axes), keepDims), [input]);
        return new Graph([input], [node], [node.Output]);
    }

    private static string[] OpTypes(Graph g) => [.. OnnxLowering.ToModel(g).Graph.Node.Select(n => n.OpType)];

    [TestMethod]
    public void APowerOfTwoWindowIsAnAveragePoolAndOtherWindowsStayReduceSum()
    {
        OpTypes(SumGraph(Shape.Of(3, 4, 2, 5, 2, 3), [2, 4], true)).Should().Contain("AveragePool").And.NotContain("ReduceSum");
        OpTypes(SumGraph(Shape.Of(4, 3, 2), [0, 2], false)).Should().Contain("AveragePool").And.NotContain("ReduceSum");
        OpTypes(SumGraph(Shape.Of(2, 3, 4, 3), [1, 3], true)).Should().Contain("ReduceSum", "a window of 9").And.NotContain("AveragePool");
        OpTypes(SumGraph(Shape.Of(2, 2, 4), [1, 2], true)).Should().NotContain("AveragePool", "adjacent axes are one run");
    }

    [TestMethod]
    public void TheWindowSumEqualsTheReference()
    {
        (Shape Shape, int[] Axes, bool Keep)[] cases =
        [
            (Shape.Of(3, 4, 2, 5, 2, 3), [2, 4], true), // a max pool's windows: [n, h/2, 2, w/2, 2, c]
            (Shape.Of(3, 4, 2, 5, 2, 3), [2, 4], false),
            (Shape.Of(4, 3, 2), [0, 2], false), // nothing before the first axis or after the last
            (Shape.Of(2, 1, 3, 8, 5), [1, 3], true), // a window of 1 × 8
            (Shape.Of(2, 3, 4, 3), [1, 3], true), // a window of 9: ReduceSum
        ];
        var rng = new System.Random(3);
        foreach (var (shape, axes, keep) in cases)
        {
            var data = Enumerable.Range(0, shape.Size).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            data[1] = float.PositiveInfinity;
            data[^1] = float.NaN;
            data[shape.Size / 2] = float.NegativeInfinity;
            var x = HostArray.Create(data, shape);
            var graph = SumGraph(shape, axes, keep);
            var expected = ReferenceBackend.Evaluate(graph, [x])[0].ToDoubles();
            var actual = Run(graph, x).ToDoubles();
            actual.Should().HaveCount(expected.Length);
            for (var k = 0; k < expected.Length; k++)
            {
                if (double.IsNaN(expected[k]) || double.IsInfinity(expected[k])) actual[k].Should().Be(expected[k], $"{shape} over ({string.Join(", ", axes)}), element {k}");
                else Math.Abs(actual[k] - expected[k]).Should().BeLessThanOrEqualTo(1e-5 * (1 + Math.Abs(expected[k])), $"{shape} over ({string.Join(", ", axes)}), element {k}");
            }
        }
    }

    /// <summary>Counts of a 0/1 mask (the tie count) come out exact.</summary>
    [TestMethod]
    public void ATieCountIsExact()
    {
        var shape = Shape.Of(2, 3, 2, 3, 2, 4);
        var rng = new System.Random(5);
        var x = HostArray.Create(Enumerable.Range(0, shape.Size).Select(_ => rng.Next(2) * 1f).ToArray(), shape);
        var graph = SumGraph(shape, [2, 4], true);
        Run(graph, x).ToDoubles().Should().Equal(ReferenceBackend.Evaluate(graph, [x])[0].ToDoubles());
    }

    private static HostArray Run(Graph graph, HostArray x) => CastChainTests.Run(OrtBackend.Cpu, graph, x);
}
