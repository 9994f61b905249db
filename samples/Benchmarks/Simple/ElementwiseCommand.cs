using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using NnxSharp.Onnx;
using NnxSharp.Onnx.Schema;

namespace NnxSharp.Benchmarks;

/// <summary>
/// <c>elementwise</c>: each fused elementwise cluster of the seed's training step (the <c>ai.nnx.cpu</c> Elementwise
/// nodes of the model this process's CPU session runs), timed on this thread interpreted and compiled
/// (CpuKernels.ElementwiseCompiler.cs), as the median of rounds of calls on operands of its own, and checked to give the
/// same bits both ways. The clusters run alone here, their operands in cache; inside the step they also wait for the
/// memory the other nodes wrote, which <c>--cold</c> imitates: 16 MB of other memory is written before each call (not timed).
/// <code>dotnet run -c Release --project samples/Benchmarks -- elementwise [--width W] [--depth D] [--batch B] [--calls N] [--rounds R] [--cold]</code>
/// </summary>
public static unsafe class ElementwiseCommand
{
    /// <summary>Runs the command; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var (width, depth, batch, calls, rounds, cold) = (512, 5, 32, 2000, 7, false);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--width": width = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--depth": depth = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--calls": calls = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--cold": cold = true; break;
                default: throw new ArgumentException($"elementwise: unknown option {args[i]}");
            }
        }
        if (!CpuKernels.CanCompileElementwise)
        {
            Console.Error.WriteLine("elementwise: this runtime or CPU cannot compile programs (no dynamic code, or no 256-bit vectors)");
            return 1;
        }
        var (model, _) = SeedModes.Create(width, depth);
        var optimizer = new Optimizer(model, Optax.Sgd(1e-3));
        var batches = SeedData.Create(1, batch).Tensors();
        var step = Nnx.Jit<SeedMlp, Optimizer, Tensor, Tensor, Tensor>(SeedMlp.TrainStep);
        var graph = ModelProto.Parser.ParseFrom(step.InProcessModel(model, optimizer, batches[0].X, batches[0].Y)).Graph;
        var constants = graph.Initializer.ToDictionary(t => t.Name);
        Console.WriteLine($"# elementwise clusters of the seed step (width {width}, depth {depth}, batch {batch}): µs a call, median of {rounds} rounds of {calls}{(cold ? ", each call after 16 MB of other memory was written" : "")}");
        Console.WriteLine($"  {"node",-28} {"instr",5} {"result",-10} {"interpreted",11} {"compiled",9} {"ratio",6} {"compile ms",10}");
        var (total, totalCompiled, totalCompileMs) = (0.0, 0.0, 0.0);
        foreach (var node in graph.Node.Where(n => n.Domain == "ai.nnx.cpu" && n.OpType == "Elementwise"))
        {
            var program = constants[node.Input[0]].Int64Data.Count > 0 ? constants[node.Input[0]].Int64Data.ToArray()
                : MemoryMarshal.Cast<byte, long>(constants[node.Input[0]].RawData.Span).ToArray();
            var (interpreted, compiled, compileMs, same, p) = Time(program, calls, rounds, cold);
            (total, totalCompiled, totalCompileMs) = (total + interpreted, totalCompiled + compiled, totalCompileMs + compileMs);
            Console.WriteLine($"  {node.Name,-28} {p.Instructions,5} {$"[{p.Rows}x{p.Columns}]",-10} {interpreted,11:F2} {compiled,9:F2} {interpreted / compiled,6:F2} {compileMs,10:F2}{(same ? "" : "  DIFFERENT BITS")}");
        }
        Console.WriteLine($"  {"all",-28} {"",5} {"",-10} {total,11:F2} {totalCompiled,9:F2} {total / totalCompiled,6:F2} {totalCompileMs,10:F2}");
        return 0;
    }

    private static (double Interpreted, double Compiled, double CompileMs, bool Same, ElementwiseProgram P) Time(long[] program, int calls, int rounds, bool cold)
    {
        fixed (long* code = program)
        {
            var p = new ElementwiseProgram(code, program.Length);
            var registers = p.Inputs + p.Instructions;
            var bases = (float**)NativeMemory.AllocZeroed((nuint)registers, (nuint)sizeof(float*));
            var owned = new List<IntPtr>();
            float* Buffer(long n)
            {
                var b = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(n, 1) * sizeof(float)), 64);
                var r = new Random(owned.Count);
                for (long k = 0; k < n; k++) b[k] = (float)(r.NextDouble() * 2 - 1);
                owned.Add((IntPtr)b);
                return b;
            }
            try
            {
                for (var i = 0; i < p.Inputs; i++)
                    bases[i] = Buffer(p.Mode(i) switch { ElementwiseProgram.Full => p.Rows * p.Columns, ElementwiseProgram.Row => p.Columns, ElementwiseProgram.Column => p.Rows, _ => 1 });
                for (var o = 0; o < p.Outputs; o++) bases[p.Output(o)] = Buffer(p.IsSum(o) ? p.Columns : p.Rows * p.Columns);
                var watch = Stopwatch.StartNew();
                var block = CpuKernels.CompileElementwise(p);
                var compile = watch.Elapsed.TotalMilliseconds;
                var expected = Outputs(p, bases, null);
                // The same bits, a NaN for a NaN (its sign and payload may differ compiled: CpuKernels.ElementwiseCompiler.cs).
                static bool Same(int a, int b) => a == b || float.IsNaN(BitConverter.Int32BitsToSingle(a)) && float.IsNaN(BitConverter.Int32BitsToSingle(b));
                var same = Outputs(p, bases, block).Zip(expected).All(pair => pair.First.Zip(pair.Second).All(v => Same(v.First, v.Second)));
                var evict = cold ? new float[4 << 20] : [];
                double Median(CpuKernels.CompiledElementwise? b)
                {
                    var times = new List<double>();
                    for (var round = 0; round < rounds; round++)
                    {
                        var elapsed = TimeSpan.Zero;
                        var watch = Stopwatch.StartNew();
                        for (var k = 0; k < calls; k++)
                        {
                            if (cold) { for (var e = 0; e < evict.Length; e += 16) evict[e] += 1; watch.Restart(); }
                            CpuKernels.RunElementwise(p, bases, b);
                            if (cold) elapsed += watch.Elapsed;
                        }
                        times.Add((cold ? elapsed : watch.Elapsed).TotalMicroseconds / calls);
                    }
                    times.Sort();
                    return times[times.Count / 2];
                }
                Median(null); Median(block); // warm
                var (interpreted, compiled) = (Median(null), Median(block));
                return (interpreted, compiled, compile, same, p);
            }
            finally
            {
                foreach (var b in owned) NativeMemory.AlignedFree((void*)b);
                NativeMemory.Free(bases);
            }
        }
    }

    /// <summary>Runs the program once and copies out its outputs' bits.</summary>
    private static List<int[]> Outputs(ElementwiseProgram p, float** bases, CpuKernels.CompiledElementwise? block)
    {
        CpuKernels.RunElementwise(p, bases, block);
        var outputs = new List<int[]>();
        for (var o = 0; o < p.Outputs; o++)
            outputs.Add(new ReadOnlySpan<int>(bases[p.Output(o)], (int)(p.IsSum(o) ? p.Columns : p.Rows * p.Columns)).ToArray());
        return outputs;
    }
}
