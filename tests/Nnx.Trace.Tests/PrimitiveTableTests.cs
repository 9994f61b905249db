using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// The conformance table (<see cref="PrimitiveCases"/>) against each primitive's own rules: the shape rule
/// agrees with the reference evaluation, the table covers every primitive and every dtype it accepts.
/// </summary>
[TestClass]
public sealed class PrimitiveTableTests
{
    /// <summary>One test row per primitive of <see cref="OpRegistry.All"/>.</summary>
    public static IEnumerable<object[]> Primitives => OpRegistry.All.Select(p => new object[] { p.Name });

    [TestMethod]
    [DynamicData(nameof(Primitives))]
    public void EvalGivesTheAvalThatInferPredicts(string primitive)
    {
        var cases = PrimitiveCases.For(primitive);
        cases.Should().NotBeEmpty("every primitive of OpRegistry.All needs rows in the conformance table");
        foreach (var c in cases)
        {
            var inferred = c.Op.InferChecked(c.Avals);
            var result = c.Op.Eval(c.Inputs);
            result.Aval.Should().Be(inferred, c.ToString());
            // Every stored value is exactly representable in the dtype: the bytes read back to the same array.
            HostArray.FromBytes(result.DType, result.Shape, result.ToBytes()).Should().Be(result, c.ToString());
        }
    }

    [TestMethod]
    [DynamicData(nameof(Primitives))]
    public void TableCoversExactlyTheDTypesTheShapeRuleAccepts(string primitive)
    {
        var cases = PrimitiveCases.For(primitive);
        var first = cases[0];
        HashSet<DType> covered, accepted;
        if (first.Inputs.Length == 0)
        {
            covered = [.. cases.Select(c => c.Op.Infer([]).DType)];
            accepted = [.. PrimitiveCases.AllDTypes.Where(t => Accepts(Retyped(first.Op, t), []))];
        }
        else
        {
            var data = PrimitiveCases.DataOperands(first.Op, first.Inputs.Length);
            covered = [.. cases.Select(c => c.Avals[data[0]].DType)];
            accepted = [.. PrimitiveCases.AllDTypes.Where(t => Accepts(first.Op, [.. first.Avals.Select((a, i) => data.Contains(i) ? a with { DType = t } : a)]))];
        }
        covered.Should().BeEquivalentTo(accepted, $"the table for {primitive} should run every dtype its shape rule accepts, and only those");
    }

    [TestMethod]
    public void EveryPrimitiveTypeIsRegisteredOnceAndTheTableUsesNoOther()
    {
        var registered = OpRegistry.All.Select(p => p.GetType()).ToList();
        registered.Should().OnlyHaveUniqueItems();
        var defined = typeof(Primitive).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Primitive)) && !t.IsAbstract);
        registered.Should().BeEquivalentTo(defined, "a primitive not in OpRegistry.All is not conformance-tested");
        PrimitiveCases.All.Select(c => c.Op.GetType()).Distinct().Should().BeSubsetOf(registered);
    }

    [TestMethod]
    public void AnElementwisePrimitiveWithNoOnnxOperatorOfItsOwnLowersItself()
    {
        var onnxOp = typeof(Unary).GetProperty("OnnxOp", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
        var binaryOnnxOp = typeof(Binary).GetProperty("OnnxOp", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
        var ownLowering = new List<string>();
        foreach (var op in OpRegistry.All.Where(p => p is Unary or Binary))
        {
            var name = (string?)(op is Unary ? onnxOp : binaryOnnxOp).GetValue(op);
            var lowers = op.GetType().GetMethod(nameof(Primitive.Lower))!.DeclaringType == op.GetType();
            (name is not null || lowers).Should().BeTrue($"{op.Name} names no ONNX operator, so it must override Lower");
            if (name is null) ownLowering.Add(op.Name);
        }
        ownLowering.Should().Contain(["rsqrt", "stop_gradient"], "they emit Reciprocal(Sqrt) and nothing, not an operator named after them");
    }

    private static bool Accepts(Primitive op, Aval[] avals)
    {
        try
        {
            op.InferChecked(avals);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>A creation primitive that makes dtype <paramref name="t"/>.</summary>
    private static Primitive Retyped(Primitive op, DType t) => op switch
    {
        Literal => new Literal(HostArray.Zeros(t, Shape.Of(2))),
        Full f => f with { DType = t },
        Iota i => i with { DType = t },
        _ => throw new NotSupportedException($"{op.Name} has operands; retype those instead."),
    };
}
