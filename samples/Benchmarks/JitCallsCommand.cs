using System.Diagnostics;
using System.Globalization;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>jitcalls</c>: what one cached call of a jitted function costs, per argument kind (notes/jit.md, issue 16):
/// managed bytes allocated (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) and µs per call, for a trivial
/// step (one small add) so that the wrapper's cost is what is measured. The cases run alternating, in rounds.
/// <code>dotnet run -c Release --project samples/Benchmarks -- jitcalls [--calls 20000] [--rounds 3]</code>
/// </summary>
public static class JitCallsCommand
{
    /// <summary>A static enum argument.</summary>
    public enum Op
    {
        /// <summary>Adds.</summary>
        Add,
        /// <summary>Subtracts.</summary>
        Sub,
    }

    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var calls = 20000;
        var rounds = 3;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--calls": calls = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine("usage: jitcalls [--calls N] [--rounds R]"); return 1;
            }
        }
        var cases = Cases();
        Console.WriteLine($"# jitcalls: {calls} cached calls per case and round, {rounds} rounds; load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var bytes = new double[cases.Length, rounds];
        var us = new double[cases.Length, rounds];
        foreach (var (_, call) in cases)
            for (var i = 0; i < 200; i++) call();
        for (var r = 0; r < rounds; r++)
            for (var c = 0; c < cases.Length; c++)
                (bytes[c, r], us[c, r]) = Measure(cases[c].Call, calls);
        for (var c = 0; c < cases.Length; c++)
        {
            var b = Enumerable.Range(0, rounds).Select(r => bytes[c, r]).Min();
            var t = Enumerable.Range(0, rounds).Select(r => us[c, r]).Order().ElementAt(rounds / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {cases[c].Name,-34} {b,8:F1} bytes/call {t,8:F2} µs/call"));
        }
        return 0;
    }

    private static (double Bytes, double Us) Measure(Action call, int calls)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < calls; i++) call();
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        return ((GC.GetAllocatedBytesForCurrentThread() - before) / (double)calls, elapsed / calls);
    }

    private static (string Name, Action Call)[] Cases()
    {
        var model = new UniformLinear(4, 4, new Rngs(0));
        var x = Tensor.Ones(8, 4);
        var x2 = Tensor.Ones(8, 4);
        var xs = new[] { x, x2 };
        var dict = new Dictionary<string, Tensor> { ["a"] = x, ["b"] = x2 };
        var plain = Nnx.Jit((UniformLinear m, Tensor x) => { m.B.Value = m.B.Value + x.Mean(axis: 0); });
        var withInt = Nnx.Jit((UniformLinear m, Tensor x, int k) => { m.B.Value = m.B.Value + x.Mean(axis: 0) * k; });
        var withFloat = Nnx.Jit((UniformLinear m, Tensor x, float s) => { m.B.Value = m.B.Value + x.Mean(axis: 0) * s; });
        var withEnum = Nnx.Jit((UniformLinear m, Tensor x, Op op) =>
        {
            m.B.Value = op == Op.Add ? m.B.Value + x.Mean(axis: 0) : m.B.Value - x.Mean(axis: 0);
        });
        var withTuple = Nnx.Jit((UniformLinear m, (Tensor A, Tensor B) t) => { m.B.Value = m.B.Value + t.A.Mean(axis: 0) + t.B.Mean(axis: 0); });
        var withArray = Nnx.Jit((UniformLinear m, Tensor[] t) => { m.B.Value = m.B.Value + t[0].Mean(axis: 0) + t[1].Mean(axis: 0); });
        var withDict = Nnx.Jit((UniformLinear m, Dictionary<string, Tensor> d) => { m.B.Value = m.B.Value + d["a"].Mean(axis: 0) + d["b"].Mean(axis: 0); });
        var withResult = Nnx.Jit((UniformLinear m, Tensor x) => x.MatMul(m.W).Mean());
        var pure = Jit.Pure((Tensor a, Tensor b) => a + b);
        var pureStatic = Jit.Pure((Tensor a, Tensor b, int k) => a + b * k);
        var (def, state) = Nnx.Split(model);
        var manual = Jit.Pure((GraphDef g, State s, Tensor x) =>
        {
            var m = Nnx.Merge<UniformLinear>(g, s);
            m.B.Value = m.B.Value + x.Mean(axis: 0);
            return Nnx.Split(m).State;
        }, donate: 1);
        var manualModel = new UniformLinear(4, 4, new Rngs(0));
        var (manualDef, manualState) = Nnx.Split(manualModel);
        return
        [
            ("Nnx.Jit modules + tensor", () => plain(model, x)),
            ("Nnx.Jit + static int", () => withInt(model, x, 3)),
            ("Nnx.Jit + static float", () => withFloat(model, x, 0.5f)),
            ("Nnx.Jit + static enum", () => withEnum(model, x, Op.Sub)),
            ("Nnx.Jit + tuple of tensors", () => withTuple(model, (x, x2))),
            ("Nnx.Jit + array of tensors", () => withArray(model, xs)),
            ("Nnx.Jit + dictionary of tensors", () => withDict(model, dict)),
            ("Nnx.Jit returning a tensor", () => withResult(model, x)),
            ("Jit.Pure (a, b) → tensor", () => pure(x, x2)),
            ("Jit.Pure (a, b, static int)", () => pureStatic(x, x2, 2)),
            ("Jit.Pure split/merge, donated", () => manualState = manual(manualDef, manualState, x)),
        ];
    }
}
