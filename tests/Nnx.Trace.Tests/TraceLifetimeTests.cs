using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;

namespace NnxSharp.Tests;

/// <summary>A symbolic tensor lives only as long as its trace: using it afterwards is a clear error.</summary>
[TestClass]
public sealed class TraceLifetimeTests
{
    private static Tensor Escaped()
    {
        Tensor? leaked = null;
        Graph.Trace(x =>
        {
            leaked = x.Exp();
            return leaked;
        }, Aval.F32(3));
        return leaked!;
    }

    [TestMethod]
    public void UsingASymbolicTensorAfterItsTraceEndedThrows()
    {
        var leaked = Escaped();
        leaked.IsSymbolic.Should().BeTrue();
        leaked.Invoking(t => t.Neg()).Should().Throw<InvalidOperationException>()
            .WithMessage("neg: a symbolic tensor f32[3] was used after its trace ended*");
        leaked.Invoking(t => t + t).Should().Throw<InvalidOperationException>().WithMessage("*after its trace ended*");
    }

    [TestMethod]
    public void UsingASymbolicTensorOfAnEndedTraceInANewTraceThrows()
    {
        var leaked = Escaped();
        var act = () => Graph.Trace(y => y + leaked, Aval.F32(3));
        act.Should().Throw<InvalidOperationException>().WithMessage("*f32[3] was used after its trace ended*");
    }

    [TestMethod]
    public void UsingAnOuterTracesTensorInANestedTraceThrows()
    {
        var act = () => Graph.Trace(x =>
        {
            Graph.Trace(y => y + x, Aval.F32(3));
            return x;
        }, Aval.F32(3));
        act.Should().Throw<InvalidOperationException>().WithMessage("*enclosing trace*nested trace*");
    }

    [TestMethod]
    public void ReadingTheValuesOfASymbolicTensorThrows()
    {
        var leaked = Escaped();
        leaked.Invoking(t => t.ToArray<float>()).Should().Throw<InvalidOperationException>().WithMessage("*symbolic tensor f32[3]*");
        leaked.ToString().Should().Be("Tensor(f32[3], symbolic)");
    }
}
