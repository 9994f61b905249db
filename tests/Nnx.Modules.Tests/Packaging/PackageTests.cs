using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>
/// The packages as a new user gets them: pack the already-built libraries, create a console app from the template,
/// add NnxSharp from the local folder with one `dotnet add package`, and run the README's complete example in it.
/// Needs the dotnet CLI (inconclusive without it) but no network: ONNX Runtime comes from the packages folder
/// that restored this test project.
/// </summary>
[TestClass]
public sealed partial class PackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [TestMethod]
    public void ANewConsoleAppUsesThePackagesAndRunsTheReadmeExample()
    {
        var dotnet = DotnetCli() ?? throw new AssertInconclusiveException("The dotnet CLI was not found (DOTNET_HOST_PATH, PATH); the packaging test needs it.");
        var repo = RepositoryRoot();
        var root = Directory.CreateTempSubdirectory("nnx-pack-").FullName;
        try
        {
            var feed = Path.Combine(root, "feed");
            var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
            foreach (var project in new[] { "Nnx.Trace", "Nnx.Onnx", "Nnx.Modules" })
                Run(dotnet, repo, $"pack src/{project} -c {Configuration} --no-build -o \"{feed}\" -p:Version={version} -nodeReuse:false");
            CheckPackages(feed, version);

            var app = Path.Combine(root, "app");
            Run(dotnet, root, "new console -n App -o app --framework net10.0 --no-restore");
            File.WriteAllText(Path.Combine(app, "nuget.config"), NugetConfig(feed, Path.Combine(root, "packages")));
            Run(dotnet, app, $"add package NnxSharp --version {version}");
            File.WriteAllText(Path.Combine(app, "Program.cs"), ReadmeExample(repo));
            Run(dotnet, app, "build -c Release -nodeReuse:false -p:UseSharedCompilation=false");
            var output = Run(dotnet, app, "bin/Release/net10.0/App.dll");

            var losses = LossLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            losses.Should().HaveCount(3, $"the example prints the loss at steps 100, 200, 300 as plain numbers; it printed:\n{output}");
            losses[^1].Should().BeLessThan(0.05);
            output.Should().Contain("restored step 300");
            var (state, info) = Nnx.ReadCheckpoint(Path.Combine(app, "checkpoint.safetensors"));
            state.Paths.Should().Contain(["linear/kernel", "bn/mean", "step", "opt_state/0/mu/linear/kernel", "metrics/loss/total"]);
            info.Step.Should().Be(300);
            using var session = new InferenceSession(Path.Combine(app, "model.onnx"));
            using var x = OrtValue.CreateTensorValueFromMemory(new float[10], [5, 2]);
            using var options = new RunOptions();
            using var results = session.Run(options, ["input"], [x], ["output"]);
            results[0].GetTensorTypeAndShape().Shape.Should().Equal(5, 2);

            // Resume in a fresh process: 100 steps and a checkpoint, then another process loads it into new objects and
            // trains 100 more; the losses and the final state are the bits of 200 uninterrupted steps.
            File.WriteAllText(Path.Combine(app, "Program.cs"), ResumeProgram);
            Run(dotnet, app, "build -c Release -nodeReuse:false -p:UseSharedCompilation=false");
            var full = Run(dotnet, app, "bin/Release/net10.0/App.dll full 200");
            var first = Run(dotnet, app, "bin/Release/net10.0/App.dll first 100 resume.safetensors");
            var resumed = Run(dotnet, app, "bin/Release/net10.0/App.dll resume resume.safetensors 100");
            Lines(full, "loss ").Should().HaveCount(200).And.Equal(Lines(first, "loss ").Concat(Lines(resumed, "loss ")), "losses resumed in a fresh process");
            Lines(resumed, "state ").Should().Equal(Lines(full, "state "), "parameters, optimizer state, batch statistics, rng counters and metrics");

            // Without the native runtime the first tensor says which package to add.
            var csproj = Path.Combine(app, "App.csproj");
            File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("</Project>",
                "  <ItemGroup><PackageReference Include=\"Microsoft.ML.OnnxRuntime\" Version=\"1.31.0\" ExcludeAssets=\"native\" /></ItemGroup>\n</Project>", StringComparison.Ordinal));
            Run(dotnet, app, "build -c Release -nodeReuse:false -p:UseSharedCompilation=false");
            foreach (var native in Directory.GetFiles(Path.Combine(app, "bin"), "*onnxruntime.*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".dll", StringComparison.Ordinal) || f.Contains("native", StringComparison.Ordinal)))
                File.Delete(native);
            var failure = Run(dotnet, app, "bin/Release/net10.0/App.dll full 1", expectSuccess: false);
            failure.Should().Contain("ONNX Runtime's native library could not be loaded").And.Contain("dotnet add package Microsoft.ML.OnnxRuntime")
                .And.NotContain("TargetInvocationException");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static List<string> Lines(string output, string prefix) =>
        [.. output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith(prefix, StringComparison.Ordinal))];

    /// <summary>Training with dropout and BatchNorm: "full N", "first N file" (then save), "resume file N" (fresh objects, then load).</summary>
    private const string ResumeProgram = """
        using System.Security.Cryptography;
        using NnxSharp;

        var resume = args[0] == "resume";
        var model = new Model(new Rngs(resume ? 7 : 0));
        var optimizer = new Optimizer(model, Optax.Adam(1e-2));
        var metrics = new MultiMetric(("loss", new Average()));
        var start = resume ? (int)Nnx.Load(args[1], model, optimizer, metrics).Step!.Value : 0;
        var steps = int.Parse(resume ? args[2] : args[1]);
        var trainStep = Nnx.Jit((Model m, Optimizer o, MultiMetric mm, Tensor x, Tensor y) =>
        {
            var (loss, grads) = Nnx.ValueAndGrad<Model>(n => (n.Call(x) - y).Square().Mean())(m);
            o.Update(grads);
            mm.Update(("loss", loss));
            return loss;
        });
        for (var i = start; i < start + steps; i++)
        {
            var x = Prng.Uniform(Prng.FoldIn(Prng.Key(0), i), [32, 2], minval: -1, maxval: 1);
            var loss = trainStep(model, optimizer, metrics, x, x.Slice(1, 0, 1) * x.Slice(1, 1, 2));
            Console.WriteLine($"loss {BitConverter.SingleToInt32Bits(loss.Item<float>()):x8}");
        }
        if (args[0] == "first") Nnx.Save(args[2], model, optimizer, metrics);
        var bytes = Nnx.State(model, optimizer, metrics).SelectMany(e => e.Value.ToHost().ToBytes()).ToArray();
        Console.WriteLine($"state {Convert.ToHexString(SHA256.HashData(bytes))}");

        public sealed class Model : Module
        {
            public readonly Linear Linear;
            public readonly BatchNorm Bn;
            public readonly Dropout Dropout;
            public readonly Linear LinearOut;

            public Model(Rngs rngs)
            {
                Linear = new Linear(2, 16, rngs);
                Bn = new BatchNorm(16, rngs);
                Dropout = new Dropout(0.2, rngs);
                LinearOut = new Linear(16, 1, rngs);
            }

            public Tensor Call(Tensor x) => LinearOut.Call(Nn.Relu(Dropout.Call(Bn.Call(Linear.Call(x)))));
        }
        """;

    [GeneratedRegex(@"step \d+: loss (-?\d+(?:\.\d+)?(?:E[-+]?\d+)?)\r?$", RegexOptions.Multiline)]
    private static partial Regex LossLine();

    private static void CheckPackages(string feed, string version)
    {
        var sizes = new StringBuilder("Packages:");
        foreach (var id in new[] { "NnxSharp", "NnxSharp.Onnx", "NnxSharp.Trace" })
        {
            var nupkg = Path.Combine(feed, $"{id}.{version}.nupkg");
            var snupkg = Path.Combine(feed, $"{id}.{version}.snupkg");
            File.Exists(snupkg).Should().BeTrue($"{id} has a symbol package");
            using var zip = ZipFile.OpenRead(nupkg);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            names.Should().Contain(["LICENSE", "README.md"]).And.Contain(n => n.StartsWith("lib/net10.0/", StringComparison.Ordinal) && n.EndsWith(".xml", StringComparison.Ordinal));
            using var reader = new StreamReader(zip.GetEntry($"{id}.nuspec")!.Open());
            var nuspec = reader.ReadToEnd();
            nuspec.Should().Contain("<license type=\"file\">LICENSE</license>").And.Contain("<readme>README.md</readme>").And.Contain("<tags>").And.Contain("<authors>");
            if (id == "NnxSharp.Onnx") nuspec.Should().Contain("id=\"Microsoft.ML.OnnxRuntime\"", "the CPU native runtime comes by default");
            sizes.Append($" {id} {new FileInfo(nupkg).Length / 1024} KiB (+{new FileInfo(snupkg).Length / 1024} KiB symbols);");
        }
        Console.WriteLine(sizes);
    }

    /// <summary>The local folder for NnxSharp*, nuget.org for the rest, and this machine's packages folder first (no network needed).</summary>
    private static string NugetConfig(string feed, string packages)
    {
        var userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{packages}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="NnxSharp" /><package pattern="NnxSharp.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders><add key="machine" value="{userPackages}" /></fallbackPackageFolders>
            </configuration>
            """;
    }

    /// <summary>The C# block after the README's complete-example marker.</summary>
    private static string ReadmeExample(string repo)
    {
        var readme = File.ReadAllText(Path.Combine(repo, "README.md"));
        var marker = readme.IndexOf("<!-- complete-example", StringComparison.Ordinal);
        marker.Should().BeGreaterThanOrEqualTo(0, "README.md marks its complete example");
        var start = readme.IndexOf("```csharp\n", marker, StringComparison.Ordinal) + "```csharp\n".Length;
        var end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        return readme[start..end] + "\n";
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Nnx.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Nnx.sln above {AppContext.BaseDirectory}.");
    }

    private static string? DotnetCli()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    private static string Run(string dotnet, string folder, string arguments, bool expectSuccess = true)
    {
        var info = new ProcessStartInfo(dotnet, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // A clean environment for the child: none of this test run's MSBuild settings, no servers left behind.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(key);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {arguments} did not finish in 4 minutes.");
        }
        var output = stdout.Result + stderr.Result;
        if (expectSuccess && process.ExitCode != 0) Assert.Fail($"dotnet {arguments} (in {folder}) failed with exit code {process.ExitCode}:\n{output}");
        if (!expectSuccess) process.ExitCode.Should().NotBe(0, $"dotnet {arguments} should fail:\n{output}");
        return output;
    }
}
