using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp;

public sealed partial class Tensor
{
    /// <summary>A scalar of this tensor's dtype (for shift amounts, which never change the type).</summary>
    private Tensor Weak(double value) => WeakScalar(value, DType, this);

    /// <summary>
    /// The scalar <paramref name="value"/> of <paramref name="dtype"/> to combine with <paramref name="like"/>: recorded
    /// in a trace; on a concrete tensor, a cached constant on its backend (<see cref="Eager.Constant"/>), so that
    /// <c>x * 2.0</c> runs one primitive rather than uploading a new scalar first.
    /// </summary>
    private static Tensor WeakScalar(double value, DType dtype, Tensor like) =>
        TraceBuilder.Current is null && like._buffer is { } b ? Eager.Constant(value, dtype, b.Backend) : Full(value, dtype);

    /// <summary>
    /// A C# number combined with this tensor, as a weakly typed JAX scalar: both in the promoted dtype
    /// (<see cref="DTypes.PromoteWeak"/>): <c>f32 * 0.5</c> and <c>u32 + 1</c> keep the tensor's type,
    /// <c>i32 * 0.5</c> is float32.
    /// </summary>
    private static Tensor ScalarOp(Primitive op, Tensor t, double value, bool isFloat, bool scalarFirst = false)
    {
        var dtype = DTypes.PromoteWeak(t.DType, isFloat);
        if (op is Div) dtype = DTypes.Inexact(dtype);
        var x = t.Cast(dtype);
        var c = WeakScalar(value, dtype, x);
        return scalarFirst ? op.Bind(c, x) : op.Bind(x, c);
    }

    /// <summary>Both operands cast to their promoted dtype.</summary>
    private static (Tensor, Tensor) Promoted(Tensor a, Tensor b)
    {
        if (a.DType == b.DType) return (a, b);
        var t = DTypes.Promote(a.DType, b.DType);
        return (a.Cast(t), b.Cast(t));
    }

    private static Tensor Binary(Primitive op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var (x, y) = Promoted(a, b);
        // '/' is true division, as jnp.divide: integers are divided as floats.
        if (op is Div && !x.DType.IsFloat()) (x, y) = (x.Cast(DTypes.Inexact(x.DType)), y.Cast(DTypes.Inexact(y.DType)));
        return op.Bind(x, y);
    }

    /// <summary>Elementwise sum with broadcasting and type promotion.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Binary(new Add(), a, b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double b) => ScalarOp(new Add(), a, b, isFloat: true);
    /// <summary>With a weakly typed integer scalar (the tensor keeps its type, bool becomes int32).</summary>
    public static Tensor operator +(Tensor a, int b) => ScalarOp(new Add(), a, b, isFloat: false);
    /// <summary>Adds to a scalar.</summary>
    public static Tensor operator +(double a, Tensor b) => ScalarOp(new Add(), b, a, isFloat: true, scalarFirst: true);
    /// <summary>With a weakly typed integer scalar first.</summary>
    public static Tensor operator +(int a, Tensor b) => ScalarOp(new Add(), b, a, isFloat: false, scalarFirst: true);
    /// <summary>Elementwise difference.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary(new Sub(), a, b);
    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double b) => ScalarOp(new Sub(), a, b, isFloat: true);
    /// <summary>With a weakly typed integer scalar (the tensor keeps its type, bool becomes int32).</summary>
    public static Tensor operator -(Tensor a, int b) => ScalarOp(new Sub(), a, b, isFloat: false);
    /// <summary>Subtracts from a scalar.</summary>
    public static Tensor operator -(double a, Tensor b) => ScalarOp(new Sub(), b, a, isFloat: true, scalarFirst: true);
    /// <summary>With a weakly typed integer scalar first.</summary>
    public static Tensor operator -(int a, Tensor b) => ScalarOp(new Sub(), b, a, isFloat: false, scalarFirst: true);
    /// <summary>Elementwise product.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary(new Mul(), a, b);
    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, double b) => ScalarOp(new Mul(), a, b, isFloat: true);
    /// <summary>With a weakly typed integer scalar (the tensor keeps its type, bool becomes int32).</summary>
    public static Tensor operator *(Tensor a, int b) => ScalarOp(new Mul(), a, b, isFloat: false);
    /// <summary>Multiplies a scalar.</summary>
    public static Tensor operator *(double a, Tensor b) => ScalarOp(new Mul(), b, a, isFloat: true, scalarFirst: true);
    /// <summary>With a weakly typed integer scalar first.</summary>
    public static Tensor operator *(int a, Tensor b) => ScalarOp(new Mul(), b, a, isFloat: false, scalarFirst: true);
    /// <summary>Elementwise quotient.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary(new Div(), a, b);
    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double b) => ScalarOp(new Div(), a, b, isFloat: true);
    /// <summary>With a weakly typed integer scalar (the tensor keeps its type, bool becomes int32).</summary>
    public static Tensor operator /(Tensor a, int b) => ScalarOp(new Div(), a, b, isFloat: false);
    /// <summary>Divides a scalar.</summary>
    public static Tensor operator /(double a, Tensor b) => ScalarOp(new Div(), b, a, isFloat: true, scalarFirst: true);
    /// <summary>With a weakly typed integer scalar first.</summary>
    public static Tensor operator /(int a, Tensor b) => ScalarOp(new Div(), b, a, isFloat: false, scalarFirst: true);
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    /// <summary>Elementwise a &lt; b.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => Binary(new Less(), a, b);
    /// <summary>Elementwise a &gt; b.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => Binary(new Greater(), a, b);
    /// <summary>Elementwise a ≤ b.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => Binary(new LessEqual(), a, b);
    /// <summary>Elementwise a ≥ b.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => Binary(new GreaterEqual(), a, b);
    /// <summary>Elementwise a &lt; scalar.</summary>
    public static Tensor operator <(Tensor a, double b) => ScalarOp(new Less(), a, b, isFloat: true);
    /// <summary>Compares with a weakly typed integer scalar.</summary>
    public static Tensor operator <(Tensor a, int b) => ScalarOp(new Less(), a, b, isFloat: false);
    /// <summary>Elementwise a &gt; scalar.</summary>
    public static Tensor operator >(Tensor a, double b) => ScalarOp(new Greater(), a, b, isFloat: true);
    /// <summary>Compares with a weakly typed integer scalar.</summary>
    public static Tensor operator >(Tensor a, int b) => ScalarOp(new Greater(), a, b, isFloat: false);
    /// <summary>Elementwise a ≤ scalar.</summary>
    public static Tensor operator <=(Tensor a, double b) => ScalarOp(new LessEqual(), a, b, isFloat: true);
    /// <summary>Compares with a weakly typed integer scalar.</summary>
    public static Tensor operator <=(Tensor a, int b) => ScalarOp(new LessEqual(), a, b, isFloat: false);
    /// <summary>Elementwise a ≥ scalar.</summary>
    public static Tensor operator >=(Tensor a, double b) => ScalarOp(new GreaterEqual(), a, b, isFloat: true);
    /// <summary>Compares with a weakly typed integer scalar.</summary>
    public static Tensor operator >=(Tensor a, int b) => ScalarOp(new GreaterEqual(), a, b, isFloat: false);

    /// <summary>Logical and of bools, bitwise and of integers.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => Binary(a.DType == DType.Bool ? new And() : new BitwiseAnd(), a, b);
    /// <summary>Logical or of bools, bitwise or of integers.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => Binary(a.DType == DType.Bool ? new Or() : new BitwiseOr(), a, b);
    /// <summary>Logical xor of bools (as not-equal), bitwise xor of integers.</summary>
    public static Tensor operator ^(Tensor a, Tensor b) => a.DType == DType.Bool ? a.NotEqual(b) : Binary(new BitwiseXor(), a, b);
    /// <summary>Logical not of bools, bitwise complement of integers.</summary>
    public static Tensor operator ~(Tensor a) => a.DType == DType.Bool ? new Not().Bind(a) : new BitwiseNot().Bind(a);
    /// <summary>Logical not of a bool tensor.</summary>
    public static Tensor operator !(Tensor a) => new Not().Bind(a);
    /// <summary>Shifts an unsigned integer tensor left.</summary>
    public static Tensor operator <<(Tensor a, int bits) => new ShiftLeft().Bind(a, a.Weak(bits));
    /// <summary>Shifts an unsigned integer tensor right (logical).</summary>
    public static Tensor operator >>(Tensor a, int bits) => new ShiftRight().Bind(a, a.Weak(bits));
    /// <summary>Shifts left by per-element amounts.</summary>
    public Tensor ShiftLeft(Tensor bits) => Binary(new ShiftLeft(), this, bits);
    /// <summary>Shifts right (logical) by per-element amounts.</summary>
    public Tensor ShiftRight(Tensor bits) => Binary(new ShiftRight(), this, bits);

    /// <summary>Elementwise a == b.</summary>
    public Tensor Equal(Tensor other) => Binary(new Equal(), this, other);
    /// <summary>Elementwise a == scalar.</summary>
    public Tensor Equal(double other) => ScalarOp(new Equal(), this, other, isFloat: true);
    /// <summary>Elementwise a == integer scalar (weakly typed: an integer tensor is compared as itself).</summary>
    public Tensor Equal(int other) => ScalarOp(new Equal(), this, other, isFloat: false);
    /// <summary>Elementwise a ≠ b.</summary>
    public Tensor NotEqual(Tensor other) => new Not().Bind(Equal(other));
    /// <summary>Elementwise a ≠ scalar.</summary>
    public Tensor NotEqual(double other) => new Not().Bind(Equal(other));
    /// <summary>Elementwise a ≠ integer scalar.</summary>
    public Tensor NotEqual(int other) => new Not().Bind(Equal(other));

    /// <summary>−x.</summary>
    public Tensor Neg() => new Neg().Bind(this);
    /// <summary>|x|.</summary>
    public Tensor Abs() => new Abs().Bind(this);
    /// <summary>The sign of x: −1, 0 or 1.</summary>
    public Tensor Sign() => new Sign().Bind(this);
    /// <summary>e^x.</summary>
    public Tensor Exp() => new Exp().Bind(this);
    /// <summary>ln x.</summary>
    public Tensor Log() => new Log().Bind(this);
    /// <summary>√x.</summary>
    public Tensor Sqrt() => new Sqrt().Bind(this);
    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => new Rsqrt().Bind(this);
    /// <summary>tanh x.</summary>
    public Tensor Tanh() => new Tanh().Bind(this);
    /// <summary>The logistic sigmoid 1/(1+e^−x).</summary>
    public Tensor Sigmoid() => new Logistic().Bind(this);
    /// <summary>The error function.</summary>
    public Tensor Erf() => new Erf().Bind(this);
    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => new Relu().Bind(this);
    /// <summary>x².</summary>
    public Tensor Square() => this * this;
    /// <summary>1/x.</summary>
    public Tensor Reciprocal() => 1.0 / this;
    /// <summary>x^y elementwise.</summary>
    public Tensor Pow(Tensor y) => Binary(new Pow(), this, y);
    /// <summary>x^y for a scalar y.</summary>
    public Tensor Pow(double y) => ScalarOp(new Pow(), this, y, isFloat: true);
    /// <summary>Elementwise maximum.</summary>
    public Tensor Maximum(Tensor other) => Binary(new Max(), this, other);
    /// <summary>Elementwise maximum with a scalar.</summary>
    public Tensor Maximum(double other) => ScalarOp(new Max(), this, other, isFloat: true);
    /// <summary>Elementwise maximum with a weakly typed integer scalar.</summary>
    public Tensor Maximum(int other) => ScalarOp(new Max(), this, other, isFloat: false);
    /// <summary>Elementwise minimum.</summary>
    public Tensor Minimum(Tensor other) => Binary(new Min(), this, other);
    /// <summary>Elementwise minimum with a scalar.</summary>
    public Tensor Minimum(double other) => ScalarOp(new Min(), this, other, isFloat: true);
    /// <summary>Elementwise minimum with a weakly typed integer scalar.</summary>
    public Tensor Minimum(int other) => ScalarOp(new Min(), this, other, isFloat: false);
    /// <summary>Converts to another dtype (the same tensor when it already has it).</summary>
    public Tensor Cast(DType dtype) => dtype == DType ? this : new Cast(dtype).Bind(this);
    /// <summary>The same value, with no gradient flowing through it.</summary>
    public Tensor StopGradient() => new StopGradient().Bind(this);

    /// <summary><c>cond ? a : b</c> elementwise with broadcasting; a and b are promoted to one dtype.</summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        var (x, y) = Promoted(a, b);
        return new Where().Bind(cond, x, y);
    }

    /// <summary><c>cond ? a : b</c> with a weakly typed scalar b (a float scalar makes an integer a float32).</summary>
    public static Tensor Where(Tensor cond, Tensor a, double b)
    {
        var t = DTypes.PromoteWeak(a.DType, weakFloat: true);
        return new Where().Bind(cond, a.Cast(t), Full(b, t));
    }

    /// <summary><c>cond ? a : b</c> with a weakly typed scalar a.</summary>
    public static Tensor Where(Tensor cond, double a, Tensor b)
    {
        var t = DTypes.PromoteWeak(b.DType, weakFloat: true);
        return new Where().Bind(cond, Full(a, t), b.Cast(t));
    }
}
