// Nnx benchmarks, one sub-command per area:
//   dotnet run -c Release --project samples/Benchmarks -- simple [--mode auto|manual|raw|all] [--width W] [--depth D]
//       [--batch B] [--steps S] [--device cpu] [--sweep] [--out DIR]      the seed's benchmark (BENCHMARKS.md §1, §3)
//       [--compute]       + the step's GFLOP/s against its own matrix products alone and one 2048×2048 MatMul
//       [--profile DIR]   ONNX Runtime's per-operator profile of the exported step instead (--width, --threads, --steps)
//   dotnet run -c Release --project samples/Benchmarks -- nodes [--width W] [--depth D] [--ir FILE]   the step's node counts by op
//   dotnet run -c Release --project samples/Benchmarks -- compile [--width W] [--rounds R] [--threads T]   the first call by phase (§3)
//   dotnet run -c Release --project samples/Benchmarks -- eager [--calls N]   one cached eager primitive call
//   dotnet run -c Release --project samples/Benchmarks -- convnet [--steps S] [--rounds R] [--threads T] [--no-torch]
//       [--modes nnx,nnx-conv,nnx-im2col,torch] [--profile DIR]
//       the Fashion-MNIST convnet's step: the default lowering, conv_general, im2col and PyTorch, alternating (BENCHMARKS.md §5); T threads for both
//   dotnet run -c Release --project samples/Benchmarks -- dispatch [BenchmarkDotNet options]   one cached call (§2)
//   dotnet run -c Release --project samples/Benchmarks -- modules [BenchmarkDotNet options]    Split, Merge, the structure check
//   dotnet run -c Release --project samples/Benchmarks -- parity [--device cuda] [--steps 50]  CPU against CUDA, same losses and bits
//   dotnet run -c Release --project samples/Benchmarks -- memory --mode eager|jit [--steps 20000]  eager vs jitted memory
//   dotnet run -c Release --project samples/Benchmarks -- jitcalls [--calls 20000] [--rounds 3]   one cached call per argument kind
using BenchmarkDotNet.Running;
using NnxSharp.Benchmarks;

var commands = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
{
    ["modules"] = typeof(ModuleBenchmarks),
    ["dispatch"] = typeof(DispatchBenchmarks),
};

if (args.Length > 0 && args[0] == "simple") return SimpleCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "parity") return ParityCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "nodes") return NodeCounts.Run(args[1..]);
if (args.Length > 0 && args[0] == "compile") return CompileCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "eager") return EagerCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "convnet") return ConvnetCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "memory") return MemoryCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "jitcalls") return JitCallsCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "elementwise") return ElementwiseCommand.Run(args[1..]);
if (args.Length == 0 || !commands.TryGetValue(args[0], out var benchmarks))
{
    Console.Error.WriteLine($"usage: Benchmarks <simple|parity|nodes|compile|eager|convnet|memory|jitcalls|elementwise|{string.Join("|", commands.Keys)}> [options]");
    return 1;
}
BenchmarkRunner.Run(benchmarks, args: args[1..]);
return 0;
