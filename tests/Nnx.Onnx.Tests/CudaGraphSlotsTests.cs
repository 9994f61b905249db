using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// CUDA graphs without a GPU: which captured graph a step call replays (only one captured with exactly its state
/// buffers, so a replay writes only what the caller asked to be written), and that the CPU runs steps as before.
/// </summary>
[TestClass]
public sealed class CudaGraphSlotsTests
{
    [TestMethod]
    public void AnABSwapSettlesOnTwoGraphsAndReplaysThem()
    {
        var slots = new CudaGraphSlots(3);
        object a = new(), b = new(), w = new();
        slots.Pick([a, w], [b], out var isNew).Should().Be(0);
        isNew.Should().BeTrue();
        slots.Pick([b, w], [a], out isNew).Should().Be(1);
        isNew.Should().BeTrue();
        for (var step = 0; step < 4; step++)
        {
            slots.Pick([a, w], [b], out isNew).Should().Be(0);
            slots.Pick([b, w], [a], out var again).Should().Be(1);
            (isNew || again).Should().BeFalse();
        }
        slots.Count.Should().Be(2);
    }

    [TestMethod]
    public void NewStateBuffersCaptureUntilTheLimitThenRunUncaptured()
    {
        var slots = new CudaGraphSlots(2);
        object a = new(), b = new(), c = new();
        slots.Pick([a], [b], out _).Should().Be(0);
        slots.Pick([b], [c], out _).Should().Be(1);
        slots.Pick([c], [b], out var isNew).Should().Be(-1, "a third pair of buffers finds no graph and the limit is reached");
        isNew.Should().BeFalse();
        slots.Pick([a], [c], out _).Should().Be(-1, "graph 0 was captured writing b, not c: replaying it would write b");
        slots.Pick([a], [b], out _).Should().Be(0);
    }

    [TestMethod]
    public void OnTheCpuAStepRunsAsRunIntoAndCapturesNothing()
    {
        var graph = Graph.Trace((Tensor[] x) => [x[0] + 1, x[1] * 2], new Aval(Shape.Of(3), DType.Float32), new Aval(Shape.Of(3), DType.Float32));
        using var exe = OrtBackend.Cpu.Compile(graph);
        var ins = new[] { Tensor.FromArray([1f, 2, 3], 3), Tensor.FromArray([4f, 5, 6], 3) };
        var outs = new[] { OrtBackend.Cpu.Allocate(graph.Outputs[0].Aval), OrtBackend.Cpu.Allocate(graph.Outputs[1].Aval) };
        exe.RunStep([ins[0].DeviceBuffer, ins[1].DeviceBuffer], outs, stateInputs: 1, stateOutputs: 1);
        OrtBackend.Cpu.Download(outs[0]).ToArray<float>().Should().Equal(2f, 3, 4);
        OrtBackend.Cpu.Download(outs[1]).ToArray<float>().Should().Equal(8f, 10, 12);
        ((OrtExecutable)exe).GraphStep.Should().BeNull("CUDA graphs are an option of CUDA devices only");
    }
}
