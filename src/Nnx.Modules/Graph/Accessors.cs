using System.Collections;
using System.Linq.Expressions;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>
/// The compiled delegates behind <see cref="NodeType"/>, built once per type: getters and structure checks from
/// expression trees, and the all-fields setter in IL (expression trees cannot assign readonly fields).
/// </summary>
internal static class Accessors
{
    /// <summary>Compares a module's fields with its recorded slots (see <see cref="Checker"/>).</summary>
    public delegate bool ModuleCheck(object module, SlotDef[] slots, int start, object?[] objects);

    /// <summary><c>o =&gt; (object)((T)o).field</c>.</summary>
    public static Func<object, object?> Getter(Type owner, FieldInfo field)
    {
        var o = Expression.Parameter(typeof(object), "o");
        var read = Expression.Field(Expression.Convert(o, owner), field);
        return Expression.Lambda<Func<object, object?>>(Expression.Convert(read, typeof(object)), o).Compile();
    }

    /// <summary>
    /// A method that tells whether every field of a module equals what its slots recorded: child nodes by
    /// reference, value-typed fields without boxing, other statics with <see cref="StaticValue.Matches"/>.
    /// One compiled body per type, so the structure check makes one call per module.
    /// </summary>
    public static ModuleCheck Checker(Type owner, FieldInfo[] fields)
    {
        var o = Expression.Parameter(typeof(object), "o");
        var slots = Expression.Parameter(typeof(SlotDef[]), "slots");
        var start = Expression.Parameter(typeof(int), "start");
        var objects = Expression.Parameter(typeof(object?[]), "objects");
        var typed = Expression.Variable(owner, "t");
        Expression all = Expression.Constant(true);
        for (var i = fields.Length - 1; i >= 0; i--)
        {
            var f = fields[i];
            var index = Expression.Add(start, Expression.Constant(i));
            var read = Expression.Field(typed, f);
            Expression same = f.FieldType.IsValueType
                ? Expression.Call(typeof(Accessors).GetMethod(nameof(SameValue))!.MakeGenericMethod(f.FieldType), read, slots, index)
                : Expression.Call(typeof(Accessors).GetMethod(nameof(SameSlot))!, read, slots, index, objects);
            all = i == fields.Length - 1 ? same : Expression.AndAlso(same, all);
        }
        var body = Expression.Block([typed], Expression.Assign(typed, Expression.Convert(o, owner)), all);
        return Expression.Lambda<ModuleCheck>(body, o, slots, start, objects).Compile();
    }

    /// <summary>A value-typed field against its recorded static value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool SameValue<T>(T value, SlotDef[] slots, int index) =>
        slots[index].Static is T recorded ? StaticEquality.Same(value, recorded) : slots[index].Static is null && value is null;

    /// <summary>A reference-typed field against its slot: the same child node, or an equal static value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool SameSlot(object? value, SlotDef[] slots, int index, object?[] objects)
    {
        ref readonly var slot = ref slots[index];
        return slot.Node >= 0 ? ReferenceEquals(value, objects[slot.Node]) : StaticValue.Matches(value, slot.Static);
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
