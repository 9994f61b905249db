using System.Runtime.InteropServices;

namespace NnxSharp.Onnx;

/// <summary>
/// Asks Linux for transparent huge pages under large CPU tensors (<c>madvise(MADV_HUGEPAGE)</c>). Most Linux systems
/// give them only where asked (<c>/sys/kernel/mm/transparent_hugepage/enabled</c> is <c>madvise</c>), and a
/// 16 MiB weight on 4 KiB pages is 4,096 pages: each pass over it misses the TLB and stops the hardware prefetcher
/// at every page. At width 2048 (three 16 MiB weights, each read twice and written once a step) huge pages took
/// 1–9 % off the median step on 1 and 2 threads (<c>notes/gemm.md</c>, "Huge pages under the wide weights").
/// Advice only: where the system has no huge pages it changes nothing, and a failed call is ignored.
/// </summary>
internal static partial class HugePages
{
    /// <summary>The smallest tensor advised (two huge pages: at least one whole 2 MiB page lies inside it).</summary>
    public const long MinBytes = 4L << 20;

    private const long PageBytes = 2L << 20;
    private const int MadvHugepage = 14;

    /// <summary>Advises the whole 2 MiB pages inside [<paramref name="data"/>, + <paramref name="bytes"/>); true if the call was made and succeeded.</summary>
    public static bool Advise(IntPtr data, long bytes)
    {
        if (bytes < MinBytes || !OperatingSystem.IsLinux()) return false;
        var start = (data + (nint)(PageBytes - 1)) & ~(nint)(PageBytes - 1);
        var end = (data + (nint)bytes) & ~(nint)(PageBytes - 1);
        if (end <= start) return false;
        try
        {
            return Madvise(start, (nuint)(end - start), MadvHugepage) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(IntPtr addr, nuint length, int advice);
}
