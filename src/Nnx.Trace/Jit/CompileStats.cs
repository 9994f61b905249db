namespace NnxSharp;

/// <summary>
/// Where the first call of a jitted function spent its time, and how big its graph was at each stage.
/// </summary>
/// <param name="Trace">Running the function on symbolic tensors (autodiff included).</param>
/// <param name="Autodiff">The part of <paramref name="Trace"/> spent in reverse passes.</param>
/// <param name="Passes">Graph optimisation passes.</param>
/// <param name="Lowering">Lowering the IR to the backend's format (ONNX).</param>
/// <param name="Session">Creating the runtime session (its own graph optimisation included).</param>
/// <param name="TracedNodes">IR nodes as traced.</param>
/// <param name="OptimizedNodes">IR nodes after the passes.</param>
/// <param name="LoweredNodes">Nodes of the lowered graph.</param>
public sealed record CompileStats(
    TimeSpan Trace, TimeSpan Autodiff, TimeSpan Passes, TimeSpan Lowering, TimeSpan Session,
    int TracedNodes, int OptimizedNodes, int LoweredNodes)
{
    /// <summary>The whole first call's compile time.</summary>
    public TimeSpan Total => Trace + Passes + Lowering + Session;

    /// <summary>One line per phase, in milliseconds.</summary>
    public override string ToString() =>
        $"trace {Ms(Trace - Autodiff)} ms + autodiff {Ms(Autodiff)} ms + passes {Ms(Passes)} ms + lowering {Ms(Lowering)} ms + session {Ms(Session)} ms = {Ms(Total)} ms; " +
        $"nodes: traced {TracedNodes}, after passes {OptimizedNodes}, lowered {LoweredNodes}";

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
