using System.Collections.Concurrent;
using System.Text;

namespace NnxSharp.Primitives;

/// <summary>
/// A primitive operation, defined once for every stage: its shape/dtype rule (<see cref="Infer"/>), its
/// vector-Jacobian product (<see cref="Vjp"/>, written with public <see cref="Tensor"/> operations so a
/// gradient is itself traceable), its lowering to ONNX (<see cref="Lower"/>), and its managed reference
/// evaluation (<see cref="Eval"/>, the test oracle). Attributes are record members, so two applications
/// with equal attributes are equal (CSE, cache keys).
/// </summary>
public abstract record Primitive
{
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    /// <summary>The printed name: the record's name in snake case (<c>ReduceSum</c> → <c>reduce_sum</c>).</summary>
    public string Name => Names.GetOrAdd(GetType(), t => SnakeCase(t.Name));

    /// <summary>The number of operands, or -1 when it varies (Concat).</summary>
    public abstract int Arity { get; }

    /// <summary>
    /// The output aval for these operand avals. Validates them and throws <see cref="ArgumentException"/>
    /// naming the op, the operand avals and the argument index.
    /// </summary>
    public abstract Aval Infer(IReadOnlyList<Aval> inputs);

    /// <summary>
    /// The cotangents of the operands given the operands, the output and the output's cotangent; null for an
    /// operand with no gradient. A cotangent may have the output's broadcast shape: the reverse pass sums it
    /// down to the operand's shape.
    /// </summary>
    public abstract Tensor?[] Vjp(Tensor[] inputs, Tensor output, Tensor cotangent);

    /// <summary>Emits the ONNX nodes that compute this primitive and returns the name of the result.</summary>
    public abstract string Lower(IOnnxEmitter e, LowerArgs args);

    /// <summary>The managed reference evaluation.</summary>
    public abstract HostArray Eval(IReadOnlyList<HostArray> inputs);

    /// <summary>Applies the primitive: recorded into the active trace, or run eagerly on concrete tensors.</summary>
    public Tensor Bind(params Tensor[] inputs) => Tensor.Apply(this, inputs);

    /// <summary>Checks the operand count, then runs <see cref="Infer"/>.</summary>
    public Aval InferChecked(IReadOnlyList<Aval> inputs)
    {
        if (Arity >= 0 && inputs.Count != Arity)
            throw new ArgumentException($"{Name}: expects {Arity} operand(s) but got {inputs.Count} ({string.Join(", ", inputs)}).");
        return Infer(inputs);
    }

    /// <summary>Prints as <c>name[attr=value ...]</c>, e.g. <c>reduce_sum[axes=(0) keep_dims=false]</c>.</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder();
        PrintMembers(sb);
        var attrs = sb.ToString().Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(FormatAttribute);
        var text = string.Join(" ", attrs);
        return text.Length == 0 ? Name : $"{Name}[{text}]";
    }

    /// <summary>Attributes are printed by derived records; the base has none.</summary>
    protected virtual bool PrintMembers(StringBuilder builder) => false;

    private static string FormatAttribute(string member)
    {
        var eq = member.IndexOf(" = ", StringComparison.Ordinal);
        if (eq < 0) return member;
        var value = member[(eq + 3)..];
        value = value switch
        {
            "True" => "true",
            "False" => "false",
            _ => Enum.TryParse<DType>(value, out var t) && Enum.IsDefined(t) && char.IsLetter(value[0]) ? t.ShortName() : value,
        };
        return SnakeCase(member[..eq]).Replace("d_type", "dtype") + "=" + value;
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && sb.Length > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
