namespace NnxSharp;

/// <summary>The distribution <see cref="Init.VarianceScaling"/> draws from (JAX's <c>distribution</c>).</summary>
public enum InitDistribution
{
    /// <summary>A normal truncated to ±2 standard deviations, rescaled to the target variance (<c>"truncated_normal"</c>).</summary>
    TruncatedNormal,

    /// <summary>A normal with the target variance (<c>"normal"</c>).</summary>
    Normal,

    /// <summary>Uniform on [−√(3v), √(3v)) for the target variance v (<c>"uniform"</c>).</summary>
    Uniform,
}
