// Nnx benchmarks, one sub-command per area:
//   dotnet run -c Release --project samples/Benchmarks -- modules [BenchmarkDotNet options]
using BenchmarkDotNet.Running;
using NnxSharp.Benchmarks;

var commands = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
{
    ["modules"] = typeof(ModuleBenchmarks),
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var benchmarks))
{
    Console.Error.WriteLine($"usage: Benchmarks <{string.Join("|", commands.Keys)}> [BenchmarkDotNet options]");
    return 1;
}
BenchmarkRunner.Run(benchmarks, args: args[1..]);
return 0;
