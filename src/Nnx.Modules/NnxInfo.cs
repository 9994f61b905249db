namespace NnxSharp;

/// <summary>
/// The Nnx front door: transformations over modules (<c>Nnx.Jit</c>, <c>Nnx.Split</c>, <c>Nnx.Merge</c>, …)
/// arrive here as the module system lands. It is a class, not a namespace, so that <c>Nnx.Jit(...)</c>
/// compiles from a user's own namespace.
/// </summary>
public static partial class Nnx
{
    /// <summary>The library's version.</summary>
    public static string Version => typeof(Nnx).Assembly.GetName().Version?.ToString() ?? "0";
}
