using System.Globalization;

namespace NnxSharp;

// Formatting a scalar with a .NET format string: $"{loss:F4}", loss.ToString("E3", culture).
public sealed partial class Tensor : IFormattable
{
    /// <summary>
    /// A concrete scalar's value formatted with <paramref name="format"/> (<c>F4</c>, <c>E3</c>, <c>G</c>…) as a
    /// <see cref="double"/> (or integer, or bool); any other tensor, or no format, prints as <see cref="ToString()"/>.
    /// </summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        if (string.IsNullOrEmpty(format) || IsSymbolic || _buffer is null || Rank != 0) return ToString();
        var host = ToHost();
        return DType switch
        {
            DType.Bool => (host.GetLong(0) != 0).ToString(formatProvider ?? CultureInfo.CurrentCulture),
            DType.Int32 or DType.Int64 => host.GetLong(0).ToString(format, formatProvider),
            DType.UInt32 or DType.UInt64 => host.GetULong(0).ToString(format, formatProvider),
            _ => host.GetDouble(0).ToString(format, formatProvider),
        };
    }
}
