using System.Text.Json;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Ir;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>Gradients on ONNX Runtime: eager float32, and traced gradients lowered to one ONNX graph.</summary>
[TestClass]
public sealed class AutodiffOnOrtTests
{
    private static readonly JsonElement Mlp = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference_gradients.json"))).RootElement.GetProperty("mlp_mse");

    private static float[] Data(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    private static Tensor F32(JsonElement t) => Tensor.FromArray(Data(t), t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());

    private static Tensor Input(string name) => F32(Mlp.GetProperty("inputs").GetProperty(name));

    private static Tensor Loss(Tensor x, Tensor y, Tensor w1, Tensor b1, Tensor w2, Tensor b2) =>
        ((x.MatMul(w1) + b1).Relu().MatMul(w2) + b2 - y).Square().Mean();

    private static void ShouldBeClose(Tensor actual, float[] expected, float tol, string what)
    {
        var a = actual.ToArray<float>();
        a.Should().HaveSameCount(expected);
        for (var k = 0; k < a.Length; k++)
            Math.Abs(a[k] - expected[k]).Should().BeLessThanOrEqualTo(tol * (1 + Math.Abs(expected[k])), "{0}[{1}]: {2} vs {3}", what, k, a[k], expected[k]);
    }

    [TestMethod]
    public void EagerFloat32GradientsOnOrtMatchPyTorch()
    {
        var (x, y) = (Input("x"), Input("y"));
        var (loss, (gw1, gb1)) = Autodiff.ValueAndGrad((Tensor w1, Tensor b1) => Loss(x, y, w1, b1, Input("w2"), Input("b2")))(Input("w1"), Input("b1"));

        loss.DeviceBuffer.Backend.Should().BeSameAs(OrtBackend.Cpu);
        ShouldBeClose(loss, [(float)Mlp.GetProperty("loss").GetDouble()], 1e-5f, "loss");
        ShouldBeClose(gw1, Data(Mlp.GetProperty("grads").GetProperty("w1")), 1e-5f, "w1");
        ShouldBeClose(gb1, Data(Mlp.GetProperty("grads").GetProperty("b1")), 1e-5f, "b1");
    }

    [TestMethod]
    public void TracedGradientLowersToOnnxAndRunsOnOrt()
    {
        string[] names = ["x", "y", "w1", "b1", "w2", "b2"];
        var inputs = names.Select(Input).ToArray();
        var graph = Graph.Trace(a =>
        {
            var (l, g) = Autodiff.ValueAndGrad(((Tensor W1, Tensor B1, Tensor W2, Tensor B2) p) => Loss(a[0], a[1], p.W1, p.B1, p.W2, p.B2))((a[2], a[3], a[4], a[5]));
            return [l, g.W1, g.B1, g.W2, g.B2];
        }, [.. inputs.Select(t => t.Aval)]);

        using var exe = OrtBackend.Cpu.Compile(graph);
        var outs = exe.Run(inputs.Select(t => t.DeviceBuffer).ToArray()).Select(b => new Tensor(b)).ToArray();

        ShouldBeClose(outs[0], [(float)Mlp.GetProperty("loss").GetDouble()], 1e-5f, "loss");
        for (var i = 0; i < 4; i++)
            ShouldBeClose(outs[i + 1], Data(Mlp.GetProperty("grads").GetProperty(names[i + 2])), 1e-5f, names[i + 2]);
    }

    [TestMethod]
    public void TracedSecondOrderGradientRunsOnOrt()
    {
        var d2 = Autodiff.Grad(Autodiff.Grad(a => (a * a * a.Tanh()).Sum()));
        var graph = Graph.Trace(x => d2(x), Aval.F32());
        using var exe = OrtBackend.Cpu.Compile(graph);
        var x0 = Tensor.Scalar(0.6f);
        var onOrt = new Tensor(exe.Run([x0.DeviceBuffer])[0]).Item<float>();

        // d²/dx² x² tanh x = 2 tanh x + 4x sech² x − 2x² tanh x sech² x.
        double x = 0.6, t = Math.Tanh(x), s2 = 1 - t * t;
        var exact = 2 * t + 4 * x * s2 - 2 * x * x * t * s2;
        onOrt.Should().BeApproximately((float)exact, 1e-5f);
        d2(x0).Item<float>().Should().BeApproximately((float)exact, 1e-5f);
    }
}
