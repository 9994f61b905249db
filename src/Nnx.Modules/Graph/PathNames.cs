using System.Text;

namespace NnxSharp;

/// <summary>How C# field names become state path segments: <c>LinearOut</c>, <c>_linearOut</c> → <c>linear_out</c>.</summary>
internal static class PathNames
{
    private static readonly string[] Indices = Enumerable.Range(0, 256).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The name as written in C#: a property's name for its backing field <c>&lt;Name&gt;k__BackingField</c>, a primary-constructor parameter's for <c>&lt;n&gt;P</c>.</summary>
    public static string SourceName(string fieldName)
    {
        if (fieldName.StartsWith('<'))
        {
            var end = fieldName.IndexOf('>', StringComparison.Ordinal);
            if (end > 1) return fieldName[1..end];
        }
        return fieldName;
    }

    /// <summary>The snake_case path segment of a field: leading underscores dropped, a word break before each capital that starts a word.</summary>
    public static string Segment(string fieldName)
    {
        var name = SourceName(fieldName).TrimStart('_');
        if (name.Length == 0) return fieldName;
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var prevLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if ((prevLowerOrDigit || acronymEnd) && sb.Length > 0 && sb[^1] != '_') sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The segment of a list index (cached for small indices).</summary>
    public static string Index(int i) => i < Indices.Length ? Indices[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A child's path: <c>parent/segment</c>, or the parent's own path when the segment is null.</summary>
    public static string Join(string parent, string? segment) =>
        segment is null ? parent : parent.Length == 0 ? segment : string.Concat(parent, "/", segment);
}
