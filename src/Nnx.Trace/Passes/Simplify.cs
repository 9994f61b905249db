using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp.Passes;

/// <summary>
/// Algebraic simplifications that cut node count: identities (x+0, x·1, x/1, a reshape or broadcast to the
/// same shape, a stop-gradient after differentiation), reshape and transpose chains, and the dense-layer
/// fusion of MatMul (with transposed operands) and a bias Add into one Gemm.
/// </summary>
internal static class Simplify
{
    public static Graph Run(Graph g)
    {
        var uses = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        foreach (var n in g.Nodes)
            foreach (var v in n.Inputs) uses[v] = uses.GetValueOrDefault(v) + 1;
        foreach (var v in g.Outputs) uses[v] = uses.GetValueOrDefault(v) + 1;
        var producer = new Dictionary<Value, Node>(ReferenceEqualityComparer.Instance);
        foreach (var n in g.Nodes) producer[n.Output] = n;

        return Optimizer.Rewrite(g, (node, emit) =>
        {
            Value Emit(Primitive op, Value[] inputs)
            {
                var n = emit(op, inputs);
                producer[n.Output] = n;
                return n.Output;
            }
            var result = Rule(node, Emit);
            if (result is null) producer[node.Output] = node;
            else uses[result] = uses.GetValueOrDefault(result) + uses.GetValueOrDefault(node.Output);
            return result;
        });

        Node? Producer(Value v) => producer.GetValueOrDefault(v);

        bool IsConstant(Value v, double value) => Producer(v)?.Op switch
        {
            Full f => f.Value == value,
            Literal l => l.Value.Size > 0 && Enumerable.Range(0, l.Value.Size).All(k => l.Value.GetDouble(k) == value),
            _ => false,
        };

        Value? Rule(Node node, Func<Primitive, Value[], Value> emit)
        {
            var x = node.Inputs;
            var same = (int i) => x[i].Aval == node.Output.Aval;
            switch (node.Op)
            {
                case StopGradient:
                    return x[0];
                case Add when IsConstant(x[1], 0) && same(0):
                case Sub when IsConstant(x[1], 0) && same(0):
                case Mul when IsConstant(x[1], 1) && same(0):
                case Div when IsConstant(x[1], 1) && same(0):
                    return x[0];
                case Add when IsConstant(x[0], 0) && same(1):
                case Mul when IsConstant(x[0], 1) && same(1):
                    return x[1];
                case Reshape or BroadcastTo when same(0):
                    return x[0];
                case Reshape r when Producer(x[0])?.Op is Reshape:
                    return emit(r, [Producer(x[0])!.Inputs[0]]);
                case Transpose t when Producer(x[0])?.Op is Transpose inner:
                {
                    var composed = t.Perm.Select(p => inner.Perm[p]).ToArray();
                    var source = Producer(x[0])!.Inputs[0];
                    return composed.SequenceEqual(Enumerable.Range(0, composed.Length)) ? source : emit(new Transpose(new Ints(composed)), [source]);
                }
                case Neg when Producer(x[0])?.Op is Neg:
                    return Producer(x[0])!.Inputs[0];
                case Add:
                    return FuseGemm(node, 0, 1, emit) ?? FuseGemm(node, 1, 0, emit);
                case MatMul when IsMatrixProduct(node) && (IsSwap(x[0]) || IsSwap(x[1])):
                {
                    var (a, ta) = Untransposed(x[0]);
                    var (b, tb) = Untransposed(x[1]);
                    var zero = emit(new Full(Shape.Scalar, node.Output.DType, 0), []);
                    return emit(new Gemm(ta, tb), [a, b, zero]);
                }
                default:
                    return null;
            }
        }

        // Add(MatMul(a, b), c) → Gemm(a, b, c) when the product has no other use and c fits Gemm's broadcast.
        Value? FuseGemm(Node add, int product, int bias, Func<Primitive, Value[], Value> emit)
        {
            var mm = Producer(add.Inputs[product]);
            var c = add.Inputs[bias];
            if (mm is null || uses.GetValueOrDefault(add.Inputs[product]) != 1 || add.Output.Aval != mm.Output.Aval || c.Shape.Rank > 2) return null;
            var (a, ta, b, tb) = mm.Op switch
            {
                MatMul when IsMatrixProduct(mm) => Operands(mm),
                Gemm { TransA: var gta, TransB: var gtb } when Producer(mm.Inputs[2]) is { Op: Full { Value: 0 } } => (mm.Inputs[0], gta, mm.Inputs[1], gtb),
                _ => default,
            };
            return a is null ? null : emit(new Gemm(ta, tb), [a, b!, c]);
        }

        (Value, bool, Value, bool) Operands(Node mm)
        {
            var (a, ta) = Untransposed(mm.Inputs[0]);
            var (b, tb) = Untransposed(mm.Inputs[1]);
            return (a, ta, b, tb);
        }

        bool IsMatrixProduct(Node mm) =>
            mm.Inputs[0].Shape.Rank == 2 && mm.Inputs[1].Shape.Rank == 2 && mm.Output.DType is DType.Float32 or DType.Float64;

        bool IsSwap(Value v) => Producer(v)?.Op is Transpose { Perm: { Count: 2 } p } && p[0] == 1;

        (Value, bool) Untransposed(Value v) => IsSwap(v) ? (Producer(v)!.Inputs[0], true) : (v, false);
    }
}
