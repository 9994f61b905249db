using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;

namespace NnxSharp.Tests;

/// <summary>
/// Golden IR before and after the passes, one small graph per rule group of <see cref="Simplify"/>; each
/// optimised graph is also evaluated against the original by the reference backend in float64.
/// </summary>
[TestClass]
public sealed class SimplifyTests
{
    /// <summary>Uniform values on [−1, 1) for <paramref name="aval"/>, reproducible from <paramref name="seed"/>.</summary>
    internal static HostArray RandomArray(Aval aval, int seed)
    {
        var r = new System.Random(seed + 7);
        return HostArray.FromDoubles(aval.DType, aval.Shape, [.. Enumerable.Range(0, aval.Shape.Size).Select(_ => r.NextDouble() * 2 - 1)]);
    }

    /// <summary>Checks the printed graph before and after the passes, and that both compute the same.</summary>
    internal static void Golden(Graph g, string before, string after)
    {
        g.ToString().Should().Be(before.ReplaceLineEndings("\n"));
        var opt = PassPipeline.Optimize(g);
        opt.ToString().Should().Be(after.ReplaceLineEndings("\n"));
        var inputs = g.Inputs.Select((v, i) => RandomArray(v.Aval, i)).ToArray();
        var expected = ReferenceBackend.Evaluate(g, inputs);
        var actual = ReferenceBackend.Evaluate(opt, inputs);
        for (var i = 0; i < expected.Length; i++)
            actual[i].ToDoubles().Should().Equal(expected[i].ToDoubles(), (a, b) => Math.Abs(a - b) <= 1e-12 * (1 + Math.Abs(b)));
    }

    /// <summary>a + (−b) is a − b, −(a·3) is a·(−3), Σ(−a·b) negates the smaller sum, a − (−b) is a + b.</summary>
    [TestMethod]
    public void NegationsFoldIntoSubtractionsAndConstants() => Golden(
        Graph.Trace(a => [a[0] + -a[1], -(a[0] * 3.0), (-a[0] * a[1]).Sum(0), a[0] - -a[1]], Aval.F64(2, 3), Aval.F64(2, 3)),
        """
            { lambda a:f64[2,3] b:f64[2,3]. let
                c:f64[2,3] = neg b
                d:f64[2,3] = add a c
                e:f64[] = full[shape=[] dtype=f64 value=3]
                f:f64[2,3] = mul a e
                g:f64[2,3] = neg f
                h:f64[2,3] = neg a
                i:f64[2,3] = mul h b
                j:f64[3] = reduce_sum[axes=(0) keep_dims=false] i
                k:f64[2,3] = neg b
                l:f64[2,3] = sub a k
              in (d, g, j, l) }
            """,
        """
            { lambda a:f64[2,3] b:f64[2,3]. let
                c:f64[2,3] = sub a b
                d:f64[] = full[shape=[] dtype=f64 value=-3]
                e:f64[2,3] = mul a d
                f:f64[2,3] = mul a b
                g:f64[3] = reduce_sum[axes=(0) keep_dims=false] f
                h:f64[3] = neg g
                i:f64[2,3] = add a b
              in (c, e, h, i) }
            """);

    /// <summary>Σ·½ over 2 rows is a mean; (a·2)·3 is a·6; a + a is a·2 (and CSE makes it the same value); constants go second.</summary>
    [TestMethod]
    public void ScalarFactorsCombineAndASumTimesOneOverNIsAMean() => Golden(
        Graph.Trace(a => [a[0].Sum(0) * 0.5, a[0] * 2.0 * 3.0, a[0] + a[0], 2.0 * a[0].Exp()], Aval.F64(2, 3)),
        """
            { lambda a:f64[2,3]. let
                b:f64[3] = reduce_sum[axes=(0) keep_dims=false] a
                c:f64[] = full[shape=[] dtype=f64 value=0.5]
                d:f64[3] = mul b c
                e:f64[] = full[shape=[] dtype=f64 value=2]
                f:f64[2,3] = mul a e
                g:f64[] = full[shape=[] dtype=f64 value=3]
                h:f64[2,3] = mul f g
                i:f64[2,3] = add a a
                j:f64[2,3] = exp a
                k:f64[] = full[shape=[] dtype=f64 value=2]
                l:f64[2,3] = mul k j
              in (d, h, i, l) }
            """,
        """
            { lambda a:f64[2,3]. let
                b:f64[3] = reduce_mean[axes=(0) keep_dims=false] a
                c:f64[] = full[shape=[] dtype=f64 value=2]
                d:f64[2,3] = mul a c
                e:f64[] = full[shape=[] dtype=f64 value=6]
                f:f64[2,3] = mul a e
                g:f64[2,3] = exp a
                h:f64[2,3] = mul g c
              in (b, f, d, h) }
            """);

    /// <summary>
    /// A relu of a reshaped matrix product moves before the reshape (ONNX Runtime fuses it into the Gemm), where a
    /// relu of another reshape stays after it.
    /// </summary>
    [TestMethod]
    public void ReluOfAReshapedProductMovesBeforeTheReshape()
    {
        var g = Graph.Trace(a => [a[0].MatMul(a[1]).Reshape(2, 2, 2).Relu(), a[0].Reshape(2, 6).Relu()], Aval.F64(4, 3), Aval.F64(3, 2));
        var opt = PassPipeline.Optimize(g).ToString();
        opt.Should().MatchRegex(@"(\w+):f64\[4,2\] = relu \w+\n\s+\w+:f64\[2,2,2\] = reshape\[new_shape=\[2,2,2\]\] \1", "the product's relu comes first");
        opt.Should().MatchRegex(@"(\w+):f64\[2,6\] = reshape\[new_shape=\[2,6\]\] a\n\s+\w+:f64\[2,6\] = relu \1", "another reshape stays before its relu");
        var inputs = g.Inputs.Select((v, i) => RandomArray(v.Aval, i)).ToArray();
        var expected = ReferenceBackend.Evaluate(g, inputs);
        var actual = ReferenceBackend.Evaluate(PassPipeline.Optimize(g), inputs);
        for (var i = 0; i < expected.Length; i++) actual[i].ToDoubles().Should().Equal(expected[i].ToDoubles());
    }

    /// <summary>relu∘relu is relu; the gradient masks once (x > 0 is relu(x) > 0).</summary>
    [TestMethod]
    public void ReluOfReluAndItsGradientCollapse() => Golden(
        Graph.Trace(x => Autodiff.Grad((Tensor a) => a.Relu().Relu().Sum())(x), Aval.F64(4)),
        """
            { lambda a:f64[4]. let
                b:f64[4] = relu a
                c:f64[4] = relu b
                d:f64[] = reduce_sum[axes=(0) keep_dims=false] c
                e:f64[] = full[shape=[] dtype=f64 value=1]
                f:f64[1] = reshape[new_shape=[1]] e
                g:f64[4] = broadcast_to[target=[4]] f
                h:f64[] = full[shape=[] dtype=f64 value=0]
                i:bool[4] = greater c h
                j:f64[] = full[shape=[] dtype=f64 value=0]
                k:f64[4] = where i g j
                l:f64[] = full[shape=[] dtype=f64 value=0]
                m:bool[4] = greater b l
                n:f64[] = full[shape=[] dtype=f64 value=0]
                o:f64[4] = where m k n
              in (o) }
            """,
        """
            { lambda a:f64[4]. let
                b:f64[] = full[shape=[] dtype=f64 value=0]
                c:bool[4] = greater a b
                d:f64[] = full[shape=[] dtype=f64 value=1]
                e:f64[4] = where c d b
              in (e) }
            """);

    /// <summary>The batch mean stays a vector, the scale is not reshaped to a row and the bias is not expanded: the elementwise ops broadcast them.</summary>
    [TestMethod]
    public void BroadcastsAndReshapesThatTheConsumerMakesAnywayAreDropped() => Golden(
        Graph.Trace((x, s, b) => (x - x.Mean(0, keepDims: true)) * s.Reshape(1, 3) + b.BroadcastTo(2, 3), Aval.F64(2, 3), Aval.F64(3), Aval.F64(3)),
        """
            { lambda a:f64[2,3] b:f64[3] c:f64[3]. let
                d:f64[1,3] = reduce_sum[axes=(0) keep_dims=true] a
                e:f64[] = full[shape=[] dtype=f64 value=0.5]
                f:f64[1,3] = mul d e
                g:f64[2,3] = sub a f
                h:f64[1,3] = reshape[new_shape=[1,3]] b
                i:f64[2,3] = mul g h
                j:f64[2,3] = broadcast_to[target=[2,3]] c
                k:f64[2,3] = add i j
              in (k) }
            """,
        """
            { lambda a:f64[2,3] b:f64[3] c:f64[3]. let
                d:f64[3] = reduce_mean[axes=(0) keep_dims=false] a
                e:f64[2,3] = sub a d
                f:f64[2,3] = mul e b
                g:f64[2,3] = add f c
              in (g) }
            """);

    /// <summary>w − lr·xᵀg is one Gemm (C = w, α = −lr); a momentum m·β + xᵀ(g·2) takes β and the operand's factor.</summary>
    [TestMethod]
    public void AWeightUpdateIsOneGemm() => Golden(
        Graph.Trace(a => [a[0] - 0.125 * a[1].Transpose().MatMul(a[2]), a[3] * 0.5 + a[1].Transpose().MatMul(a[2] * 2.0)], Aval.F32(3, 2), Aval.F32(4, 3), Aval.F32(4, 2), Aval.F32(3, 2)),
        """
            { lambda a:f32[3,2] b:f32[4,3] c:f32[4,2] d:f32[3,2]. let
                e:f32[3,4] = transpose[perm=(1,0)] b
                f:f32[3,2] = mat_mul e c
                g:f32[] = full[shape=[] dtype=f32 value=0.125]
                h:f32[3,2] = mul g f
                i:f32[3,2] = sub a h
                j:f32[] = full[shape=[] dtype=f32 value=0.5]
                k:f32[3,2] = mul d j
                l:f32[3,4] = transpose[perm=(1,0)] b
                m:f32[] = full[shape=[] dtype=f32 value=2]
                n:f32[4,2] = mul c m
                o:f32[3,2] = mat_mul l n
                p:f32[3,2] = add k o
              in (i, p) }
            """,
        """
            { lambda a:f32[3,2] b:f32[4,3] c:f32[4,2] d:f32[3,2]. let
                e:f32[3,2] = gemm[trans_a=true trans_b=false alpha=-0.125] b c a
                f:f32[3,2] = gemm[trans_a=true trans_b=false alpha=2 beta=0.5] b c d
              in (e, f) }
            """);

    /// <summary>
    /// b − k·Σᵢ gᵢ is a Gemm of a row with g, C = b, reshaped to the bias's shape; with β = 1 the factor is in the
    /// row (−k, α = 1), the form ONNX Runtime runs as a vector-matrix kernel.
    /// </summary>
    [TestMethod]
    public void ABiasUpdateIsAGemmWithARowOfTheLearningRate() => Golden(
        Graph.Trace((b, g) => b - g.Sum(0) * 0.25, Aval.F32(3), Aval.F32(4, 3)),
        """
            { lambda a:f32[3] b:f32[4,3]. let
                c:f32[3] = reduce_sum[axes=(0) keep_dims=false] b
                d:f32[] = full[shape=[] dtype=f32 value=0.25]
                e:f32[3] = mul c d
                f:f32[3] = sub a e
              in (f) }
            """,
        """
            { lambda a:f32[3] b:f32[4,3]. let
                c:f32[1,4] = literal[value=[[-0.25,-0.25,-0.25,-0.25]]]
                d:f32[1,3] = gemm[trans_a=false trans_b=false] c b a
                e:f32[3] = reshape[new_shape=[3]] d
              in (e) }
            """);

    /// <summary>A running average β·m + k·mean(x) keeps its row of ones, with α = k/n and β as Gemm's scales.</summary>
    [TestMethod]
    public void ARunningAverageIsAGemmWithARowOfOnes() => Golden(
        Graph.Trace((m, x) => m * 0.75 + x.Mean(0) * 0.5, Aval.F32(3), Aval.F32(4, 3)),
        """
            { lambda a:f32[3] b:f32[4,3]. let
                c:f32[] = full[shape=[] dtype=f32 value=0.75]
                d:f32[3] = mul a c
                e:f32[3] = reduce_sum[axes=(0) keep_dims=false] b
                f:f32[] = full[shape=[] dtype=f32 value=0.25]
                g:f32[3] = mul e f
                h:f32[] = full[shape=[] dtype=f32 value=0.5]
                i:f32[3] = mul g h
                j:f32[3] = add d i
              in (j) }
            """,
        """
            { lambda a:f32[3] b:f32[4,3]. let
                c:f32[1,4] = literal[value=[[1,1,1,1]]]
                d:f32[1,3] = gemm[trans_a=false trans_b=false alpha=0.125 beta=0.75] c b a
                e:f32[3] = reshape[new_shape=[3]] d
              in (e) }
            """);

    /// <summary>ONNX keeps α as float32: 0.05 would round, so a float64 step keeps its multiplication.</summary>
    [TestMethod]
    public void AFloat64FactorThatFloat32CannotHoldStaysOutOfGemm() => Golden(
        Graph.Trace((w, x, g) => w - 0.05 * x.Transpose().MatMul(g), Aval.F64(3, 2), Aval.F64(4, 3), Aval.F64(4, 2)),
        """
            { lambda a:f64[3,2] b:f64[4,3] c:f64[4,2]. let
                d:f64[3,4] = transpose[perm=(1,0)] b
                e:f64[3,2] = mat_mul d c
                f:f64[] = full[shape=[] dtype=f64 value=0.05]
                g:f64[3,2] = mul f e
                h:f64[3,2] = sub a g
              in (h) }
            """,
        """
            { lambda a:f64[3,2] b:f64[4,3] c:f64[4,2]. let
                d:f64[] = full[shape=[] dtype=f64 value=0]
                e:f64[3,2] = gemm[trans_a=true trans_b=false beta=0] b c d
                f:f64[] = full[shape=[] dtype=f64 value=0.05]
                g:f64[3,2] = mul e f
                h:f64[3,2] = sub a g
              in (h) }
            """);

    /// <summary>a·b and b·a are one value; Σa + Σb is Σ(a + b).</summary>
    [TestMethod]
    public void CommutedProductsAndSumsOfSumsMerge() => Golden(
        Graph.Trace((a, b) => a * b + b * a + (a.Sum(0) + b.Sum(0)), Aval.F64(2, 3), Aval.F64(2, 3)),
        """
            { lambda a:f64[2,3] b:f64[2,3]. let
                c:f64[2,3] = mul a b
                d:f64[2,3] = mul b a
                e:f64[2,3] = add c d
                f:f64[3] = reduce_sum[axes=(0) keep_dims=false] a
                g:f64[3] = reduce_sum[axes=(0) keep_dims=false] b
                h:f64[3] = add f g
                i:f64[2,3] = add e h
              in (i) }
            """,
        """
            { lambda a:f64[2,3] b:f64[2,3]. let
                c:f64[2,3] = mul a b
                d:f64[] = full[shape=[] dtype=f64 value=2]
                e:f64[2,3] = mul c d
                f:f64[2,3] = add a b
                g:f64[3] = reduce_sum[axes=(0) keep_dims=false] f
                h:f64[2,3] = add e g
              in (h) }
            """);

    /// <summary>
    /// Adam's moments: the gradient feeds both, so the first moment <c>0.9·m + 0.1·xᵀg</c> takes a second Gemm of
    /// its own (C = m, α = 0.1, β = 0.9) over the short contraction; the second moment squares the shared product.
    /// </summary>
    [TestMethod]
    public void AdamsFirstMomentIsOneGemmWhenTheGradientIsShared() => Golden(
        Graph.Trace(a => { var g = a[1].Transpose().MatMul(a[2]); return [0.9 * a[0] + 0.1 * g, 0.999 * a[3] + 0.001 * g.Square()]; },
            Aval.F32(3, 2), Aval.F32(4, 3), Aval.F32(4, 2), Aval.F32(3, 2)),
        """
            { lambda a:f32[3,2] b:f32[4,3] c:f32[4,2] d:f32[3,2]. let
                e:f32[3,4] = transpose[perm=(1,0)] b
                f:f32[3,2] = mat_mul e c
                g:f32[] = full[shape=[] dtype=f32 value=0.9]
                h:f32[3,2] = mul g a
                i:f32[] = full[shape=[] dtype=f32 value=0.1]
                j:f32[3,2] = mul i f
                k:f32[3,2] = add h j
                l:f32[] = full[shape=[] dtype=f32 value=0.999]
                m:f32[3,2] = mul l d
                n:f32[3,2] = mul f f
                o:f32[] = full[shape=[] dtype=f32 value=0.001]
                p:f32[3,2] = mul o n
                q:f32[3,2] = add m p
              in (k, q) }
            """,
        """
            { lambda a:f32[3,2] b:f32[4,3] c:f32[4,2] d:f32[3,2]. let
                e:f32[] = full[shape=[] dtype=f32 value=0]
                f:f32[3,2] = gemm[trans_a=true trans_b=false beta=0] b c e
                g:f32[3,2] = gemm[trans_a=true trans_b=false alpha=0.1 beta=0.9] b c a
                h:f32[] = full[shape=[] dtype=f32 value=0.999]
                i:f32[3,2] = mul d h
                j:f32[3,2] = mul f f
                k:f32[] = full[shape=[] dtype=f32 value=0.001]
                l:f32[3,2] = mul j k
                m:f32[3,2] = add i l
              in (g, m) }
            """);

    /// <summary>A product over a long contraction (here 100) is not computed twice: its users keep their nodes.</summary>
    [TestMethod]
    public void ASharedProductOverALongContractionIsNotRecomputed() => Golden(
        Graph.Trace(a => { var g = a[1].Transpose().MatMul(a[2]); return [0.9 * a[0] + 0.1 * g, g.Square()]; },
            Aval.F32(3, 2), Aval.F32(100, 3), Aval.F32(100, 2)),
        """
            { lambda a:f32[3,2] b:f32[100,3] c:f32[100,2]. let
                d:f32[3,100] = transpose[perm=(1,0)] b
                e:f32[3,2] = mat_mul d c
                f:f32[] = full[shape=[] dtype=f32 value=0.9]
                g:f32[3,2] = mul f a
                h:f32[] = full[shape=[] dtype=f32 value=0.1]
                i:f32[3,2] = mul h e
                j:f32[3,2] = add g i
                k:f32[3,2] = mul e e
              in (j, k) }
            """,
        """
            { lambda a:f32[3,2] b:f32[100,3] c:f32[100,2]. let
                d:f32[] = full[shape=[] dtype=f32 value=0]
                e:f32[3,2] = gemm[trans_a=true trans_b=false beta=0] b c d
                f:f32[] = full[shape=[] dtype=f32 value=0.9]
                g:f32[3,2] = mul a f
                h:f32[] = full[shape=[] dtype=f32 value=0.1]
                i:f32[3,2] = mul e h
                j:f32[3,2] = add g i
                k:f32[3,2] = mul e e
              in (j, k) }
            """);

    /// <summary>SGD with weight decay, <c>w − 0.125·(xᵀg + 0.5·w)</c>, is one Gemm with β = 1 − 0.125·0.5.</summary>
    [TestMethod]
    public void WeightDecayInsideAnSgdStepMergesIntoTheGemmsC() => Golden(
        Graph.Trace((w, x, g) => w - 0.125 * (x.Transpose().MatMul(g) + 0.5 * w), Aval.F32(3, 2), Aval.F32(4, 3), Aval.F32(4, 2)),
        """
            { lambda a:f32[3,2] b:f32[4,3] c:f32[4,2]. let
                d:f32[3,4] = transpose[perm=(1,0)] b
                e:f32[3,2] = mat_mul d c
                f:f32[] = full[shape=[] dtype=f32 value=0.5]
                g:f32[3,2] = mul f a
                h:f32[3,2] = add e g
                i:f32[] = full[shape=[] dtype=f32 value=0.125]
                j:f32[3,2] = mul i h
                k:f32[3,2] = sub a j
              in (k) }
            """,
        """
            { lambda a:f32[3,2] b:f32[4,3] c:f32[4,2]. let
                d:f32[3,2] = gemm[trans_a=true trans_b=false alpha=-0.125 beta=0.9375] b c a
              in (d) }
            """);

    /// <summary>
    /// A divisor computed as a scalar (a bias correction) moves out of a quotient and meets the learning rate:
    /// <c>(m/s)/d·0.5</c> is <c>(m/d)·(0.5/s)</c>, and 0.5/s is one node that every parameter shares.
    /// </summary>
    [TestMethod]
    public void AScalarDivisorMovesOutwardAndMeetsAConstantFactor() => Golden(
        Graph.Trace(a => [a[0] / a[2] / a[1] * 0.5, a[3] / a[2] / a[1] * 0.5], Aval.F64(3, 2), Aval.F64(3, 2), Aval.F64(), Aval.F64(3, 2)),
        """
            { lambda a:f64[3,2] b:f64[3,2] c:f64[] d:f64[3,2]. let
                e:f64[3,2] = div a c
                f:f64[3,2] = div e b
                g:f64[] = full[shape=[] dtype=f64 value=0.5]
                h:f64[3,2] = mul f g
                i:f64[3,2] = div d c
                j:f64[3,2] = div i b
                k:f64[] = full[shape=[] dtype=f64 value=0.5]
                l:f64[3,2] = mul j k
              in (h, l) }
            """,
        """
            { lambda a:f64[3,2] b:f64[3,2] c:f64[] d:f64[3,2]. let
                e:f64[3,2] = div a b
                f:f64[] = full[shape=[] dtype=f64 value=0.5]
                g:f64[] = div f c
                h:f64[3,2] = mul e g
                i:f64[3,2] = div d b
                j:f64[3,2] = mul i g
              in (h, j) }
            """);

    /// <summary>Decoupled weight decay, <c>x − 0.5·(y + 0.25·x)</c>, is <c>x·0.875 − y·0.5</c> (one node less); <c>x + (x·0.125 + y)·0.5</c> likewise.</summary>
    [TestMethod]
    public void DecoupledWeightDecayFoldsIntoTheKeptFactor() => Golden(
        Graph.Trace(a => [a[0] - 0.5 * (a[1] + 0.25 * a[0]), a[0] + (a[0] * 0.125 + a[1]) * 0.5], Aval.F64(3, 2), Aval.F64(3, 2)),
        """
            { lambda a:f64[3,2] b:f64[3,2]. let
                c:f64[] = full[shape=[] dtype=f64 value=0.25]
                d:f64[3,2] = mul c a
                e:f64[3,2] = add b d
                f:f64[] = full[shape=[] dtype=f64 value=0.5]
                g:f64[3,2] = mul f e
                h:f64[3,2] = sub a g
                i:f64[] = full[shape=[] dtype=f64 value=0.125]
                j:f64[3,2] = mul a i
                k:f64[3,2] = add j b
                l:f64[] = full[shape=[] dtype=f64 value=0.5]
                m:f64[3,2] = mul k l
                n:f64[3,2] = add a m
              in (h, n) }
            """,
        """
            { lambda a:f64[3,2] b:f64[3,2]. let
                c:f64[] = full[shape=[] dtype=f64 value=0.5]
                d:f64[] = full[shape=[] dtype=f64 value=0.875]
                e:f64[3,2] = mul a d
                f:f64[3,2] = mul b c
                g:f64[3,2] = sub e f
                h:f64[] = full[shape=[] dtype=f64 value=1.0625]
                i:f64[3,2] = mul a h
                j:f64[3,2] = add i f
              in (g, j) }
            """);
    /// <summary>
    /// A transpose of a leading-axis split of a transpose that keeps axis 0 first is one transpose of the split source:
    /// ConvGeneral's kernel gradient takes gᵀ in two batch halves of a channels-last cotangent.
    /// </summary>
    [TestMethod]
    public void ATransposeOfASplitTransposeIsOneTranspose() => Golden(
        Graph.Trace(x => x.Transpose(0, 3, 1, 2).Reshape(2, 2, 5, 2, 3).Transpose(0, 2, 1, 3, 4), Aval.F64(4, 2, 3, 5)),
        """
            { lambda a:f64[4,2,3,5]. let
                b:f64[4,5,2,3] = transpose[perm=(0,3,1,2)] a
                c:f64[2,2,5,2,3] = reshape[new_shape=[2,2,5,2,3]] b
                d:f64[2,5,2,2,3] = transpose[perm=(0,2,1,3,4)] c
              in (d) }
            """,
        """
            { lambda a:f64[4,2,3,5]. let
                b:f64[2,2,2,3,5] = reshape[new_shape=[2,2,2,3,5]] a
                c:f64[2,5,2,2,3] = transpose[perm=(0,4,1,2,3)] b
              in (c) }
            """);
    /// <summary>A concatenation of a concatenation along the same axis is one; along another axis, or read twice, it stays.</summary>
    [TestMethod]
    public void AConcatenationOfAConcatenationIsOne() => Golden(
        Graph.Trace(a =>
        {
            var inner = Tensor.Concat(0, a[0], a[1]);
            var shared = Tensor.Concat(0, a[1], a[0]);
            return [Tensor.Concat(0, inner, a[0]), Tensor.Concat(1, Tensor.Concat(0, a[0], a[0]), Tensor.Concat(0, a[1], a[1])), Tensor.Concat(0, shared, a[1]) + Tensor.Concat(0, shared, a[0])];
        }, Aval.F64(2, 1), Aval.F64(2, 1)),
        """
            { lambda a:f64[2,1] b:f64[2,1]. let
                c:f64[4,1] = concat[axis=0] a b
                d:f64[4,1] = concat[axis=0] b a
                e:f64[6,1] = concat[axis=0] c a
                f:f64[4,1] = concat[axis=0] a a
                g:f64[4,1] = concat[axis=0] b b
                h:f64[4,2] = concat[axis=1] f g
                i:f64[6,1] = concat[axis=0] d b
                j:f64[6,1] = concat[axis=0] d a
                k:f64[6,1] = add i j
              in (e, h, k) }
            """,
        """
            { lambda a:f64[2,1] b:f64[2,1]. let
                c:f64[4,1] = concat[axis=0] b a
                d:f64[6,1] = concat[axis=0] a b a
                e:f64[4,1] = concat[axis=0] a a
                f:f64[4,1] = concat[axis=0] b b
                g:f64[4,2] = concat[axis=1] e f
                h:f64[6,1] = concat[axis=0] c b
                i:f64[6,1] = concat[axis=0] c a
                j:f64[6,1] = add h i
              in (d, g, j) }
            """);
}
