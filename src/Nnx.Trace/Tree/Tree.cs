using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// Trees of tensors (JAX's pytrees): nested containers whose leaves are tensors. <see cref="Flatten"/> splits a
/// tree into its tensors and a <see cref="TreeDef"/> (the structure); <see cref="Unflatten"/> rebuilds it.
/// Supported: <see cref="Tensor"/> leaves; null; <see cref="ValueTuple"/> of any arity; arrays,
/// <see cref="List{T}"/> and other <see cref="IReadOnlyList{T}"/> (rebuilt as arrays) of trees;
/// <see cref="Dictionary{TKey, TValue}"/> with string keys (visited in ordinal key order); <see cref="ITreeNode"/>
/// types; and static leaves (int, long, float, double, bool, string, enums, <see cref="IStaticValue"/> types),
/// which are kept in the def and compared by value.
/// </summary>
public static class Tree
{
    private static readonly ConcurrentDictionary<Type, TypeInfo> Types = new();

    /// <summary>Appends the tensors of <paramref name="tree"/> to <paramref name="leaves"/>, in order, and returns its structure.</summary>
    public static TreeDef Flatten(object? tree, List<Tensor> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        var path = new List<string>();
        return Build(tree, leaves, path);
    }

    /// <summary>The tensors of a tree, in the order <see cref="Flatten"/> visits them.</summary>
    public static List<Tensor> Leaves(object? tree)
    {
        var leaves = new List<Tensor>();
        Flatten(tree, leaves);
        return leaves;
    }

    /// <summary>Rebuilds a tree of structure <paramref name="def"/> from its tensors.</summary>
    public static object? Unflatten(TreeDef def, IReadOnlyList<Tensor> leaves)
    {
        ArgumentNullException.ThrowIfNull(def);
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count != def.LeafCount)
            throw new ArgumentException($"Tree.Unflatten: {def} has {def.LeafCount} tensor leaves but {leaves.Count} were given.");
        var next = 0;
        return Rebuild(def, leaves, ref next);
    }

    /// <summary>Rebuilds a tree of structure <paramref name="def"/> from its tensors, as a <typeparamref name="T"/>.</summary>
    public static T Unflatten<T>(TreeDef def, IReadOnlyList<Tensor> leaves) => Unflatten(def, leaves) switch
    {
        T t => t,
        null when default(T) is null => default!,
        var other => throw new InvalidCastException($"Tree.Unflatten: {def} rebuilds a {other?.GetType().Name ?? "null"}, not a {typeof(T).Name}."),
    };

    /// <summary>The tree with <paramref name="f"/> applied to every tensor (the structure and static leaves unchanged).</summary>
    public static T Map<T>(T tree, Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var leaves = new List<Tensor>();
        var def = Flatten(tree, leaves);
        for (var i = 0; i < leaves.Count; i++) leaves[i] = f(leaves[i]);
        return Unflatten<T>(def, leaves);
    }

    private static TreeDef Build(object? x, List<Tensor> leaves, List<string> path)
    {
        if (x is Tensor t)
        {
            leaves.Add(t);
            return TreeDef.Leaf;
        }
        if (x is null) return TreeDef.Null;
        var type = x.GetType();
        var info = Types.GetOrAdd(type, Classify);
        switch (info.Kind)
        {
            case TreeKind.Static:
                return new TreeDef(TreeKind.Static, type, x, []);
            case TreeKind.Tuple:
            {
                var tuple = (ITuple)x;
                var children = ImmutableArray.CreateBuilder<TreeDef>(tuple.Length);
                for (var i = 0; i < tuple.Length; i++) children.Add(Child(tuple[i], leaves, path, $"[{i}]"));
                return new TreeDef(TreeKind.Tuple, type, null, children.MoveToImmutable());
            }
            case TreeKind.Array or TreeKind.List:
            {
                var children = ImmutableArray.CreateBuilder<TreeDef>();
                var i = 0;
                foreach (var item in (IEnumerable)x) children.Add(Child(item, leaves, path, $"[{i++}]"));
                return new TreeDef(info.Kind, info.RebuiltType, null, children.ToImmutable());
            }
            case TreeKind.Dictionary:
            {
                var dict = (IDictionary)x;
                var keys = dict.Keys.Cast<string>().Order(StringComparer.Ordinal).ToImmutableArray();
                var children = ImmutableArray.CreateBuilder<TreeDef>(keys.Length);
                foreach (var k in keys) children.Add(Child(dict[k], leaves, path, $"['{k}']"));
                return new TreeDef(TreeKind.Dictionary, type, keys, children.MoveToImmutable());
            }
            case TreeKind.Node:
            {
                var node = (ITreeNode)x;
                var (items, aux) = node.TreeFlatten();
                var children = ImmutableArray.CreateBuilder<TreeDef>(items.Count);
                for (var i = 0; i < items.Count; i++) children.Add(Child(items[i], leaves, path, $"[{i}]"));
                return new TreeDef(TreeKind.Node, type, aux, children.MoveToImmutable(), node);
            }
            default:
                var at = path.Count == 0 ? "the root" : string.Concat(path);
                throw new ArgumentException(
                    $"Tree.Flatten: a {Describe(type)} at {at} is not a tree node. Trees hold tensors, null, value tuples, arrays, " +
                    "lists, Dictionary<string, T>, ITreeNode types, and static int, long, float, double, bool, string or enum values.");
        }
    }

    private static TreeDef Child(object? x, List<Tensor> leaves, List<string> path, string segment)
    {
        path.Add(segment);
        var def = Build(x, leaves, path);
        path.RemoveAt(path.Count - 1);
        return def;
    }

    private static object? Rebuild(TreeDef def, IReadOnlyList<Tensor> leaves, ref int next)
    {
        switch (def.Kind)
        {
            case TreeKind.Leaf: return leaves[next++];
            case TreeKind.Null: return null;
            case TreeKind.Static: return def.Aux;
        }
        var items = new object?[def.Children.Length];
        for (var i = 0; i < items.Length; i++) items[i] = Rebuild(def.Children[i], leaves, ref next);
        var info = Types.GetOrAdd(def.Type!, Classify);
        switch (def.Kind)
        {
            case TreeKind.Tuple:
                return info.NewTuple!(items, 0);
            case TreeKind.Array or TreeKind.List:
            {
                var list = info.NewList!(items.Length);
                for (var i = 0; i < items.Length; i++)
                    if (def.Kind == TreeKind.Array) list[i] = items[i];
                    else list.Add(items[i]);
                return list;
            }
            case TreeKind.Dictionary:
            {
                var dict = info.NewDictionary!();
                var keys = (ImmutableArray<string>)def.Aux!;
                for (var i = 0; i < items.Length; i++) dict.Add(keys[i], items[i]);
                return dict;
            }
            default:
                return def.Factory!.TreeUnflatten(def.Aux, items);
        }
    }

    private static string Describe(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(Describe))}>"
        : t.Name;

    /// <summary>How a type is read and rebuilt (computed once per type).</summary>
    private sealed record TypeInfo(TreeKind Kind, Type? RebuiltType = null)
    {
        public Func<object?[], int, object>? NewTuple { get; init; }
        public Func<int, IList>? NewList { get; init; }
        public Func<IDictionary>? NewDictionary { get; init; }
    }

    private static TypeInfo Classify(Type t)
    {
        if (typeof(ITreeNode).IsAssignableFrom(t)) return new TypeInfo(TreeKind.Node);
        if (typeof(IStaticValue).IsAssignableFrom(t)) return new TypeInfo(TreeKind.Static);
        if (t.IsEnum || t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double) || t == typeof(bool) || t == typeof(string))
            return new TypeInfo(TreeKind.Static);
        if (IsValueTuple(t)) return new TypeInfo(TreeKind.Tuple) { NewTuple = TupleFactory(t) };
        if (t.IsSZArray) return ArrayOf(t.GetElementType()!);
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
            return new TypeInfo(TreeKind.List, t) { NewList = Compile<Func<int, IList>>(t, typeof(int)) };
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Dictionary<,>) && t.GetGenericArguments()[0] == typeof(string))
            return new TypeInfo(TreeKind.Dictionary) { NewDictionary = Compile<Func<IDictionary>>(t) };
        var list = t.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyList<>));
        return list is null ? new TypeInfo((TreeKind)255) : ArrayOf(list.GetGenericArguments()[0]);
    }

    private static TypeInfo ArrayOf(Type element)
    {
        var n = Expression.Parameter(typeof(int));
        var make = Expression.Lambda<Func<int, IList>>(Expression.NewArrayBounds(element, n), n).Compile();
        return new TypeInfo(TreeKind.Array, element.MakeArrayType()) { NewList = make };
    }

    private static bool IsValueTuple(Type t) =>
        t == typeof(ValueTuple) || (t.IsValueType && t.IsGenericType && t.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal));

    /// <summary>A factory <c>(items, offset) => new ValueTuple&lt;…&gt;(items[offset], …)</c>; the 8th element of a long tuple is a nested tuple.</summary>
    private static Func<object?[], int, object> TupleFactory(Type t)
    {
        if (t == typeof(ValueTuple)) return (_, _) => default(ValueTuple);
        var args = t.GetGenericArguments();
        var items = Expression.Parameter(typeof(object?[]));
        var offset = Expression.Parameter(typeof(int));
        var ctorArgs = new Expression[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            var at = Expression.Add(offset, Expression.Constant(i));
            ctorArgs[i] = i < 7
                ? Expression.Convert(Expression.ArrayIndex(items, at), args[i])
                : Expression.Convert(Expression.Invoke(Expression.Constant(TupleFactory(args[i])), items, at), args[i]);
        }
        var body = Expression.Convert(Expression.New(t.GetConstructor(args)!, ctorArgs), typeof(object));
        return Expression.Lambda<Func<object?[], int, object>>(body, items, offset).Compile();
    }

    private static TDelegate Compile<TDelegate>(Type t, params Type[] ctorParams) where TDelegate : Delegate
    {
        var ps = ctorParams.Select(Expression.Parameter).ToArray();
        var ret = typeof(TDelegate).GetMethod("Invoke")!.ReturnType;
        return Expression.Lambda<TDelegate>(Expression.Convert(Expression.New(t.GetConstructor(ctorParams)!, ps), ret), ps).Compile();
    }
}
