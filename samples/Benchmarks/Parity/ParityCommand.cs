using System.Globalization;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>parity</c>: the same training on the CPU and on another device (CUDA), side by side in one process. Trains
/// the seed's model (SimpleTraining: BatchNorm, Dropout from Rngs, Adam) and the benchmark's MLP (SGD) for
/// <c>--steps</c> steps from the same seed and batches on both devices and compares every step's loss (relative
/// difference, TF32 off unless <c>--tf32</c>); draws random bits eagerly and in a jitted function on both and
/// compares them bit for bit. Prints <c>RESULT parity …</c> lines; exits 1 when a check fails.
/// <code>Benchmarks parity [--device cuda|cuda:N|cpu] [--steps 50] [--tolerance 1e-5] [--tf32] [--cuda-graphs]</code>
/// With <c>--device cpu</c> both sides are the CPU, which proves the comparison itself.
/// </summary>
public static class ParityCommand
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var (deviceName, steps, tolerance, tf32, graphs) = ("cuda", 50, 1e-5, false, false);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--device": deviceName = Next(); break;
                case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--tolerance": tolerance = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--tf32": tf32 = true; break;
                case "--cuda-graphs": graphs = true; break;
                default: throw new ArgumentException($"parity: unknown option {args[i]}");
            }
        }
        Device Other()
        {
            if (deviceName == "cpu") return Device.Cpu;
            var id = deviceName == "cuda" ? 0 : int.Parse(deviceName.Split(':')[1], CultureInfo.InvariantCulture);
            return Device.Cuda(id, options: new CudaOptions { AllowTf32 = tf32, CudaGraphs = graphs });
        }

        var ok = true;
        foreach (var (name, train) in new (string, Func<int, float[]>)[] { ("seed", SeedLosses), ("mlp", MlpLosses) })
        {
            var onCpu = train(steps);
            float[] onDevice;
            using (Other()) onDevice = train(steps);
            var worst = 0.0;
            var at = 0;
            for (var k = 0; k < steps; k++)
            {
                var rel = Math.Abs(onDevice[k] - onCpu[k]) / Math.Max(Math.Abs(onCpu[k]), 1e-30);
                if (rel > worst) (worst, at) = (rel, k);
            }
            var pass = worst <= tolerance && onDevice.All(float.IsFinite);
            ok &= pass;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT parity model={name} device={deviceName} steps={steps} tf32={(tf32 ? 1 : 0)} cuda_graphs={(graphs ? 1 : 0)} max_rel_diff={worst:E3} at_step={at} " +
                $"cpu_final_loss={onCpu[^1]:G8} device_final_loss={onDevice[^1]:G8} ok={(pass ? 1 : 0)}"));
        }

        var cpuBits = Bits();
        byte[][] deviceBits;
        using (Other()) deviceBits = Bits();
        var same = cpuBits.Zip(deviceBits).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        ok &= same;
        Console.WriteLine($"RESULT parity bits device={deviceName} draws={cpuBits.Length} identical={(same ? 1 : 0)}");
        return ok ? 0 : 1;
    }

    /// <summary>Random draws of each kind, eager and jitted, as bytes (on the default device).</summary>
    private static byte[][] Bits()
    {
        var key = Prng.Key(2024);
        var jitted = Jit.Pure((Tensor k) => new[] { Prng.Bits(k, 4096), Prng.Uniform(Prng.FoldIn(k, 1), [64, 64]), Prng.Split(k, 5) });
        Tensor[] draws = [Prng.Bits(key, 4096), Prng.Uniform(Prng.FoldIn(key, 1), [64, 64]), Prng.Split(key, 5), .. jitted(key)];
        var rngs = new Rngs(3);
        var fromRngs = Nnx.Jit((Rngs r) => Prng.Bits(r.Dropout(), 1000));
        draws = [.. draws, fromRngs(rngs), fromRngs(rngs)];
        return [.. draws.Select(d => d.ToHost().ToBytes())];
    }

    /// <summary>samples/SimpleTraining's model and step (Dropout, BatchNorm, Adam) on fixed batches; the losses.</summary>
    private static float[] SeedLosses(int steps)
    {
        var model = new SimpleTraining.Model(2, 64, 3, new Rngs(0));
        var optimizer = new Optimizer(model, Optax.Adam(1e-3));
        var step = Nnx.Jit((SimpleTraining.Model m, Optimizer o, Tensor x, Tensor y) =>
        {
            Tensor LossFn(SimpleTraining.Model mm) => (mm.Call(x) - y).Square().Mean();
            var (loss, grads) = Nnx.ValueAndGrad<SimpleTraining.Model>(LossFn)(m);
            o.Update(grads);
            return loss;
        });
        var rng = new Random(1);
        var losses = new float[steps];
        for (var k = 0; k < steps; k++)
        {
            var x = Enumerable.Range(0, 64).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var y = Enumerable.Range(0, 96).Select(i => x[i / 3 * 2] * (i % 3 + 1) - x[i / 3 * 2 + 1]).ToArray();
            losses[k] = step(model, optimizer, Tensor.FromArray(x, 32, 2), Tensor.FromArray(y, 32, 3)).Item<float>();
        }
        return losses;
    }

    /// <summary>The benchmark's MLP (width 256, BatchNorm blocks, SGD) on the benchmark's data; the losses.</summary>
    private static float[] MlpLosses(int steps)
    {
        var data = SeedData.Create(steps, 32);
        var (model, optimizer) = SeedModes.Create(256, 5);
        var step = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
        var batches = data.Tensors();
        return [.. batches.Select(b => step(model, optimizer, b.X, b.Y).Item<float>())];
    }
}
