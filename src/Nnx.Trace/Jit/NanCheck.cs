using NnxSharp.Backends;

namespace NnxSharp;

/// <summary>
/// The check <see cref="JitOptions.DebugNans"/> turns on (as <c>jax_debug_nans</c>): after a jitted call, every
/// float output is read back and the first NaN or infinity throws, naming the output by its path.
/// </summary>
internal static class NanCheck
{
    /// <summary>Throws a <see cref="NotFiniteNumberException"/> naming the first output (by <paramref name="names"/>) that holds a NaN or an infinity.</summary>
    public static void Outputs(string function, IReadOnlyList<DeviceBuffer> outputs, IReadOnlyList<string> names)
    {
        for (var i = 0; i < outputs.Count; i++)
        {
            var b = outputs[i];
            if (b is null || !b.Aval.DType.IsFloat()) continue;
            var host = b.Backend.Download(b);
            for (var k = 0; k < host.Size; k++)
            {
                var v = host.GetDouble(k);
                if (double.IsFinite(v)) continue;
                var name = i < names.Count ? names[i] : $"output {i}";
                throw new NotFiniteNumberException(
                    $"{function}: output '{name}' {b.Aval} holds {(double.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf")} at flat index {k} " +
                    "(Nnx.Config.DebugNans is on). Check the step's inputs and learning rate, or run the step eagerly to find the operation.");
            }
        }
    }
}
