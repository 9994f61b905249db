using System.Runtime.CompilerServices;

namespace NnxSharp;

/// <summary>The element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float.</summary>
    Float32,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
    /// <summary>16-bit IEEE float; a storage type (cast it to compute).</summary>
    Float16,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>64-bit signed integer.</summary>
    Int64,
    /// <summary>32-bit unsigned integer (wraps modulo 2^32).</summary>
    UInt32,
    /// <summary>64-bit unsigned integer (wraps modulo 2^64).</summary>
    UInt64,
    /// <summary>Boolean.</summary>
    Bool,
}

/// <summary>Facts about each <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloat(this DType t) => t is DType.Float32 or DType.Float64 or DType.Float16;

    /// <summary>True for the signed and unsigned integer types (not bool).</summary>
    public static bool IsInteger(this DType t) => t is DType.Int32 or DType.Int64 or DType.UInt32 or DType.UInt64;

    /// <summary>True for the unsigned integer types.</summary>
    public static bool IsUnsigned(this DType t) => t is DType.UInt32 or DType.UInt64;

    /// <summary>True for types on which arithmetic is defined (floats except float16, and integers).</summary>
    public static bool IsNumeric(this DType t) => t is not (DType.Bool or DType.Float16);

    /// <summary>Bytes per element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ItemSize(this DType t) => t switch
    {
        DType.Float32 or DType.Int32 or DType.UInt32 => 4,
        DType.Float64 or DType.Int64 or DType.UInt64 => 8,
        DType.Float16 => 2,
        DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The short name used when printing IR, as in a jaxpr: f32, i64, u32, bool.</summary>
    public static string ShortName(this DType t) => t switch
    {
        DType.Float32 => "f32",
        DType.Float64 => "f64",
        DType.Float16 => "f16",
        DType.Int32 => "i32",
        DType.Int64 => "i64",
        DType.UInt32 => "u32",
        DType.UInt64 => "u64",
        DType.Bool => "bool",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>The dtype that holds values of the CLR type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        typeof(T) == typeof(Half) ? DType.Float16 :
        typeof(T) == typeof(int) ? DType.Int32 :
        typeof(T) == typeof(long) ? DType.Int64 :
        typeof(T) == typeof(uint) ? DType.UInt32 :
        typeof(T) == typeof(ulong) ? DType.UInt64 :
        typeof(T) == typeof(bool) ? DType.Bool :
        throw new NotSupportedException($"No Nnx dtype holds {typeof(T).Name}.");

    /// <summary>
    /// The dtype two tensors are promoted to: the join of their types on JAX's type promotion lattice
    /// (<c>b1 → i* → u32 → u64 → f*</c>, <c>i* → i32 → i64 → f*</c>, <c>u32 → i64</c>, <c>f* → f16 → f32 → f64</c>), as
    /// <c>jax.numpy.promote_types</c>. A weak type that is the result of two strong ones (<c>u64</c> with a signed
    /// integer gives <c>f*</c>) takes Nnx's default dtype of its kind: float32 (JAX without x64).
    /// </summary>
    public static DType Promote(DType a, DType b) => a == b ? a : Materialize(Lattice.Join(Lattice.Of(a), Lattice.Of(b)));

    /// <summary>
    /// The dtype of a tensor of type <paramref name="t"/> combined with a weakly typed scalar (a C# <c>int</c>
    /// when <paramref name="weakFloat"/> is false, a <c>double</c> when true): the tensor's type when it can hold
    /// the scalar's kind (<c>f32 * 0.5</c> stays f32, <c>u32 + 1</c> stays u32), else the scalar's kind in the
    /// default width (<c>i32 * 0.5</c> is f32, <c>bool + 1</c> is i32), as JAX's weak types.
    /// </summary>
    public static DType PromoteWeak(DType t, bool weakFloat) =>
        Materialize(Lattice.Join(Lattice.Of(t), weakFloat ? Lattice.WeakFloat : Lattice.WeakInt));

    /// <summary>The dtype a mean, or a true division, of <paramref name="t"/> is computed in: t for floats, float32 otherwise (as <c>jnp.mean</c>).</summary>
    public static DType Inexact(DType t) => PromoteWeak(t, weakFloat: true);

    private static DType Materialize(int node) => node switch
    {
        Lattice.WeakInt => DType.Int32,
        Lattice.WeakFloat => DType.Float32,
        _ => (DType)node,
    };

    /// <summary>JAX's promotion lattice over Nnx's dtypes and the two weak kinds; the join is the least common upper bound.</summary>
    private static class Lattice
    {
        public const int WeakInt = 100;
        public const int WeakFloat = 101;

        // Each node's direct successors (JAX's lattice without the types Nnx lacks: u8/u16, i8/i16, bf16, complex).
        private static readonly Dictionary<int, int[]> Up = new()
        {
            [(int)DType.Bool] = [WeakInt],
            [WeakInt] = [(int)DType.UInt32, (int)DType.Int32],
            [(int)DType.UInt32] = [(int)DType.UInt64, (int)DType.Int64],
            [(int)DType.UInt64] = [WeakFloat],
            [(int)DType.Int32] = [(int)DType.Int64],
            [(int)DType.Int64] = [WeakFloat],
            [WeakFloat] = [(int)DType.Float16],
            [(int)DType.Float16] = [(int)DType.Float32],
            [(int)DType.Float32] = [(int)DType.Float64],
            [(int)DType.Float64] = [],
        };

        private static readonly Dictionary<int, HashSet<int>> Above = Up.Keys.ToDictionary(k => k, Closure);

        // Every pair's join, computed once: promotion runs on each eager scalar operation.
        private static readonly Dictionary<(int, int), int> Joins =
            Up.Keys.SelectMany(a => Up.Keys.Select(b => (a, b))).ToDictionary(p => p, p => ComputeJoin(p.a, p.b));

        public static int Of(DType t) => (int)t;

        /// <summary>The upper bound of both that is below every other common upper bound.</summary>
        public static int Join(int a, int b) => Joins[(a, b)];

        private static int ComputeJoin(int a, int b)
        {
            var common = Above[a].Where(Above[b].Contains).ToList();
            return common.First(c => common.All(d => Above[c].Contains(d)));
        }

        private static HashSet<int> Closure(int n)
        {
            var seen = new HashSet<int> { n };
            var todo = new Stack<int>([n]);
            while (todo.Count > 0)
                foreach (var next in Up[todo.Pop()])
                    if (seen.Add(next)) todo.Push(next);
            return seen;
        }
    }
}
