using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Passes;

namespace NnxSharp.Tests;

/// <summary>
/// Golden IR for the rules of Simplify.Reductions.cs (factors that move out of sums, scalar and vector factors on the
/// smaller operand, products regrouped to reuse one the graph has), each graph also evaluated against the original by
/// the reference backend in float64 (<see cref="SimplifyTests.Golden"/>).
/// </summary>
[TestClass]
public sealed class SimplifyReductionTests
{
    /// <summary>
    /// Σ₀(x ⊙ v) = Σ₀x ⊙ v; Σ₀((z ⊙ v) ⊙ y) = Σ₀(z ⊙ y) ⊙ v although z ⊙ v has another use; a column [4, 1] moves out of
    /// a sum over axis 1 (reshaped to [4]) but not out of one over axis 0, along which it varies.
    /// </summary>
    [TestMethod]
    public void FactorsConstantAlongTheSummedAxisMoveOutOfTheSum() => SimplifyTests.Golden(
        Graph.Trace(a => [(a[0] * a[1]).Sum(0), (a[2] * a[1] * a[3]).Sum(0), a[2] * a[1], (a[4] * a[5]).Sum(1), (a[3] * a[5]).Sum(0)],
            Aval.F64(4, 3), Aval.F64(3), Aval.F64(4, 3), Aval.F64(4, 3), Aval.F64(4, 3), Aval.F64(4, 1)),
        """
            { lambda a:f64[4,3] b:f64[3] c:f64[4,3] d:f64[4,3] e:f64[4,3] f:f64[4,1]. let
                g:f64[4,3] = mul a b
                h:f64[3] = reduce_sum[axes=(0) keep_dims=false] g
                i:f64[4,3] = mul c b
                j:f64[4,3] = mul i d
                k:f64[3] = reduce_sum[axes=(0) keep_dims=false] j
                l:f64[4,3] = mul c b
                m:f64[4,3] = mul e f
                n:f64[4] = reduce_sum[axes=(1) keep_dims=false] m
                o:f64[4,3] = mul d f
                p:f64[3] = reduce_sum[axes=(0) keep_dims=false] o
              in (h, k, l, n, p) }
            """,
        """
            { lambda a:f64[4,3] b:f64[3] c:f64[4,3] d:f64[4,3] e:f64[4,3] f:f64[4,1]. let
                g:f64[3] = reduce_sum[axes=(0) keep_dims=false] a
                h:f64[3] = mul g b
                i:f64[4,3] = mul c b
                j:f64[4,3] = mul c d
                k:f64[3] = reduce_sum[axes=(0) keep_dims=false] j
                l:f64[3] = mul k b
                m:f64[4] = reduce_sum[axes=(1) keep_dims=false] e
                n:f64[4] = reshape[new_shape=[4]] f
                o:f64[4] = mul m n
                p:f64[4,3] = mul d f
                q:f64[3] = reduce_sum[axes=(0) keep_dims=false] p
              in (h, l, i, o, q) }
            """);

    /// <summary>(x ⊙ v).Mean(0), traced as Σ₀(x ⊙ v)·¼, is mean₀(x) ⊙ v: the factor comes out and the ¼ still makes a mean.</summary>
    [TestMethod]
    public void AMeanOfAScaledTensorIsTheScaledMean() => SimplifyTests.Golden(
        Graph.Trace((x, v) => (x * v).Mean(0), Aval.F64(4, 3), Aval.F64(3)),
        """
            { lambda a:f64[4,3] b:f64[3]. let
                c:f64[4,3] = mul a b
                d:f64[3] = reduce_sum[axes=(0) keep_dims=false] c
                e:f64[] = full[shape=[] dtype=f64 value=0.25]
                f:f64[3] = mul d e
              in (f) }
            """,
        """
            { lambda a:f64[4,3] b:f64[3]. let
                c:f64[3] = reduce_mean[axes=(0) keep_dims=false] a
                d:f64[3] = mul c b
              in (d) }
            """);

    /// <summary>
    /// (x ⊙ v)·½ = x ⊙ (v·½); (v·½) ⊙ y keeps the ½ on the vector (the rule that moves a constant outward only takes it from
    /// an operand as large as the product, so the two never loop); (z ⊙ v) ⊙ u = z ⊙ (v ⊙ u); (w·½) ⊙ y, both full, still
    /// moves the ½ outward.
    /// </summary>
    [TestMethod]
    public void ScalarAndVectorFactorsGatherOnTheSmallerOperand() => SimplifyTests.Golden(
        Graph.Trace(a => [a[0] * a[1] * 0.5, a[2] * 0.5 * a[3], a[4] * a[1] * a[2], a[5] * 0.5 * a[3]],
            Aval.F64(4, 3), Aval.F64(3), Aval.F64(3), Aval.F64(4, 3), Aval.F64(4, 3), Aval.F64(4, 3)),
        """
            { lambda a:f64[4,3] b:f64[3] c:f64[3] d:f64[4,3] e:f64[4,3] f:f64[4,3]. let
                g:f64[4,3] = mul a b
                h:f64[] = full[shape=[] dtype=f64 value=0.5]
                i:f64[4,3] = mul g h
                j:f64[] = full[shape=[] dtype=f64 value=0.5]
                k:f64[3] = mul c j
                l:f64[4,3] = mul k d
                m:f64[4,3] = mul e b
                n:f64[4,3] = mul m c
                o:f64[] = full[shape=[] dtype=f64 value=0.5]
                p:f64[4,3] = mul f o
                q:f64[4,3] = mul p d
              in (i, l, n, q) }
            """,
        """
            { lambda a:f64[4,3] b:f64[3] c:f64[3] d:f64[4,3] e:f64[4,3] f:f64[4,3]. let
                g:f64[] = full[shape=[] dtype=f64 value=0.5]
                h:f64[3] = mul b g
                i:f64[4,3] = mul a h
                j:f64[3] = mul c g
                k:f64[4,3] = mul j d
                l:f64[3] = mul b c
                m:f64[4,3] = mul e l
                n:f64[4,3] = mul f d
                o:f64[4,3] = mul n g
              in (i, k, m, o) }
            """);

    /// <summary>(a ⊙ b) ⊙ c = (a ⊙ c) ⊙ b when a ⊙ c is already computed: one product less.</summary>
    [TestMethod]
    public void AProductRegroupsToReuseOneTheGraphHas() => SimplifyTests.Golden(
        Graph.Trace(a => [a[0] * a[2], a[0] * a[1] * a[2]], Aval.F64(3), Aval.F64(3), Aval.F64(3)),
        """
            { lambda a:f64[3] b:f64[3] c:f64[3]. let
                d:f64[3] = mul a c
                e:f64[3] = mul a b
                f:f64[3] = mul e c
              in (d, f) }
            """,
        """
            { lambda a:f64[3] b:f64[3] c:f64[3]. let
                d:f64[3] = mul a c
                e:f64[3] = mul d b
              in (d, e) }
            """);

    /// <summary>
    /// BatchNorm's scale update γ − ½·Σ₀(∂y ⊙ ((x − μ) ⊙ r)) next to Σ₀(∂y ⊙ (x − μ)): the update takes r ⊙ that sum (one
    /// sum, no second pass over [4, 3]) instead of becoming a Gemm of a row with ∂y ⊙ x̂.
    /// </summary>
    [TestMethod]
    public void AScaleGradientReusesTheSumOfTheCenteredProduct() => SimplifyTests.Golden(
        Graph.Trace(a => { var c = a[2] - a[2].Mean(0); return [a[0] - 0.5 * (a[1] * (c * a[3])).Sum(0), (a[1] * c).Sum(0)]; },
            Aval.F64(3), Aval.F64(4, 3), Aval.F64(4, 3), Aval.F64(3)),
        """
            { lambda a:f64[3] b:f64[4,3] c:f64[4,3] d:f64[3]. let
                e:f64[3] = reduce_sum[axes=(0) keep_dims=false] c
                f:f64[] = full[shape=[] dtype=f64 value=0.25]
                g:f64[3] = mul e f
                h:f64[4,3] = sub c g
                i:f64[4,3] = mul h d
                j:f64[4,3] = mul b i
                k:f64[3] = reduce_sum[axes=(0) keep_dims=false] j
                l:f64[] = full[shape=[] dtype=f64 value=0.5]
                m:f64[3] = mul l k
                n:f64[3] = sub a m
                o:f64[4,3] = mul b h
                p:f64[3] = reduce_sum[axes=(0) keep_dims=false] o
              in (n, p) }
            """,
        """
            { lambda a:f64[3] b:f64[4,3] c:f64[4,3] d:f64[3]. let
                e:f64[3] = reduce_mean[axes=(0) keep_dims=false] c
                f:f64[4,3] = sub c e
                g:f64[4,3] = mul f b
                h:f64[3] = reduce_sum[axes=(0) keep_dims=false] g
                i:f64[3] = mul h d
                j:f64[] = full[shape=[] dtype=f64 value=0.5]
                k:f64[3] = mul i j
                l:f64[3] = sub a k
              in (l, h) }
            """);

    /// <summary>x + Σ₀x·(−¼) over 4 rows is x − mean₀(x) (the reverse pass of a subtracted mean); x − Σ₀x·(−¼) is x + mean₀(x).</summary>
    [TestMethod]
    public void ASumTimesMinusOneOverNAddedIsAMeanSubtracted() => SimplifyTests.Golden(
        Graph.Trace(a => [a[0] + a[0].Sum(0) * -0.25, a[1] - a[1].Sum(0) * -0.25], Aval.F64(4, 3), Aval.F64(4, 3)),
        """
            { lambda a:f64[4,3] b:f64[4,3]. let
                c:f64[3] = reduce_sum[axes=(0) keep_dims=false] a
                d:f64[] = full[shape=[] dtype=f64 value=-0.25]
                e:f64[3] = mul c d
                f:f64[4,3] = add a e
                g:f64[3] = reduce_sum[axes=(0) keep_dims=false] b
                h:f64[] = full[shape=[] dtype=f64 value=-0.25]
                i:f64[3] = mul g h
                j:f64[4,3] = sub b i
              in (f, j) }
            """,
        """
            { lambda a:f64[4,3] b:f64[4,3]. let
                c:f64[3] = reduce_mean[axes=(0) keep_dims=false] a
                d:f64[4,3] = sub a c
                e:f64[3] = reduce_mean[axes=(0) keep_dims=false] b
                f:f64[4,3] = add b e
              in (d, f) }
            """);
}
