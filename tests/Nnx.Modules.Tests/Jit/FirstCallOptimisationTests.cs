using System.Reflection;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp;

namespace UserCode.Tests;

/// <summary>
/// Issue 17: the methods a cached <c>Nnx.Jit</c> step runs once per step, and those its CPU kernels run once per node,
/// are compiled optimised at their first call. Under .NET's tiered compilation they would otherwise start as tier-0
/// code and be recompiled twice on a background thread during the first few hundred steps, and on a 2-core machine
/// that thread takes a core from the step's own threads (<c>notes/threads.md</c>, "Slow steps at 2 threads").
/// </summary>
[TestClass]
public sealed class FirstCallOptimisationTests
{
    private static readonly (Assembly Assembly, string Type, string[] Methods)[] PerStepPath =
    [
        (typeof(Nnx).Assembly, "NnxSharp.ModuleJit", ["Call"]),
        (typeof(Nnx).Assembly, "NnxSharp.CompiledStep", ["Matches", "ArgumentsMatch", "StateOnDevice", "Run"]),
        (typeof(Nnx).Assembly, "NnxSharp.Accessors", ["SameSlot", "SameValue"]),
        (typeof(Nnx).Assembly, "NnxSharp.GraphSnapshot", ["IsCurrent"]),
        (typeof(Nnx).Assembly, "NnxSharp.StaticValue", ["Matches"]),
        (typeof(Nnx).Assembly, "NnxSharp.StaticSequence`1", ["Matches", "Same"]),
        (typeof(Tensor).Assembly, "NnxSharp.TreeMatch", ["Matches"]),
        (typeof(Tensor).Assembly, "NnxSharp.Tensor", ["get_DeviceBuffer"]),
        (typeof(Tensor).Assembly, "NnxSharp.Aval", ["Equals(Aval)"]),
        (typeof(Tensor).Assembly, "NnxSharp.Shape", ["Equals(Shape)"]),
        (typeof(Tensor).Assembly, "NnxSharp.StaticEquality", ["Same`1"]),
        (typeof(Tensor).Assembly, "NnxSharp.ArgBoxes", ["Of"]),
        (typeof(Tensor).Assembly, "NnxSharp.DTypes", ["ItemSize"]),
        (typeof(Tensor).Assembly, "NnxSharp.Backends.Executable", ["CheckInputs", "CheckOutputs"]),
        (typeof(NnxSharp.Onnx.OrtBackend).Assembly, "NnxSharp.Onnx.OrtExecutable", ["RunStep", "RunInto"]),
        (typeof(NnxSharp.Onnx.OrtBackend).Assembly, "NnxSharp.Onnx.OrtExecutable+Binding", ["Bind", "Holds"]),
        (typeof(NnxSharp.Onnx.OrtBackend).Assembly, "NnxSharp.Onnx.OrtBackend", ["Own"]),
        (typeof(NnxSharp.Onnx.OrtBackend).Assembly, "NnxSharp.Onnx.OrtBuffer", ["get_Value"]),
        (typeof(NnxSharp.Onnx.OrtBackend).Assembly, "NnxSharp.Onnx.ElementwiseProgram", ["get_HasSums"]),
        (typeof(NnxSharp.Onnx.OrtBackend).Assembly, "NnxSharp.Onnx.CpuKernels",
            ["KernelComputeV2", "ComputeElementwise", "Plan", "ComputeGemm", "ComputeGemmPair", "ComputeColumnSums",
             "ComputeSlice", "ComputePad", "ParallelFor", "Scratch", "TileOf", "ScaleSum",
             // their helpers, too large or too native to be inlined into them
             "Api", "Input", "Data", "ShapeOf", "Check", "ColumnBlocks", "PanelOfB", "TileOfRows", "FillFloats", "CopyFloats"]),
    ];

    [TestMethod]
    public void ThePerStepAndPerNodeMethodsAreOptimisedAtTheirFirstCall()
    {
        var missing = new List<string>();
        foreach (var (assembly, typeName, names) in PerStepPath)
        {
            var type = assembly.GetType(typeName, throwOnError: true)!;
            foreach (var name in names)
            {
                // "Equals(Aval)": the overload of that parameter type; "Same`1": the generic one of that name.
                var (methodName, parameter) = name.IndexOf('(') is var open and > 0 ? (name[..open], name[(open + 1)..^1]) : (name, null);
                var generic = methodName.EndsWith("`1", StringComparison.Ordinal);
                if (generic) methodName = methodName[..^2];
                var methods = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                    .Where(m => m.Name == methodName && (!generic || m.IsGenericMethodDefinition)
                        && (parameter is null || m.GetParameters() is [var only] && only.ParameterType.Name == parameter)).ToArray();
                methods.Should().NotBeEmpty($"{typeName}.{name} is on the step's path");
                missing.AddRange(methods.Where(m => !m.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization))
                    .Select(m => $"{typeName}.{m}"));
            }
        }

        var program = typeof(NnxSharp.Onnx.OrtBackend).Assembly.GetType("NnxSharp.Onnx.ElementwiseProgram", throwOnError: true)!;
        missing.AddRange(program.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .Where(c => !c.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization)).Select(c => $"ElementwiseProgram..ctor({c})"));

        missing.Should().BeEmpty("these run at every step or every node, and tier-0 code there slows the first few hundred steps");
    }
}
