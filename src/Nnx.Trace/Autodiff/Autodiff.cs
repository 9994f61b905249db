namespace NnxSharp;

/// <summary>
/// Reverse-mode automatic differentiation. <c>Grad(f)</c> is a function that returns the gradient of the
/// scalar <c>f</c> with respect to its arguments; <c>ValueAndGrad(f)</c> also returns <c>f</c>'s value.
/// Arguments may be tensors or trees of tensors (tuples, arrays, lists, dictionaries, <see cref="ITreeNode"/>
/// types; see <see cref="Tree"/>), and the gradient has the argument's structure. The gradient is computed
/// with the primitives' VJP rules written in public tensor operations, so it runs eagerly on concrete
/// tensors, is recorded as IR inside a trace (and lowers to ONNX like any other code), and can itself be
/// differentiated.
/// <code>
/// Tensor Loss(Tensor w, Tensor b) => ((x.MatMul(w) + b).Relu() - y).Square().Mean();
/// var (loss, (gw, gb)) = Autodiff.ValueAndGrad(Loss)(w, b);
/// </code>
/// </summary>
public static class Autodiff
{
    [ThreadStatic] private static long _reverseTicks;

    /// <summary>Time this thread has spent in reverse passes (the jit reports the share of a trace spent here).</summary>
    internal static TimeSpan ElapsedOnThisThread => System.Diagnostics.Stopwatch.GetElapsedTime(0, _reverseTicks);

    /// <summary>∂f/∂x for a scalar function of one tensor.</summary>
    public static Func<Tensor, Tensor> Grad(Func<Tensor, Tensor> f)
    {
        var vg = ValueAndGrad(f);
        return x => vg(x).Grad;
    }

    /// <summary>f(x) and ∂f/∂x for a scalar function of one tensor.</summary>
    public static Func<Tensor, (Tensor Value, Tensor Grad)> ValueAndGrad(Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return x =>
        {
            var (v, g) = Run("value_and_grad", [x], null, a => f(a[0]));
            return (v, g[0]!);
        };
    }

    /// <summary>(∂f/∂x, ∂f/∂y) for a scalar function of two tensors.</summary>
    public static Func<Tensor, Tensor, (Tensor, Tensor)> Grad(Func<Tensor, Tensor, Tensor> f)
    {
        var vg = ValueAndGrad(f);
        return (x, y) => vg(x, y).Grad;
    }

    /// <summary>f(x, y) and (∂f/∂x, ∂f/∂y) for a scalar function of two tensors.</summary>
    public static Func<Tensor, Tensor, (Tensor Value, (Tensor, Tensor) Grad)> ValueAndGrad(Func<Tensor, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return (x, y) =>
        {
            var (v, g) = Run("value_and_grad", [x, y], null, a => f(a[0], a[1]));
            return (v, (g[0]!, g[1]!));
        };
    }

    /// <summary>The gradient with respect to argument <paramref name="argnum"/> only (0 or 1) of a scalar function of two tensors.</summary>
    public static Func<Tensor, Tensor, Tensor> Grad(Func<Tensor, Tensor, Tensor> f, int argnum)
    {
        var vg = ValueAndGrad(f, argnum);
        return (x, y) => vg(x, y).Grad;
    }

    /// <summary>f(x, y) and its gradient with respect to argument <paramref name="argnum"/> only (0 or 1); the other is not differentiated.</summary>
    public static Func<Tensor, Tensor, (Tensor Value, Tensor Grad)> ValueAndGrad(Func<Tensor, Tensor, Tensor> f, int argnum)
    {
        ArgumentNullException.ThrowIfNull(f);
        var wrt = Argnum(argnum, 2);
        return (x, y) =>
        {
            var (v, g) = Run("value_and_grad", [x, y], wrt, a => f(a[0], a[1]));
            return (v, g[argnum]!);
        };
    }

    /// <summary>(∂f/∂x, ∂f/∂y, ∂f/∂z) for a scalar function of three tensors.</summary>
    public static Func<Tensor, Tensor, Tensor, (Tensor, Tensor, Tensor)> Grad(Func<Tensor, Tensor, Tensor, Tensor> f)
    {
        var vg = ValueAndGrad(f);
        return (x, y, z) => vg(x, y, z).Grad;
    }

    /// <summary>f(x, y, z) and (∂f/∂x, ∂f/∂y, ∂f/∂z) for a scalar function of three tensors.</summary>
    public static Func<Tensor, Tensor, Tensor, (Tensor Value, (Tensor, Tensor, Tensor) Grad)> ValueAndGrad(Func<Tensor, Tensor, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return (x, y, z) =>
        {
            var (v, g) = Run("value_and_grad", [x, y, z], null, a => f(a[0], a[1], a[2]));
            return (v, (g[0]!, g[1]!, g[2]!));
        };
    }

    /// <summary>The gradient with respect to argument <paramref name="argnum"/> only (0, 1 or 2) of a scalar function of three tensors.</summary>
    public static Func<Tensor, Tensor, Tensor, Tensor> Grad(Func<Tensor, Tensor, Tensor, Tensor> f, int argnum)
    {
        var vg = ValueAndGrad(f, argnum);
        return (x, y, z) => vg(x, y, z).Grad;
    }

    /// <summary>f(x, y, z) and its gradient with respect to argument <paramref name="argnum"/> only (0, 1 or 2); the others are not differentiated.</summary>
    public static Func<Tensor, Tensor, Tensor, (Tensor Value, Tensor Grad)> ValueAndGrad(Func<Tensor, Tensor, Tensor, Tensor> f, int argnum)
    {
        ArgumentNullException.ThrowIfNull(f);
        var wrt = Argnum(argnum, 3);
        return (x, y, z) =>
        {
            var (v, g) = Run("value_and_grad", [x, y, z], wrt, a => f(a[0], a[1], a[2]));
            return (v, g[argnum]!);
        };
    }

    /// <summary>The gradient of a scalar function of a tree of tensors, with the tree's structure.</summary>
    public static Func<T, T> Grad<T>(Func<T, Tensor> f)
    {
        var vg = ValueAndGrad(f);
        return x => vg(x).Grad;
    }

    /// <summary>f(tree) and its gradient, which has the tree's structure (static leaves are kept as they are).</summary>
    public static Func<T, (Tensor Value, T Grad)> ValueAndGrad<T>(Func<T, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var vg = ValueAndGrad<T, bool>(t => (f(t), false));
        return x =>
        {
            var (value, _, grad) = vg(x);
            return (value, grad);
        };
    }

    /// <summary>The gradient of the scalar first result of <paramref name="f"/>, and its auxiliary second result (not differentiated).</summary>
    public static Func<T, (T Grad, TAux Aux)> Grad<T, TAux>(Func<T, (Tensor Value, TAux Aux)> f)
    {
        var vg = ValueAndGrad(f);
        return x =>
        {
            var (_, aux, grad) = vg(x);
            return (grad, aux);
        };
    }

    /// <summary>The scalar first result of <paramref name="f"/>, its auxiliary second result, and the gradient of the first.</summary>
    public static Func<T, (Tensor Value, TAux Aux, T Grad)> ValueAndGrad<T, TAux>(Func<T, (Tensor Value, TAux Aux)> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return x => Differentiate(f, x);
    }

    private static (Tensor Value, TAux Aux, T Grad) Differentiate<T, TAux>(Func<T, (Tensor Value, TAux Aux)> f, T x)
    {
        var leaves = new List<Tensor>();
        var def = Tree.Flatten(x, leaves);
        var aux = default(TAux)!;
        var (value, grads) = Run("value_and_grad", leaves, null, a =>
        {
            var (v, au) = f(Tree.Unflatten<T>(def, a));
            aux = au;
            return v;
        }, i => $"leaf {def.LeafPath(i)}");
        return (value, aux, Tree.Unflatten<T>(def, grads!));
    }

    private static bool[] Argnum(int argnum, int arity) => argnum >= 0 && argnum < arity
        ? [.. Enumerable.Range(0, arity).Select(i => i == argnum)]
        : throw new ArgumentOutOfRangeException(nameof(argnum), argnum, $"argnum must be in [0, {arity}) for a function of {arity} tensors.");

    /// <summary>
    /// Runs <paramref name="f"/> on aliases of the differentiated arguments under a new tape, then the
    /// reverse pass from its scalar value. Gradients of arguments not differentiated are null.
    /// </summary>
    internal static (Tensor Value, Tensor?[] Grads) Run(string op, IReadOnlyList<Tensor> args, bool[]? wrt, Func<Tensor[], Tensor> f,
        Func<int, string>? describe = null)
    {
        describe ??= i => $"argument {i}";
        for (var i = 0; i < args.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(args[i], describe(i));
            if ((wrt is null || wrt[i]) && !args[i].DType.IsFloat())
                throw new ArgumentException($"{op}: {describe(i)} is {args[i].Aval}; only float tensors can be differentiated.");
        }
        var tape = GradTape.Start();
        var watched = new List<Tensor>();
        Tensor value;
        try
        {
            var a = new Tensor[args.Count];
            for (var i = 0; i < a.Length; i++)
            {
                a[i] = wrt is null || wrt[i] ? tape.Watch(args[i]) : args[i];
                if (wrt is null || wrt[i]) watched.Add(a[i]);
            }
            value = f(a) ?? throw new InvalidOperationException($"{op}: the function returned null instead of a scalar tensor.");
        }
        finally
        {
            tape.Stop();
        }
        if (value.Rank != 0 || !value.DType.IsFloat())
            throw new ArgumentException($"{op}: the function must return a float scalar (shape []), but returned {value.Aval}; reduce it first (e.g. .Sum() or .Mean()).");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var grads = ReversePass.Run(tape, value, watched);
        _reverseTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
        var result = new Tensor?[args.Count];
        for (int i = 0, w = 0; i < result.Length; i++)
            if (wrt is null || wrt[i]) result[i] = grads[w++];
        return (value, result);
    }
}
