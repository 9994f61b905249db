using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;

namespace NnxSharp.Tests;

[TestClass]
public sealed class GraphPrinterTests
{
    [TestMethod]
    public void PrintsATracedFunctionLikeAJaxpr()
    {
        var graph = Graph.Trace((x, w, b) => (x.MatMul(w) + b).Relu().Sum(axis: 0, keepDims: true),
            Aval.F32(32, 2), Aval.F32(2, 64), Aval.F32(64));

        graph.ToString().Should().Be(
            """
            { lambda a:f32[32,2] b:f32[2,64] c:f32[64]. let
                d:f32[32,64] = mat_mul a b
                e:f32[32,64] = add d c
                f:f32[32,64] = relu e
                g:f32[1,64] = reduce_sum[axes=(0) keep_dims=true] f
              in (g) }
            """.ReplaceLineEndings("\n"));
    }

    [TestMethod]
    public void NamesVariablesAsJaxDoes()
    {
        GraphPrinter.VarName(0).Should().Be("a");
        GraphPrinter.VarName(25).Should().Be("z");
        GraphPrinter.VarName(26).Should().Be("ba");
        GraphPrinter.VarName(27).Should().Be("bb");
    }
}
