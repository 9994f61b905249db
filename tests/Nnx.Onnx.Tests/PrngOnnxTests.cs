using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// The generator on ONNX Runtime: eager draws equal the reference interpreter's bit for bit, and a traced
/// (jitted) function of the key gives exactly the eager numbers, the random ones included.
/// </summary>
[TestClass]
public sealed class PrngOnnxTests
{
    private static readonly Aval KeyAval = new(Shape.Of(2), DType.UInt32);

    /// <summary>Several draws from one key, each from its own subkey, as a training step would make them.</summary>
    internal static Tensor[] Draws(Tensor key)
    {
        var keys = Prng.SplitKeys(key, 4);
        return
        [
            Prng.Bits(keys[0], 1000),
            Prng.Uniform(keys[1], [8, 16], minval: -2, maxval: 3),
            Prng.Normal(keys[2], [300]),
            Prng.Bernoulli(keys[3], 0.25, 50),
            Prng.TruncatedNormal(Prng.FoldIn(key, 7), -1, 2, [64]),
            Prng.Split(key, 3),
        ];
    }

    [TestMethod]
    public void EagerDrawsOnOnnxRuntimeEqualTheReferenceInterpreter()
    {
        var key = Prng.Key(2024);
        key.DeviceBuffer.Backend.Should().BeSameAs(OrtBackend.Cpu);
        var eager = Draws(key);

        var graph = Graph.Trace(k => Draws(k[0]), KeyAval);
        var reference = ReferenceBackend.Evaluate(graph, [key.ToHost()]);

        for (var i = 0; i < eager.Length; i++)
        {
            if (eager[i].DType == DType.Float32 && i is 2 or 4)
            {
                // Log and Sqrt in ONNX Runtime may differ from the correctly rounded reference in the last bit.
                var (a, b) = (eager[i].ToArray<float>(), reference[i].ToArray<float>());
                for (var j = 0; j < a.Length; j++) a[j].Should().BeApproximately(b[j], 4e-6f * Math.Max(1, Math.Abs(b[j])), $"draw {i}, element {j}");
            }
            else
                eager[i].ToHost().ToBytes().Should().Equal(reference[i].ToBytes(), $"draw {i} ({eager[i].Aval})");
        }
    }

    [TestMethod]
    public void JittedDrawsEqualEagerDrawsBitForBit()
    {
        var key = Prng.Key(31337);
        var eager = Draws(key);

        var graph = Graph.Trace(k => Draws(k[0]), KeyAval);
        using var exe = OrtBackend.Cpu.Compile(graph);
        var jitted = exe.Run([key.DeviceBuffer]);

        jitted.Should().HaveCount(eager.Length);
        for (var i = 0; i < eager.Length; i++)
            OrtBackend.Cpu.Download(jitted[i]).ToBytes().Should().Equal(eager[i].ToHost().ToBytes(), $"draw {i} ({eager[i].Aval})");
    }

    [TestMethod]
    public void DrawsThroughJitPureEqualEagerDrawsBitForBit()
    {
        var key = Prng.Key(7);
        var eager = Draws(key);
        var step = Jit.Pure((Tensor k) => Draws(k));
        var jitted = step(key);
        for (var i = 0; i < eager.Length; i++)
            jitted[i].ToHost().ToBytes().Should().Equal(eager[i].ToHost().ToBytes(), $"draw {i} ({eager[i].Aval})");
        step.CompileStats()!.OptimizedNodes.Should().BeLessThan(step.CompileStats()!.TracedNodes, "the passes fold the counters");
    }

    [TestMethod]
    public void UniformOnOnnxRuntimeMatchesJax()
    {
        // docs/jep/9263-typed-keys.md in jax-ml/jax: jax.random.uniform(jax.random.key(0), shape=(3,))
        Prng.Uniform(Prng.Key(0), [3]).ToArray<float>().Should().Equal(0.947667f, 0.9785799f, 0.33229148f);
        // Random123 / JAX testThreefry2x32: key (0x13198a2e, 0x03707344), counter (0x243f6a88, 0x85a308d3).
        var (y0, y1) = Threefry.Hash(Tensor.FromArray([0x13198a2eu]), Tensor.FromArray([0x03707344u]),
            Tensor.FromArray([0x243f6a88u]), Tensor.FromArray([0x85a308d3u]));
        (y0.Item<uint>(), y1.Item<uint>()).Should().Be((0xc4923a9cu, 0x483df7a0u));
    }

    [TestMethod]
    public void BitsOfAThousandValuesLowerToOneThreefryBlock()
    {
        var graph = Graph.Trace(k => Prng.Bits(k, 1024), KeyAval);
        var model = OnnxLowering.ToModel(graph);
        var onnxOps = model.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Console.WriteLine($"bits(1024): {graph.Nodes.Length} IR nodes; {model.Graph.Node.Count} ONNX nodes, {model.Graph.Initializer.Count} initializers: "
            + string.Join(", ", onnxOps.OrderByDescending(p => p.Value).Select(p => $"{p.Key}×{p.Value}")));

        model.Graph.Node.Count.Should().BeLessThan(127, "the rotate is Mul + BitShift + Add and the counters' high words are folded away");
        onnxOps["BitShift"].Should().Be(20);
        onnxOps.Should().NotContainKey("BitwiseOr");
    }
}
