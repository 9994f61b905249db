using System.Globalization;
using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Onnx;

namespace NnxSharp.Tests;

/// <summary>
/// Large CPU tensors are advised onto transparent huge pages (<see cref="HugePages"/>); small ones are left alone, and
/// values in advised memory are what was written (the advice never changes a number).
/// </summary>
[TestClass]
public sealed class HugePagesTests
{
    /// <summary>The VmFlags of the mapping of this process that holds <paramref name="address"/>, from /proc/self/smaps.</summary>
    private static string[] FlagsAt(long address)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-');
            var space = line.IndexOf(' ');
            if (dash > 0 && space > dash && long.TryParse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var lo)
                && long.TryParse(line[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hi))
                inside = address >= lo && address < hi;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }

    private static long DataOf(Tensor t) => OrtNative.Data(((OrtBuffer)t.DeviceBuffer).Value);

    [TestMethod]
    public void ALargeCpuTensorsWholeHugePagesAreAdvisedAndItsValuesKept()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/sys/kernel/mm/transparent_hugepage/enabled") || !OrtNative.Available)
            Assert.Inconclusive("transparent huge pages are a Linux feature; this system has none");
        var data = new float[2048 * 2048];
        for (var i = 0; i < data.Length; i++) data[i] = i % 977;
        using var big = Tensor.FromArray(data).Reshape(2048, 2048);
        var start = (DataOf(big) + (2L << 20) - 1) & ~((2L << 20) - 1);
        FlagsAt(start).Should().Contain("hg", "the 16 MiB tensor's first whole 2 MiB page is advised (MADV_HUGEPAGE)");
        FlagsAt(start + (8L << 20)).Should().Contain("hg");
        big.ToArray<float>().Should().Equal(data);
        using var doubled = Jit.Pure((Tensor x) => x * 2f)(big);
        doubled.ToArray<float>()[2048 * 2047 + 5].Should().Be(2f * ((2048 * 2047 + 5) % 977));
    }

    [TestMethod]
    public void SmallRangesAndOtherSystemsAreNotAdvised()
    {
        HugePages.Advise(IntPtr.Zero, HugePages.MinBytes - 1).Should().BeFalse("below two huge pages no whole one is sure to fit");
        using var small = Tensor.Zeros(256, 256);
        HugePages.Advise((IntPtr)DataOf(small), 256 * 256 * 4).Should().BeFalse();
    }
}
