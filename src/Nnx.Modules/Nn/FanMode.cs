namespace NnxSharp;

/// <summary>Which fan <see cref="Init.VarianceScaling"/> divides its scale by (JAX's <c>mode</c>).</summary>
public enum FanMode
{
    /// <summary>The number of inputs: in-axis size × receptive field (<c>"fan_in"</c>).</summary>
    FanIn,

    /// <summary>The number of outputs: out-axis size × receptive field (<c>"fan_out"</c>).</summary>
    FanOut,

    /// <summary>The mean of the two, (fan_in + fan_out)/2 (<c>"fan_avg"</c>).</summary>
    FanAvg,
}
