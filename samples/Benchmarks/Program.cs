// Nnx benchmarks, one sub-command per area:
//   dotnet run -c Release --project samples/Benchmarks -- simple [--mode auto|manual|raw|all] [--width W] [--depth D]
//       [--batch B] [--steps S] [--device cpu] [--sweep] [--out DIR]      the seed's benchmark (BENCHMARKS.md §1, §3)
//   dotnet run -c Release --project samples/Benchmarks -- dispatch [BenchmarkDotNet options]   one cached call (§2)
//   dotnet run -c Release --project samples/Benchmarks -- modules [BenchmarkDotNet options]    Split, Merge, the structure check
//   dotnet run -c Release --project samples/Benchmarks -- memory --mode eager|jit [--steps 20000]  eager vs jitted memory
using BenchmarkDotNet.Running;
using NnxSharp.Benchmarks;

var commands = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
{
    ["modules"] = typeof(ModuleBenchmarks),
    ["dispatch"] = typeof(DispatchBenchmarks),
};

if (args.Length > 0 && args[0] == "simple") return SimpleCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "memory") return MemoryCommand.Run(args[1..]);
if (args.Length == 0 || !commands.TryGetValue(args[0], out var benchmarks))
{
    Console.Error.WriteLine($"usage: Benchmarks <simple|{string.Join("|", commands.Keys)}> [options]");
    return 1;
}
BenchmarkRunner.Run(benchmarks, args: args[1..]);
return 0;
