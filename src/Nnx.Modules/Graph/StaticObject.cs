using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// A snapshot, by value, of a user's object held as a static attribute (a <c>Config</c> class with public
/// fields, a record): its type and every instance field, each captured as a static itself. Two snapshots are
/// equal when the types and all fields are equal, so an equal new object does not retrace; a field the user
/// changes after the snapshot makes the structure check fail, so the step retraces instead of giving a stale
/// result. Merge rebuilds a fresh object from the snapshot. An object that cannot be captured by value (it
/// holds a tensor, a module, a variable or a pointer, or nests too deep) is refused with its attribute path.
/// </summary>
internal sealed class StaticObject : IEquatable<StaticObject>
{
    private const int MaxDepth = 8;

    private static readonly ConcurrentDictionary<Type, FieldInfo[]> FieldsOf = new();

    private readonly Type _type;
    private readonly FieldInfo[] _fields;
    private readonly object?[] _values;
    private readonly int _hash;

    private StaticObject(Type type, FieldInfo[] fields, object?[] values)
    {
        _type = type;
        _fields = fields;
        _values = values;
        var h = new HashCode();
        h.Add(type);
        foreach (var v in values) h.Add(StaticValue.Hash(v));
        _hash = h.ToHashCode();
    }

    /// <summary>Captures <paramref name="value"/> found at <paramref name="path"/> (for errors).</summary>
    public static StaticObject Capture(object value, string path, int depth)
    {
        var type = value.GetType();
        if (depth >= MaxDepth)
            throw new NotSupportedException(
                $"Nnx: the static attribute '{path}' ({NodeType.Describe(type)}) nests objects more than {MaxDepth} deep (or is cyclic), " +
                "so it cannot be compared by value; keep configuration as numbers, strings, enums, arrays or small records.");
        var fields = FieldsOf.GetOrAdd(type, AllFields);
        var values = new object?[fields.Length];
        for (var i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            var fieldPath = $"{path}.{PathNames.SourceName(f.Name)}";
            if (f.FieldType.IsPointer || f.FieldType == typeof(IntPtr) || f.FieldType == typeof(UIntPtr))
                throw Refuse(fieldPath, type, "a pointer");
            var v = f.GetValue(value);
            if (v is Tensor or Module or Variable)
                throw Refuse(fieldPath, type, $"a {NodeType.Describe(v.GetType())}");
            values[i] = StaticValue.Capture(v, fieldPath, depth + 1);
        }
        return new StaticObject(type, fields, values);
    }

    private static NotSupportedException Refuse(string fieldPath, Type type, string what) => new(
        $"Nnx: the static attribute '{fieldPath}' of a {NodeType.Describe(type)} holds {what}, so the object cannot be compared by value " +
        "as a static of a jitted step (a stale result would follow a change to it). Keep tensors in Variables and modules in module fields.");

    /// <summary>True when <paramref name="current"/> is an object of the captured type whose fields all match (reads them by reflection).</summary>
    public bool Matches(object? current)
    {
        if (current is null || current.GetType() != _type) return false;
        for (var i = 0; i < _fields.Length; i++)
            if (!StaticValue.Matches(_fields[i].GetValue(current), _values[i])) return false;
        return true;
    }

    /// <summary>A fresh object with the captured field values.</summary>
    public object Materialize()
    {
        var o = RuntimeHelpers.GetUninitializedObject(_type);
        for (var i = 0; i < _fields.Length; i++) _fields[i].SetValue(o, StaticValue.Restore(_values[i]));
        return o;
    }

    /// <inheritdoc/>
    public bool Equals(StaticObject? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._hash != _hash || other._type != _type) return false;
        for (var i = 0; i < _values.Length; i++)
            if (!StaticValue.Equals(_values[i], other._values[i])) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as StaticObject);

    /// <inheritdoc/>
    public override int GetHashCode() => _hash;

    /// <summary>Prints as <c>Config { Rate = 0.5, Name = "a" }</c>.</summary>
    public override string ToString() =>
        $"{NodeType.Describe(_type)} {{ {string.Join(", ", _fields.Select((f, i) => $"{PathNames.SourceName(f.Name)} = {StaticValue.Format(_values[i])}"))} }}";

    private static FieldInfo[] AllFields(Type type)
    {
        var all = new List<FieldInfo>();
        for (var c = type; c is not null && c != typeof(object); c = c.BaseType)
        {
            var declared = c.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            Array.Sort(declared, (a, b) => a.MetadataToken.CompareTo(b.MetadataToken));
            all.AddRange(declared);
        }
        return [.. all];
    }
}
