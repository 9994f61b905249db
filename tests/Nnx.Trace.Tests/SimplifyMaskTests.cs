using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;

namespace NnxSharp.Tests;

/// <summary>
/// The ReLU gradient mask that <see cref="Simplify"/> moves to the reduced size of a max pool after the ReLU: golden
/// IR of the gradient of a 2×2 max pool of a relu, its values against the unoptimised graph (windows of relu zeros,
/// positive ties, a maximum of exactly 0), and graphs of the same shape where the rewrite does not hold.
/// </summary>
[TestClass]
public sealed class SimplifyMaskTests
{
    /// <summary>∂/∂a Σ(maxpool₂ₓ₂(relu(a)) · r) for a [4, 4] and r [2, 2] (the pool as a reshape and ReduceMax, as Nn.MaxPool writes it).</summary>
    private static Graph PoolOfReluGradient() => Graph.Trace(
        a => [Autodiff.Grad((Tensor x) => (x.Relu().Reshape(2, 2, 2, 2).Max([1, 3]) * a[1]).Sum())(a[0])], Aval.F64(4, 4), Aval.F64(2, 2));

    /// <summary>The comparison with 0 and the Where run over the 4 windows ([2, 1, 2, 1]), not over the 16 elements.</summary>
    [TestMethod]
    public void TheReluMaskOfAPooledGradientRunsAtThePooledSize()
    {
        var g = PoolOfReluGradient();
        g.ToString().Should().Contain("bool[4,4] = greater").And.Contain("f64[4,4] = where", "the traced gradient masks every element");
        PassPipeline.Optimize(g).ToString().Should().Be(
            """
            { lambda a:f64[4,4] b:f64[2,2]. let
                c:f64[4,4] = relu a
                d:f64[2,2,2,2] = reshape[new_shape=[2,2,2,2]] c
                e:f64[2,2] = reduce_max[axes=(1,3) keep_dims=false] d
                f:f64[2,1,2,1] = reshape[new_shape=[2,1,2,1]] e
                g:bool[2,2,2,2] = equal d f
                h:f64[2,2,2,2] = cast[to=f64] g
                i:f64[2,1,2,1] = reduce_sum[axes=(1,3) keep_dims=true] h
                j:f64[2,1,2,1] = reshape[new_shape=[2,1,2,1]] b
                k:f64[2,1,2,1] = div j i
                l:f64[] = full[shape=[] dtype=f64 value=0]
                m:bool[2,1,2,1] = greater f l
                n:f64[2,1,2,1] = where m k l
                o:f64[2,2,2,2] = mul h n
                p:f64[4,4] = reshape[new_shape=[4,4]] o
              in (p) }
            """.ReplaceLineEndings("\n"));
    }

    /// <summary>
    /// The rewritten gradient equals the traced one exactly: a window of negatives (relu's zeros tie), a window whose
    /// two positive maxima tie, a window whose maximum is exactly 0, one with a unique positive maximum; and random inputs.
    /// </summary>
    [TestMethod]
    public void ThePooledMaskComputesTheSameGradient()
    {
        var g = PoolOfReluGradient();
        var opt = PassPipeline.Optimize(g);
        double[] crafted =
        [
            -1, -2, 0.5, 0.5,
            -3, -0.5, 0.25, -1,
            0, -1, 0.75, 0.1,
            -2, 0, -0.2, 0.3,
        ];
        var r = HostArray.Create(new[] { 2.0, -3.0, 5.0, 7.0 }, new Shape(2, 2));
        foreach (var a in new[] { HostArray.Create(crafted, new Shape(4, 4)), SimplifyTests.RandomArray(Aval.F64(4, 4), 1), SimplifyTests.RandomArray(Aval.F64(4, 4), 2) })
        {
            var expected = ReferenceBackend.Evaluate(g, [a, r])[0].ToDoubles();
            ReferenceBackend.Evaluate(opt, [a, r])[0].ToDoubles().Should().Equal(expected);
        }
        ReferenceBackend.Evaluate(opt, [HostArray.Create(crafted, new Shape(4, 4)), r])[0].ToDoubles().Should().Equal(
            [0, 0, -1.5, -1.5, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0], "the tie of 0.5s shares −3; the windows of non-positive maxima get nothing");
    }

    /// <summary>
    /// Not rewritten: a mask compared with another tensor than the one the ReLU gradient tests, and a product that
    /// is also used elsewhere (moving the mask would add a full-size product).
    /// </summary>
    [TestMethod]
    public void AMaskOfOtherElementsOrASharedProductStays()
    {
        var other = Graph.Trace(
            a => [Tensor.Where(a[0] > 0.0, (a[1].Equal(a[2]).Cast(DType.Float64) * a[3]).Reshape(4, 4), 0.0)],
            Aval.F64(4, 4), Aval.F64(2, 2, 2, 2), Aval.F64(2, 1, 2, 1), Aval.F64(2, 1, 2, 1));
        PassPipeline.Optimize(other).ToString().Should().MatchRegex(@"\w+:f64\[4,4\] = where", "y is not the compared tensor");
        var shared = Graph.Trace(
            a =>
            {
                var product = a[0].Reshape(2, 2, 2, 2).Equal(a[1]).Cast(DType.Float64) * a[2];
                return [Tensor.Where(a[0] > 0.0, product.Reshape(4, 4), 0.0), product];
            },
            Aval.F64(4, 4), Aval.F64(2, 1, 2, 1), Aval.F64(2, 1, 2, 1));
        PassPipeline.Optimize(shared).ToString().Should().MatchRegex(@"\w+:f64\[4,4\] = where", "the product is an output too");
    }
}
