using System.Reflection;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>A missing native ONNX Runtime is an error naming the package to add, never the raw loader exception.</summary>
[TestClass]
public sealed class NativeRuntimeTests
{
    [TestMethod]
    public void AMissingNativeLibraryNamesThePackageToAdd()
    {
        // What .NET throws when libonnxruntime is absent: the loader's exception inside the type initialiser of
        // ONNX Runtime's native methods, inside the reflection call that finds the default backend.
        var raw = new TargetInvocationException(new TypeInitializationException("Microsoft.ML.OnnxRuntime.NativeMethods",
            new DllNotFoundException("Unable to load shared library 'onnxruntime' or one of its dependencies.")));
        var act = () => NativeRuntime.Guard<int>(() => throw raw);
        act.Should().Throw<InvalidOperationException>()
            .WithMessage("ONNX Runtime's native library could not be loaded*dotnet add package Microsoft.ML.OnnxRuntime --version 1.31.0*" +
                         "Microsoft.ML.OnnxRuntime.Gpu for CUDA*The loader said: DllNotFoundException: Unable to load shared library 'onnxruntime'*")
            .WithInnerException<DllNotFoundException>();
        NativeRuntime.Guard(() => 3).Should().Be(3);
        FluentActions.Invoking(() => NativeRuntime.Guard<int>(() => throw new ArgumentException("other"))).Should().Throw<ArgumentException>("other errors pass through");
    }
}
