using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// The jits' fast path over tree arguments: checks a tree against a cached <see cref="TreeDef"/> and leaf avals
/// in place, without building a def, and collects its tensors. A match means that <see cref="Tree.Flatten"/>
/// would give an equal def (static values compared as <see cref="StaticEquality"/> does) and concrete tensors
/// of the same avals; anything it cannot prove cheaply (another container type, a symbolic or disposed tensor)
/// is no match, and the caller takes the slow path, which builds the key and gives any error. Allocates nothing,
/// except for what an <see cref="ITreeNode"/>'s <c>TreeFlatten</c> allocates and the boxes of value-type elements
/// of a tuple.
/// </summary>
internal static class TreeMatch
{
    /// <summary>
    /// True when <paramref name="tree"/> has structure <paramref name="def"/> and its tensors are concrete with the
    /// avals <paramref name="avals"/>[<paramref name="next"/>…]; they are written to <paramref name="leaves"/> from
    /// <paramref name="next"/> on, which is advanced past them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Matches(object? tree, TreeDef def, ReadOnlySpan<Aval> avals, Span<Tensor> leaves, ref int next)
    {
        switch (def.Kind)
        {
            case TreeKind.Leaf:
                if (tree is not Tensor t || t.IsSymbolic || t.IsDisposed || !t.Aval.Equals(avals[next])) return false;
                leaves[next++] = t;
                return true;
            case TreeKind.Null:
                return tree is null;
            case TreeKind.Static:
                return tree is not null && tree.GetType() == def.Type && StaticEquality.Same(tree, def.Aux);
        }
        if (tree is null || tree.GetType() != def.Type) return false;
        var children = def.Children;
        switch (def.Kind)
        {
            case TreeKind.Tuple:
            {
                var tuple = (ITuple)tree;
                if (tuple.Length != children.Length) return false;
                for (var i = 0; i < children.Length; i++)
                    if (!Matches(tuple[i], children[i], avals, leaves, ref next)) return false;
                return true;
            }
            case TreeKind.Array or TreeKind.List:
            {
                // An array's def records the rebuilt array type, so only a tree of exactly that type gets here.
                var list = (IList)tree;
                if (list.Count != children.Length) return false;
                for (var i = 0; i < children.Length; i++)
                    if (!Matches(list[i], children[i], avals, leaves, ref next)) return false;
                return true;
            }
            case TreeKind.Dictionary:
            {
                var dict = (IDictionary)tree;
                var keys = (ImmutableArray<string>)def.Aux!;
                if (dict.Count != keys.Length) return false;
                for (var i = 0; i < keys.Length; i++)
                    if (!dict.Contains(keys[i]) || !Matches(dict[keys[i]], children[i], avals, leaves, ref next)) return false;
                return true;
            }
            default:
            {
                var (items, aux) = ((ITreeNode)tree).TreeFlatten();
                if (items.Count != children.Length || !TreeDef.SameAux(aux, def.Aux)) return false;
                for (var i = 0; i < children.Length; i++)
                    if (!Matches(items[i], children[i], avals, leaves, ref next)) return false;
                return true;
            }
        }
    }
}
