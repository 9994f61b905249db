namespace NnxSharp.Ir;

/// <summary>
/// Whether the compiler checks its invariants as it goes: every <see cref="Graph"/> is verified when it is
/// made (so each pass's result is), and the pass pipeline verifies its result. On in Debug builds; the test
/// assemblies turn it on in Release too, so CI (which builds Release) verifies every graph the tests make,
/// as tinygrad's SPEC does. Off in a user's Release build, where it would only cost time.
/// </summary>
internal static class Invariants
{
    /// <summary>True when graphs are verified as they are made.</summary>
    public static bool Checked { get; set; } =
#if DEBUG
        true;
#else
        false;
#endif
}
