using System.Collections;
using System.Linq.Expressions;
using System.Reflection;
using System.Reflection.Emit;

namespace NnxSharp;

/// <summary>
/// The compiled delegates behind <see cref="NodeType"/>, built once per type: getters and comparers from
/// expression trees, and the all-fields setter in IL (expression trees cannot assign readonly fields).
/// </summary>
internal static class Accessors
{
    /// <summary><c>o =&gt; (object)((T)o).field</c>.</summary>
    public static Func<object, object?> Getter(Type owner, FieldInfo field)
    {
        var o = Expression.Parameter(typeof(object), "o");
        var read = Expression.Field(Expression.Convert(o, owner), field);
        return Expression.Lambda<Func<object, object?>>(Expression.Convert(read, typeof(object)), o).Compile();
    }

    /// <summary><c>(o, e) =&gt; EqualityComparer&lt;F&gt;.Default.Equals(((T)o).field, (F)e)</c>: no boxing of the field.</summary>
    public static Func<object, object?, bool> ValueComparer(Type owner, FieldInfo field)
    {
        var o = Expression.Parameter(typeof(object), "o");
        var e = Expression.Parameter(typeof(object), "e");
        var ft = field.FieldType;
        var comparer = typeof(EqualityComparer<>).MakeGenericType(ft);
        var equals = comparer.GetMethod(nameof(EqualityComparer<int>.Equals), [ft, ft])!;
        var body = Expression.Call(
            Expression.Property(null, comparer.GetProperty(nameof(EqualityComparer<int>.Default))!),
            equals,
            Expression.Field(Expression.Convert(o, owner), field),
            Expression.Convert(e, ft));
        // A value of another type (or null) in the snapshot is a different structure, not an exception.
        var guarded = Expression.AndAlso(Expression.TypeIs(e, ft), body);
        return Expression.Lambda<Func<object, object?, bool>>(ft.IsGenericType && ft.GetGenericTypeDefinition() == typeof(Nullable<>) ? body : guarded, o, e).Compile();
    }

    /// <summary>An <c>(object target, object?[] values)</c> method that stores values[i] into fields[i], readonly ones included.</summary>
    public static Action<object, object?[]> Setter(Type owner, FieldInfo[] fields)
    {
        var method = new DynamicMethod($"Set_{owner.Name}", typeof(void), [typeof(object), typeof(object?[])], typeof(Accessors).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        var target = il.DeclareLocal(owner);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, owner);
        il.Emit(OpCodes.Stloc, target);
        for (var i = 0; i < fields.Length; i++)
        {
            il.Emit(OpCodes.Ldloc, target);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4, i);
            il.Emit(OpCodes.Ldelem_Ref);
            il.Emit(fields[i].FieldType.IsValueType ? OpCodes.Unbox_Any : OpCodes.Castclass, fields[i].FieldType);
            il.Emit(OpCodes.Stfld, fields[i]);
        }
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<Action<object, object?[]>>();
    }

    /// <summary><c>n =&gt; new T[n]</c>.</summary>
    public static Func<int, IList> ArrayFactory(Type element)
    {
        var n = Expression.Parameter(typeof(int), "n");
        return Expression.Lambda<Func<int, IList>>(Expression.NewArrayBounds(element, n), n).Compile();
    }

    /// <summary><c>n =&gt; new List&lt;T&gt;(n)</c>.</summary>
    public static Func<int, IList> ListFactory(Type listType)
    {
        var n = Expression.Parameter(typeof(int), "n");
        var make = Expression.New(listType.GetConstructor([typeof(int)])!, n);
        return Expression.Lambda<Func<int, IList>>(Expression.Convert(make, typeof(IList)), n).Compile();
    }

    /// <summary><c>() =&gt; new Dictionary&lt;string, T&gt;()</c>.</summary>
    public static Func<IDictionary> DictionaryFactory(Type dictionaryType) =>
        Expression.Lambda<Func<IDictionary>>(Expression.Convert(Expression.New(dictionaryType), typeof(IDictionary))).Compile();
}
