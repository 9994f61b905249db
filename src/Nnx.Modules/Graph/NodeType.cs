using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>What a node of the object graph is.</summary>
internal enum NodeKind : byte
{
    /// <summary>A <see cref="Module"/>: its fields are its children and static attributes.</summary>
    Module,
    /// <summary>A <see cref="Variable"/>: a leaf holding state.</summary>
    Variable,
    /// <summary>A <c>List&lt;T&gt;</c> of nodes.</summary>
    List,
    /// <summary>A <c>T[]</c> of nodes.</summary>
    Array,
    /// <summary>A <c>Dictionary&lt;string, T&gt;</c>, visited in ordinal key order.</summary>
    Dictionary,
    /// <summary>The tuple of several roots (only at the root).</summary>
    Tuple,
    /// <summary>A bare tensor: not allowed in the graph (it must be wrapped in a Variable).</summary>
    Tensor,
}

/// <summary>
/// How the traversal reads, compares and rebuilds one CLR type, compiled once per type and cached: field
/// getters and value comparers (expression trees), one setter for all fields (IL, so readonly fields can be
/// written), and factories. A type that is not a graph node (a static attribute) has no NodeType.
/// </summary>
internal sealed class NodeType
{
    private static readonly ConcurrentDictionary<Type, NodeType?> Cache = new();

    /// <summary>The tuple root's marker.</summary>
    public static readonly NodeType RootTuple = new(typeof(ValueTuple), NodeKind.Tuple);

    private NodeType(Type type, NodeKind kind)
    {
        Type = type;
        Kind = kind;
    }

    public Type Type { get; }

    public NodeKind Kind { get; }

    /// <summary>A module's fields in traversal order.</summary>
    public FieldAccessor[] Fields { get; private init; } = [];

    /// <summary>Writes all of a module's fields from an array in <see cref="Fields"/> order.</summary>
    public Action<object, object?[]>? SetFields { get; private init; }

    /// <summary>True when a module's fields all equal its recorded slots.</summary>
    public Accessors.ModuleCheck? Check { get; private init; }

    /// <summary>A new list (with capacity) or array (with length).</summary>
    public Func<int, IList>? NewList { get; private init; }

    /// <summary>A new empty dictionary.</summary>
    public Func<IDictionary>? NewDictionary { get; private init; }

    /// <summary>The node type of <paramref name="type"/>, or null when its values are static attributes.</summary>
    public static NodeType? Of(Type type) => Cache.TryGetValue(type, out var nt) ? nt : Cache.GetOrAdd(type, Classify);

    /// <summary>A new instance of a module or variable type, created without running a constructor.</summary>
    public object CreateUninitialized() => RuntimeHelpers.GetUninitializedObject(Type);

    private static NodeType? Classify(Type t)
    {
        if (t == typeof(Tensor)) return new NodeType(t, NodeKind.Tensor);
        if (typeof(Variable).IsAssignableFrom(t))
        {
            CheckVariableKind(t);
            return new NodeType(t, NodeKind.Variable);
        }
        if (typeof(Module).IsAssignableFrom(t)) return ModuleType(t);
        if (t.IsSZArray && IsNodeElement(t.GetElementType()!))
            return new NodeType(t, NodeKind.Array) { NewList = Accessors.ArrayFactory(t.GetElementType()!) };
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) && IsNodeElement(t.GetGenericArguments()[0]))
            return new NodeType(t, NodeKind.List) { NewList = Accessors.ListFactory(t) };
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>) && t.GetGenericArguments()[0] == typeof(string))
            return new NodeType(t, NodeKind.Dictionary) { NewDictionary = Accessors.DictionaryFactory(t) };
        // A delegate is a static attribute even when its signature mentions tensors (an activation function,
        // Func<Tensor, Tensor>): it is compared as a delegate (same method and target), not traversed.
        if (typeof(Delegate).IsAssignableFrom(t)) return null;
        // Filters name variable kinds in their type arguments (KindFilter<Param>) but hold no state: static.
        if (typeof(Filter).IsAssignableFrom(t)) return null;
        if (MentionsGraphTypes(t))
            throw new NotSupportedException(
                $"Nnx: a {Describe(t)} holds modules, variables or tensors, but the object graph supports only Module, Variable, " +
                "List<T>, T[] and Dictionary<string, T> (of those, nested as you like); store them in one of these.");
        return null;
    }

    /// <summary>Elements of a value type or strings make a static sequence, anything else a list of nodes.</summary>
    private static bool IsNodeElement(Type element) => !element.IsValueType && element != typeof(string);

    private static NodeType ModuleType(Type t)
    {
        var chain = new List<Type>();
        for (var c = t; c is not null && c != typeof(object); c = c.BaseType) chain.Add(c);
        chain.Reverse();
        var fields = new List<FieldAccessor>();
        var bySegment = new Dictionary<string, FieldInfo>(StringComparer.Ordinal);
        foreach (var c in chain)
        {
            var declared = c.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            // Metadata tokens follow declaration order within a type; reflection's own order is not promised.
            System.Array.Sort(declared, (a, b) => a.MetadataToken.CompareTo(b.MetadataToken));
            foreach (var f in declared)
            {
                if (f.FieldType == typeof(Tensor) || (f.FieldType.IsValueType && MentionsGraphTypes(f.FieldType)))
                    throw new NotSupportedException(
                        $"{Describe(t)}.{PathNames.SourceName(f.Name)} is a {Describe(f.FieldType)}: a module keeps tensors in Variables " +
                        "(Param, BatchStat, Cache, …) and submodules in fields, lists, arrays or string-keyed dictionaries.");
                var accessor = new FieldAccessor(f, t);
                var key = accessor.Segment ?? f.Name;
                if (bySegment.TryGetValue(key, out var other))
                    throw new NotSupportedException(
                        $"{Describe(t)}: fields '{other.Name}' and '{f.Name}' both give the path segment '{key}'; rename one.");
                bySegment[key] = f;
                fields.Add(accessor);
            }
        }
        var infos = fields.Select(a => a.Field).ToArray();
        return new NodeType(t, NodeKind.Module) { Fields = [.. fields], SetFields = Accessors.Setter(t, infos), Check = Accessors.Checker(t, infos) };
    }

    private static void CheckVariableKind(Type t)
    {
        for (var c = t; c != typeof(Variable); c = c.BaseType!)
        {
            var extra = c.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            if (extra.Length > 0)
                throw new NotSupportedException(
                    $"Variable kind {Describe(t)} declares the field '{PathNames.SourceName(extra[0].Name)}': a kind is a tag with no fields " +
                    "of its own (Merge rebuilds a variable from its kind, value and metadata); keep extra data in the module or in Metadata.");
        }
    }

    /// <summary>True when a type or any of its generic arguments is a module, variable or tensor type.</summary>
    private static bool MentionsGraphTypes(Type t) =>
        typeof(Module).IsAssignableFrom(t) || typeof(Variable).IsAssignableFrom(t) || t == typeof(Tensor)
        || (t.HasElementType && MentionsGraphTypes(t.GetElementType()!))
        || (t.IsGenericType && t.GetGenericArguments().Any(MentionsGraphTypes));

    /// <summary>A type's C# name, generic arguments included: <c>List&lt;Linear&gt;</c>.</summary>
    public static string Describe(Type t) => t.IsGenericType && t.Name.Contains('`')
        ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(Describe))}>"
        : t.IsSZArray ? Describe(t.GetElementType()!) + "[]" : t.Name;
}

/// <summary>One field of a module type: its names and compiled accessors.</summary>
internal sealed class FieldAccessor
{
    public FieldAccessor(FieldInfo field, Type owner)
    {
        Field = field;
        Name = PathNames.SourceName(field.Name);
        Segment = field.IsDefined(typeof(InlinePathAttribute)) ? null : PathNames.Segment(field.Name);
        Get = Accessors.Getter(owner, field);
        IsValueType = field.FieldType.IsValueType;
    }

    public FieldInfo Field { get; }

    /// <summary>The field's name as written in C# (a property's name for its backing field).</summary>
    public string Name { get; }

    /// <summary>The path segment (snake_case of <see cref="Name"/>), or null when the field's children sit directly under the module.</summary>
    public string? Segment { get; }

    /// <summary>Reads the field, boxed.</summary>
    public Func<object, object?> Get { get; }

    /// <summary>True for a value-typed field, which always holds a static attribute.</summary>
    public bool IsValueType { get; }
}

/// <summary>
/// Marks a dictionary field whose entries appear directly under the module's path (used by <see cref="Rngs"/>,
/// so that its streams read <c>rngs/params/key</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Field)]
internal sealed class InlinePathAttribute : Attribute;
