using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

[TestClass]
public sealed class PassTests
{
    private static HostArray RandomArray(Aval aval, int seed)
    {
        var r = new System.Random(seed);
        return HostArray.Create(Enumerable.Range(0, aval.Shape.Size).Select(_ => r.NextDouble() * 2 - 1).ToArray(), aval.Shape);
    }

    private static void ShouldComputeTheSame(Graph before, Graph after)
    {
        var inputs = before.Inputs.Select((v, i) => RandomArray(v.Aval, i)).ToArray();
        var expected = ReferenceBackend.Evaluate(before, inputs);
        var actual = ReferenceBackend.Evaluate(after, inputs);
        for (var i = 0; i < expected.Length; i++)
            actual[i].ToDoubles().Should().Equal(expected[i].ToDoubles(), (a, b) => Math.Abs(a - b) <= 1e-12 * (1 + Math.Abs(b)));
    }

    [TestMethod]
    public void DeadCodeIsRemoved()
    {
        var g = Graph.Trace(x => { _ = x.Exp(); return x.Tanh(); }, Aval.F64(3));
        var opt = PassPipeline.Optimize(g, out var stats);
        opt.Nodes.Select(n => n.Op.Name).Should().Equal("tanh");
        stats.Should().Be(new PassStats(2, 1));
    }

    [TestMethod]
    public void CommonSubexpressionsAreMerged()
    {
        var g = Graph.Trace(x => x.Exp() + x.Exp(), Aval.F64(3));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Count(n => n.Op is Exp).Should().Be(1);
        ShouldComputeTheSame(g, opt);
    }

    [TestMethod]
    public void ConstantsAreFolded()
    {
        var g = Graph.Trace(x => x * (Tensor.FromArray([1.0, 2.0, 3.0], 3) + 3.0).Exp(), Aval.F64(3));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Select(n => n.Op.Name).Should().Equal("literal", "mul");
        ShouldComputeTheSame(g, opt);
    }

    [TestMethod]
    public void IdentitiesAreRemoved()
    {
        var g = Graph.Trace(x => ((x + 0.0) * 1.0 / 1.0).Reshape(2, 3).Reshape(6).Reshape(3, 2).StopGradient().Neg().Neg(), Aval.F64(3, 2));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Should().BeEmpty();
        opt.Outputs[0].Should().BeSameAs(opt.Inputs[0]);
    }

    [TestMethod]
    public void TransposeChainsCompose()
    {
        var g = Graph.Trace(x => x.Transpose(1, 2, 0).Transpose(2, 0, 1).Transpose(0, 2, 1), Aval.F64(2, 3, 4));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Should().ContainSingle().Which.Op.Should().Be(new Transpose(Ints.Of(0, 2, 1)));
        ShouldComputeTheSame(g, opt);
    }

    [TestMethod]
    public void DenseLayerBecomesOneGemm()
    {
        var g = Graph.Trace((x, w, b) => x.MatMul(w) + b, Aval.F32(8, 3), Aval.F32(3, 5), Aval.F32(5));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Should().ContainSingle().Which.Op.Should().Be(new Gemm(false, false));
        ShouldComputeTheSame(g, opt);
    }

    [TestMethod]
    public void TransposedOperandsFoldIntoGemm()
    {
        var g = Graph.Trace((x, w, b) => b + x.Transpose().MatMul(w.Transpose()), Aval.F64(3, 8), Aval.F64(5, 3), Aval.F64(8, 1));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Should().ContainSingle().Which.Op.Should().Be(new Gemm(true, true));
        ShouldComputeTheSame(g, opt);

        var noBias = Graph.Trace((g2, w) => g2.MatMul(w.Transpose()), Aval.F64(8, 5), Aval.F64(3, 5));
        var opt2 = PassPipeline.Optimize(noBias);
        opt2.Nodes.Select(n => n.Op.Name).Should().Equal("full", "gemm");
        ShouldComputeTheSame(noBias, opt2);
    }

    [TestMethod]
    public void AProductUsedTwiceIsNotFused()
    {
        var g = Graph.Trace((x, w, b) => (x.MatMul(w) + b) * x.MatMul(w), Aval.F64(2, 3), Aval.F64(3, 4), Aval.F64(4));
        var opt = PassPipeline.Optimize(g);
        opt.Nodes.Select(n => n.Op.Name).Should().Equal("mat_mul", "add", "mul");
        ShouldComputeTheSame(g, opt);
    }

    [TestMethod]
    public void AnUnchangedGraphIsReturnedAsIs()
    {
        var g = Graph.Trace(x => x.Tanh(), Aval.F64(3));
        PassPipeline.Optimize(g).Should().BeSameAs(g);
    }
}
