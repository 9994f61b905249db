using System.Collections.Immutable;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Tests;

/// <summary>
/// The IR verifier catches graphs that break the invariants. Such graphs are built with the internal
/// constructors; in Debug builds the Graph constructor already verifies, so each check builds and verifies
/// in one step and holds in both configurations.
/// </summary>
[TestClass]
public sealed class GraphVerifierTests
{
    private static Action Verifying(ImmutableArray<Value> inputs, ImmutableArray<Node> nodes, ImmutableArray<Value> outputs) =>
        () => new Graph(inputs, nodes, outputs).Verify();

    [TestMethod]
    public void AcceptsATracedGraph()
    {
        var g = Graph.Trace((x, w) => (x.MatMul(w) + 1.0).Relu().Sum(axis: 0), Aval.F32(4, 2), Aval.F32(2, 3));
        g.Invoking(x => x.Verify()).Should().NotThrow();
    }

    [TestMethod]
    public void CatchesANodeWhoseRecordedOutputAvalIsWrong()
    {
        var (a, b) = (new Value(Aval.F32(3)), new Value(Aval.F32(3)));
        var node = new Node(new Add(), [a, b], new Value(Aval.F32(4)));
        Verifying([a, b], [node], [node.Output]).Should().Throw<InvalidOperationException>()
            .WithMessage("IR verifier: node 0 (add) has output f32[4] but its shape rule gives f32[3].");
    }

    [TestMethod]
    public void WithInvariantsCheckedEveryGraphIsVerifiedWhenItIsMade()
    {
        // The test assemblies turn the checks on (TestSetup), so every graph a test or a pass makes is verified,
        // in Release builds too; without the switch this construction would succeed silently in Release.
        Invariants.Checked.Should().BeTrue();
        var (a, b) = (new Value(Aval.F32(3)), new Value(Aval.F32(3)));
        var node = new Node(new Add(), [a, b], new Value(Aval.F32(4)));
        FluentActions.Invoking(() => new Graph([a, b], [node], [node.Output])).Should().Throw<InvalidOperationException>()
            .WithMessage("IR verifier: node 0 (add)*");
    }

    [TestMethod]
    public void CatchesAWrongOutputDType()
    {
        var a = new Value(Aval.F32(2));
        var node = new Node(new Cast(DType.Int32), [a], new Value(Aval.Of(DType.Int64, 2)));
        Verifying([a], [node], [node.Output]).Should().Throw<InvalidOperationException>().WithMessage("*has output i64[2] but its shape rule gives i32[2]*");
    }

    [TestMethod]
    public void CatchesANodeWhoseOperandsNoLongerFitItsShapeRule()
    {
        var (a, b) = (new Value(Aval.F32(3, 4)), new Value(Aval.F32(5)));
        var node = new Node(new Add(), [a, b], new Value(Aval.F32(3, 4)));
        Verifying([a, b], [node], [node.Output]).Should().Throw<ArgumentException>().WithMessage("add: cannot broadcast*");
    }

    [TestMethod]
    public void CatchesAnOperandUsedBeforeItIsDefined()
    {
        var a = new Value(Aval.F32(3));
        var first = Node.Create(new Exp(), [a]);
        var second = Node.Create(new Neg(), [first.Output]);
        Verifying([a], [second, first], [first.Output]).Should().Throw<InvalidOperationException>()
            .WithMessage("IR verifier: node 0 (neg) uses operand 0 before it is defined.");
    }

    [TestMethod]
    public void CatchesAValueDefinedTwice()
    {
        var a = new Value(Aval.F32(3));
        var node = Node.Create(new Exp(), [a]);
        Verifying([a], [node, node], [node.Output]).Should().Throw<InvalidOperationException>()
            .WithMessage("IR verifier: node 1 (exp) redefines a value.");
        Verifying([a, a], [], [a]).Should().Throw<InvalidOperationException>().WithMessage("*graph input is listed twice*");
    }

    [TestMethod]
    public void CatchesAnOutputThatIsNotDefined()
    {
        var a = new Value(Aval.F32(3));
        var stray = new Value(Aval.F32(3));
        Verifying([a], [], [a, stray]).Should().Throw<InvalidOperationException>()
            .WithMessage("IR verifier: output 1 is not defined in the graph.");
    }
}
