using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// <see cref="NnxCpuOps.Elementwise"/>: a cluster of float32 elementwise ONNX nodes (ElementwiseFusion.cs) run as one
/// pass. The result is seen as [rows, columns]; each operand is the whole result, a row broadcast down the rows, a
/// column broadcast along them, or a scalar. The work goes in chunks of <see cref="Chunk"/> elements of one row: every
/// instruction runs over the chunk before the next, so a chunk's temporaries stay in L1, and an output is written
/// where it lies. A column sum adds each row's chunk into its output, and a program with one runs in blocks of all the rows
/// of a range of columns. Each operation rounds as ONNX Runtime's kernel for it does (IEEE single precision, no contraction into
/// fused multiply-adds), so a fused cluster gives the bits the separate nodes gave.
/// </summary>
internal static unsafe partial class CpuKernels
{
    /// <summary>Elements of one row computed per instruction before the next instruction runs.</summary>
    private const int Chunk = 512;

    // Floats between two registers' starts: a chunk and one cache line, so that no two registers lie a multiple of 4 KiB
    // apart (a load from one and a store to another would alias in the store buffer).
    private const int RegisterStride = Chunk + 16;

    // The most operands and instructions a program may have (the fusion pass stays within them).
    internal const int MaxFusedInputs = 32, MaxFusedInstructions = 64;

    // Every chunk's registers: one per input (a broadcast column or scalar is filled there) and one per instruction.
    [ThreadStatic] private static float* t_registers;
    [ThreadStatic] private static long t_registerFloats;

    /// <summary>What one fused call hands to its blocks.</summary>
    private struct FusedJob
    {
        public long Rows, Columns, RowsPerBlock, ColumnsPerBlock, BlocksPerRow;
        public int Inputs, Instructions;
        public long* Modes;        // per input: ElementwiseProgram.Full, Row, Column or Scalar
        public long* Code;         // per instruction: op, a, b, c
        public float** Bases;      // per input its data; per instruction its output's data, or null for a temporary
    }

    /// <summary>
    /// Runs a node's program. Its first run checks the program and every operand against it (counts, types, sizes), and
    /// throws naming them; later runs of the same node skip the checks, as the in-process models have static shapes that
    /// ONNX Runtime checks at the model's inputs (the checks took half of a small cluster's time).
    /// </summary>
    private static IntPtr ComputeElementwise(IntPtr context, ref bool checkedBefore)
    {
        var program = Input(context, 0);
        var check = !checkedBefore;
        long length = 0;
        if (check)
        {
            var header = stackalloc long[MaxRank];
            ShapeOf(program, header, out _, out length);
        }
        var p = new ElementwiseProgram((long*)Data(program), length, check);
        if (check)
        {
            nuint given, wanted;
            Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, nuint*, IntPtr>)Api(SlotKernelContextGetInputCount))(context, &given));
            Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, nuint*, IntPtr>)Api(SlotKernelContextGetOutputCount))(context, &wanted));
            if ((long)given != p.Inputs + 1 || (long)wanted != p.Outputs)
                throw new InvalidOperationException($"the program reads {p.Inputs} tensor(s) and writes {p.Outputs}, but the node has {(long)given - 1} and {wanted}.");
        }

        var bases = stackalloc float*[p.Inputs + p.Instructions];
        var dims = stackalloc long[MaxRank];
        for (var i = 0; i < p.Inputs; i++)
        {
            var x = Input(context, (nuint)(i + 1));
            if (check) CheckOperand(p, i, x, dims);
            bases[i] = (float*)Data(x);
        }
        for (var j = 0; j < p.Instructions; j++) bases[p.Inputs + j] = null;
        p.ResultDims.CopyTo(new Span<long>(dims, MaxRank));
        var columns = p.Columns;
        for (var o = 0; o < p.Outputs; o++)
            bases[p.Output(o)] = (float*)Data(p.IsSum(o) ? Output(context, &columns, 1, (nuint)o) : Output(context, dims, p.ResultDims.Length, (nuint)o));
        checkedBefore = true;

        var job = Plan(p, bases, out var blocks);
        if (blocks > 1) return ParallelFor(context, &RunFused, blocks, &job);
        if (blocks == 1) RunFusedBlock(&job, 0); // no transition through a native function pointer for the common single block
        return IntPtr.Zero;
    }

    /// <summary>
    /// Runs program <paramref name="p"/> on this thread, block after block: <paramref name="bases"/> holds each operand's data,
    /// then per instruction its output's data or null (a temporary). The caller has checked the operands' sizes (the eager
    /// path, <see cref="ElementwiseExecutable"/>).
    /// </summary>
    internal static void RunElementwise(ElementwiseProgram p, float** bases)
    {
        var job = Plan(p, bases, out var blocks);
        for (long b = 0; b < blocks; b++) RunFusedBlock(&job, b);
    }

    /// <summary>
    /// The program's job and its number of blocks of about <see cref="BlockElements"/> elements: whole rows, or pieces of one
    /// long row; with a column sum, every row of a range of columns (each column is summed in one block, row by row).
    /// </summary>
    private static FusedJob Plan(ElementwiseProgram p, float** bases, out long blocks)
    {
        var job = new FusedJob
        {
            Rows = p.Rows,
            Columns = p.Columns,
            Inputs = p.Inputs,
            Instructions = p.Instructions,
            Modes = p.ModesPointer,
            Code = p.CodePointer,
            Bases = bases,
        };
        if (p.HasSums)
        {
            job.RowsPerBlock = p.Rows;
            job.ColumnsPerBlock = p.Rows * p.Columns <= BlockElements ? p.Columns : Math.Min(p.Columns, Math.Max(16, BlockElements / p.Rows / 16 * 16));
            job.BlocksPerRow = p.Columns == 0 ? 0 : (p.Columns + job.ColumnsPerBlock - 1) / job.ColumnsPerBlock;
            blocks = job.BlocksPerRow;
        }
        else if (p.Rows * p.Columns == 0)
            blocks = 0;
        else if (p.Columns >= BlockElements)
        {
            job.RowsPerBlock = 1;
            job.ColumnsPerBlock = BlockElements;
            job.BlocksPerRow = (p.Columns + BlockElements - 1) / BlockElements;
            blocks = p.Rows * job.BlocksPerRow;
        }
        else
        {
            job.RowsPerBlock = Math.Max(1, BlockElements / p.Columns);
            job.ColumnsPerBlock = p.Columns;
            job.BlocksPerRow = 1;
            blocks = (p.Rows + job.RowsPerBlock - 1) / job.RowsPerBlock;
        }
        return job;
    }

    private static void CheckOperand(ElementwiseProgram p, int i, IntPtr x, long* dims)
    {
        var rank = ShapeOf(x, dims, out var element, out var count);
        var expected = p.Mode(i) switch
        {
            ElementwiseProgram.Full => p.Rows * p.Columns,
            ElementwiseProgram.Row => p.Columns,
            ElementwiseProgram.Column => p.Rows,
            _ => 1,
        };
        if (element != ElementFloat || count != expected)
            throw new InvalidOperationException(
                $"operand {i} is {(element == ElementFloat ? "f32" : $"of ONNX type {element}")}[{string.Join(",", new Span<long>(dims, rank).ToArray())}], " +
                $"but the program reads {expected} float32 element(s) for a result of [{string.Join(",", p.ResultDims.ToArray())}].");
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFused(void* state, nuint index) => RunFusedBlock((FusedJob*)state, (long)index);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFusedBlock(FusedJob* job, long index)
    {
        var (inputs, instructions, columns) = (job->Inputs, job->Instructions, job->Columns);
        var registers = inputs + instructions;
        // Past the registers, each weighted sum's group of up to four rows, for the block's columns.
        var groupStride = (job->ColumnsPerBlock + 15) / 16 * 16;
        var weighted = 0;
        var groupOf = stackalloc int[instructions]; // a weighted sum's group buffer, by instruction
        for (var j = 0; j < instructions; j++)
            if (job->Code[4 * j] == (long)ElementwiseOp.WeightedColumnSum) groupOf[j] = weighted++;
        var scratch = Scratch(ref t_registers, ref t_registerFloats, (long)registers * RegisterStride + weighted * groupStride);
        var groups = scratch + (long)registers * RegisterStride;
        var at = stackalloc float*[registers];
        var row0 = index / job->BlocksPerRow * job->RowsPerBlock;
        var rowEnd = Math.Min(row0 + job->RowsPerBlock, job->Rows);
        var column0 = index % job->BlocksPerRow * job->ColumnsPerBlock;
        var columnEnd = Math.Min(column0 + job->ColumnsPerBlock, columns);
        for (var i = 0; i < inputs; i++)
            if (job->Modes[i] == ElementwiseProgram.Scalar) new Span<float>(scratch + (long)i * RegisterStride, (int)Math.Min(Chunk, columnEnd - column0)).Fill(*job->Bases[i]);
        var sums = false;
        for (var j = 0; j < instructions; j++)
        {
            var code = job->Code + 4 * j;
            if (!ElementwiseProgram.IsSumOp((ElementwiseOp)code[0])) continue;
            sums = true;
            var start = new Span<float>(job->Bases[inputs + j] + column0, (int)(columnEnd - column0));
            if (code[0] == (long)ElementwiseOp.WeightedColumnSum && code[3] >= 0)
            {
                var c = job->Bases[code[3]];
                if (job->Modes[code[3]] != ElementwiseProgram.Scalar) new ReadOnlySpan<float>(c + column0, start.Length).CopyTo(start); // a row (or the one row)
                else start.Fill(*c);
            }
            else start.Clear(); // from +0, as ColumnSums (and MLAS's kernel with β = 0)
        }
        // The weighted sums' groups of rows: fours from the first row, then a two, then a one (MLAS's order).
        var (fours, rest) = (job->Rows / 4 * 4, job->Rows % 4);
        for (var r = row0; r < rowEnd; r++)
            for (var c = column0; c < columnEnd; c += Chunk)
            {
                var n = (int)Math.Min(Chunk, columnEnd - c);
                for (var i = 0; i < inputs; i++)
                    switch (job->Modes[i])
                    {
                        case ElementwiseProgram.Full: at[i] = job->Bases[i] + r * columns + c; break;
                        case ElementwiseProgram.Row: at[i] = job->Bases[i] + c; break;
                        case ElementwiseProgram.Column:
                            at[i] = scratch + (long)i * RegisterStride;
                            new Span<float>(at[i], n).Fill(job->Bases[i][r]);
                            break;
                        default: at[i] = scratch + (long)i * RegisterStride; break;
                    }
                for (var j = 0; j < instructions; j++)
                {
                    var code = job->Code + 4 * j;
                    var output = job->Bases[inputs + j];
                    if (code[0] == (long)ElementwiseOp.ColumnSum)
                    {
                        Binary<AddOp>(output + c, output + c, at[code[1]], n);
                        continue;
                    }
                    if (code[0] == (long)ElementwiseOp.WeightedColumnSum)
                    {
                        var group = groups + groupOf[j] * groupStride + (c - column0);
                        var (first, last) = r < fours ? (r % 4 == 0, r % 4 == 3) : (rest & 2) != 0 && r < fours + 2 ? (r == fours, r == fours + 1) : (true, true);
                        if (first) Binary<MulOp>(group, at[code[2]], at[code[1]], n);
                        else
                        {
                            var product = scratch + (long)(inputs + j) * RegisterStride;
                            Binary<MulOp>(product, at[code[2]], at[code[1]], n);
                            Binary<AddOp>(group, group, product, n);
                        }
                        if (last) Binary<AddOp>(output + c, group, output + c, n);
                        continue;
                    }
                    var y = output != null ? output + r * columns + c : scratch + (long)(inputs + j) * RegisterStride;
                    at[inputs + j] = y;
                    Apply((ElementwiseOp)code[0], y, at[code[1]], code[2] >= 0 ? at[code[2]] : null, code[3] >= 0 ? at[code[3]] : null, n);
                }
            }
        if (!sums) return;
        for (var j = 0; j < instructions; j++)
        {
            var code = job->Code + 4 * j;
            if (code[0] != (long)ElementwiseOp.ColumnSum) continue; // (a weighted sum is complete)
            var sum = job->Bases[inputs + j];
            var scale = scratch + code[2] * RegisterStride; // a scalar operand, filled above
            for (var c = column0; c < columnEnd; c += Chunk) Binary<MulOp>(sum + c, sum + c, scale, (int)Math.Min(Chunk, columnEnd - c));
        }
    }

    /// <summary>Compiles the elementwise kernel's methods (each operation's loop among them) before a model first runs it.</summary>
    private static void PrepareElementwise()
    {
        try
        {
            const System.Reflection.BindingFlags Private = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static;
            var kernels = typeof(CpuKernels);
            foreach (var name in new[] { nameof(ComputeElementwise), nameof(RunFusedBlock), nameof(Apply), nameof(Where) })
                RuntimeHelpers.PrepareMethod(kernels.GetMethod(name, Private)!.MethodHandle);
            var binary = kernels.GetMethod(nameof(Binary), Private)!;
            foreach (var op in kernels.GetNestedTypes(System.Reflection.BindingFlags.NonPublic))
                if (op.IsValueType && typeof(IElementwiseOp).IsAssignableFrom(op))
                    RuntimeHelpers.PrepareMethod(binary.MakeGenericMethod(op).MethodHandle);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // Only a warm-up: the methods compile at their first call instead.
        }
    }

    /// <summary>One instruction over <paramref name="n"/> elements; a comparison writes a mask (all bits set where true).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply(ElementwiseOp op, float* y, float* a, float* b, float* c, int n)
    {
        switch (op)
        {
            case ElementwiseOp.Add: Binary<AddOp>(y, a, b, n); break;
            case ElementwiseOp.Sub: Binary<SubOp>(y, a, b, n); break;
            case ElementwiseOp.Mul: Binary<MulOp>(y, a, b, n); break;
            case ElementwiseOp.Div: Binary<DivOp>(y, a, b, n); break;
            case ElementwiseOp.Neg: Binary<NegOp>(y, a, a, n); break;
            case ElementwiseOp.Abs: Binary<AbsOp>(y, a, a, n); break;
            case ElementwiseOp.Sqrt: Binary<SqrtOp>(y, a, a, n); break;
            case ElementwiseOp.Reciprocal: Binary<ReciprocalOp>(y, a, a, n); break;
            case ElementwiseOp.Relu: Binary<ReluOp>(y, a, a, n); break;
            case ElementwiseOp.Greater: Binary<GreaterOp>(y, a, b, n); break;
            case ElementwiseOp.Less: Binary<GreaterOp>(y, b, a, n); break;
            case ElementwiseOp.GreaterOrEqual: Binary<GreaterOrEqualOp>(y, a, b, n); break;
            case ElementwiseOp.LessOrEqual: Binary<GreaterOrEqualOp>(y, b, a, n); break;
            case ElementwiseOp.Equal: Binary<EqualOp>(y, a, b, n); break;
            case ElementwiseOp.SelectOrZero: Binary<SelectOrZeroOp>(y, a, b, n); break;
            case ElementwiseOp.Where: Where(y, a, b, c, n); break;
            default: throw new InvalidOperationException($"unknown elementwise instruction {(long)op}.");
        }
    }

    /// <summary>
    /// y = T(a, b) elementwise: 16 lanes at a time on AVX-512, then 8, then one. Not inlined: each operation's loop is
    /// compiled when a program first uses it (fully optimised at once), not all sixteen with the first cluster.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Binary<T>(float* y, float* a, float* b, int n) where T : struct, IElementwiseOp
    {
        var i = 0;
        if (Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16) T.Of(Vector512.Load(a + i), Vector512.Load(b + i)).Store(y + i);
        for (; i + 8 <= n; i += 8) T.Of(Vector256.Load(a + i), Vector256.Load(b + i)).Store(y + i);
        for (; i < n; i++) y[i] = T.Of(a[i], b[i]);
    }

    /// <summary>
    /// As ORT's Where: its selections s = mask ? x : +0 and t = mask ? +0 : z, merged as s ≠ 0 ? s : t (so a selected −0
    /// from x comes out +0).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Where(float* y, float* mask, float* x, float* z, int n)
    {
        var i = 0;
        if (Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16)
            {
                var m = Vector512.Load(mask + i);
                var s = m & Vector512.Load(x + i);
                Vector512.ConditionalSelect(Vector512.Equals(s, Vector512<float>.Zero), Vector512.AndNot(Vector512.Load(z + i), m), s).Store(y + i);
            }
        for (; i + 8 <= n; i += 8)
        {
            var m = Vector256.Load(mask + i);
            var s = m & Vector256.Load(x + i);
            Vector256.ConditionalSelect(Vector256.Equals(s, Vector256<float>.Zero), Vector256.AndNot(Vector256.Load(z + i), m), s).Store(y + i);
        }
        for (; i < n; i++)
        {
            var m = BitConverter.SingleToInt32Bits(mask[i]) != 0;
            var s = m ? x[i] : 0f;
            y[i] = s != 0f ? s : m ? 0f : z[i];
        }
    }

    /// <summary>One operation at the three widths; a unary one ignores its second operand.</summary>
    private interface IElementwiseOp
    {
        static abstract Vector512<float> Of(Vector512<float> a, Vector512<float> b);
        static abstract Vector256<float> Of(Vector256<float> a, Vector256<float> b);
        static abstract float Of(float a, float b);
    }

    private struct AddOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => a + b;
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => a + b;
        public static float Of(float a, float b) => a + b;
    }

    private struct SubOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => a - b;
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => a - b;
        public static float Of(float a, float b) => a - b;
    }

    private struct MulOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => a * b;
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => a * b;
        public static float Of(float a, float b) => a * b;
    }

    private struct DivOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => a / b;
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => a / b;
        public static float Of(float a, float b) => a / b;
    }

    // The sign bit flipped (NaN's too), as −x.
    private struct NegOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.Xor(a, Vector512.Create(-0f));
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.Xor(a, Vector256.Create(-0f));
        public static float Of(float a, float b) => -a;
    }

    private struct AbsOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.AndNot(a, Vector512.Create(-0f));
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.AndNot(a, Vector256.Create(-0f));
        public static float Of(float a, float b) => MathF.Abs(a);
    }

    private struct SqrtOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.Sqrt(a);
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.Sqrt(a);
        public static float Of(float a, float b) => MathF.Sqrt(a);
    }

    private struct ReciprocalOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512<float>.One / a;
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256<float>.One / a;
        public static float Of(float a, float b) => 1f / a;
    }

    // x < 0 ? +0 : x, so NaN and −0 pass unchanged (as ORT's Relu writes them).
    private struct ReluOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.AndNot(a, Vector512.LessThan(a, Vector512<float>.Zero));
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.AndNot(a, Vector256.LessThan(a, Vector256<float>.Zero));
        public static float Of(float a, float b) => a < 0 ? 0f : a;
    }

    // Comparisons write masks; Less and LessOrEqual are these with their operands swapped.
    private struct GreaterOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThan(a, b);
        public static float Of(float a, float b) => Mask(a > b);
    }

    private struct GreaterOrEqualOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThanOrEqual(a, b);
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThanOrEqual(a, b);
        public static float Of(float a, float b) => Mask(a >= b);
    }

    private struct EqualOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b);
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => Vector256.Equals(a, b);
        public static float Of(float a, float b) => Mask(a == b);
    }

    // mask ? x : +0, as ai.nnx.cpu SelectOrZero writes it.
    private struct SelectOrZeroOp : IElementwiseOp
    {
        public static Vector512<float> Of(Vector512<float> a, Vector512<float> b) => a & b;
        public static Vector256<float> Of(Vector256<float> a, Vector256<float> b) => a & b;
        public static float Of(float a, float b) => BitConverter.SingleToInt32Bits(a) != 0 ? b : 0f;
    }

    private static float Mask(bool value) => value ? BitConverter.Int32BitsToSingle(-1) : 0f;
}

/// <summary>The instructions of an <see cref="NnxCpuOps.Elementwise"/> program.</summary>
internal enum ElementwiseOp : long
{
    Add = 1, Sub, Mul, Div, Neg, Abs, Sqrt, Reciprocal, Relu,
    Greater, Less, GreaterOrEqual, LessOrEqual, Equal,
    SelectOrZero, Where,

    /// <summary>
    /// The sum down the rows of register a, times the scalar operand b, written to an output of [columns]: as
    /// <see cref="NnxCpuOps.ColumnSums"/> computes it (from +0, row by row, then one multiplication), so with its bits.
    /// No instruction reads it; a program with one runs in blocks of whole columns.
    /// </summary>
    ColumnSum,

    /// <summary>
    /// c + Σᵣ bᵣ·aᵣ down the rows, for a column operand b (a weight per row) and a row or scalar operand c (+0 for −1),
    /// written to an output of [columns]: as ONNX Runtime's Gemm of a [1, rows] row with the [rows, columns] matrix, which
    /// MLAS runs with its M = 1 kernel when α = 1 and β is 0 or 1 (each product rounded, the rows added four at a time, from
    /// the first, then each four added onto the accumulator), so with its bits. No instruction reads it.
    /// </summary>
    WeightedColumnSum,
}

/// <summary>What the program and the fusion pass both need to know of an instruction.</summary>
internal static class ElementwiseOps
{
    /// <summary>The operands <paramref name="op"/> reads: 1 for the unary operations, 3 for Where, else 2; 0 for no instruction.</summary>
    public static int Arity(ElementwiseOp op) => op switch
    {
        ElementwiseOp.Neg or ElementwiseOp.Abs or ElementwiseOp.Sqrt or ElementwiseOp.Reciprocal or ElementwiseOp.Relu => 1,
        ElementwiseOp.Where => 3,
        >= ElementwiseOp.Add and <= ElementwiseOp.SelectOrZero or ElementwiseOp.ColumnSum or ElementwiseOp.WeightedColumnSum => 2, // and c, optional, for the weighted sum
        _ => 0,
    };
}

/// <summary>
/// An <see cref="NnxCpuOps.Elementwise"/> program, an int64 vector: <c>[1, inputs, outputs, instructions, rank,
/// dims…, rows, columns, mode per input…, (op, a, b, c) per instruction…, register per output…]</c>. Registers 0 … inputs − 1
/// are the operands, then one per instruction; an unused operand slot is −1.
/// </summary>
internal readonly unsafe struct ElementwiseProgram
{
    /// <summary>The operand modes: the whole result, a row broadcast down the rows, a column along them, a scalar.</summary>
    public const long Full = 0, Row = 1, Column = 2, Scalar = 3;

    private readonly long* _p;
    private readonly int _modes, _code, _outputs;

    /// <summary>The program at <paramref name="p"/>; with <paramref name="check"/>, checked against its <paramref name="length"/> and itself.</summary>
    public ElementwiseProgram(long* p, long length, bool check = true)
    {
        _p = p;
        if (check && (length < 5 || p[0] != 1)) throw new InvalidOperationException("the program is not an elementwise program of format 1.");
        var rank = (int)p[4];
        if (check && rank is < 0 or > 16) throw new InvalidOperationException($"the program's result has rank {rank}.");
        _modes = 5 + rank + 2;
        _code = _modes + (int)p[1];
        _outputs = _code + 4 * (int)p[3];
        if (!check) return;
        if (p[1] < 0 || p[1] > CpuKernels.MaxFusedInputs || p[3] < 1 || p[3] > CpuKernels.MaxFusedInstructions || p[2] < 1 || p[2] > p[3]
            || length != _outputs + p[2])
            throw new InvalidOperationException($"the program's {length} entries do not fit its header [{string.Join(", ", new Span<long>(p, 5).ToArray())}].");
        for (var j = 0; j < Instructions; j++)
        {
            // Checked here, not where the blocks run: an exception on one of ONNX Runtime's threads would end the process.
            var arity = ElementwiseOps.Arity((ElementwiseOp)p[_code + 4 * j]);
            if (arity == 0) throw new InvalidOperationException($"instruction {j} has the unknown operation {p[_code + 4 * j]}.");
            for (var s = 1; s < 4; s++)
                if (p[_code + 4 * j + s] >= Inputs + j || p[_code + 4 * j + s] < (s <= arity ? 0 : -1))
                    throw new InvalidOperationException($"instruction {j} ({(ElementwiseOp)p[_code + 4 * j]}) reads register {p[_code + 4 * j + s]}, which is not computed before it.");
        }
        for (var j = 0; j < Instructions; j++)
        {
            if (!IsSumOp(Op(j))) continue;
            var sum = Inputs + j;
            var (b, c) = (p[_code + 4 * j + 2], p[_code + 4 * j + 3]);
            if (Op(j) == ElementwiseOp.ColumnSum && (b >= Inputs || Mode((int)b) != Scalar))
                throw new InvalidOperationException($"instruction {j} (ColumnSum) scales by register {b}, which is not a scalar operand.");
            // The weights are read one per row: a column (or a scalar; or the whole result when it is one column).
            if (Op(j) == ElementwiseOp.WeightedColumnSum && (b >= Inputs || !(Mode((int)b) is Column or Scalar || Mode((int)b) == Full && Columns == 1)))
                throw new InvalidOperationException($"instruction {j} (WeightedColumnSum) weighs the rows by register {b}, which is not a column operand.");
            if (Op(j) == ElementwiseOp.WeightedColumnSum && c >= 0 && (c >= Inputs || !(Mode((int)c) is Row or Scalar || Mode((int)c) == Full && Rows == 1)))
                throw new InvalidOperationException($"instruction {j} (WeightedColumnSum) adds onto register {c}, which is not a row or scalar operand.");
            for (var k = j + 1; k < Instructions; k++)
                if (p[_code + 4 * k + 1] == sum || p[_code + 4 * k + 2] == sum || p[_code + 4 * k + 3] == sum)
                    throw new InvalidOperationException($"instruction {k} reads the column sum of instruction {j}, which is complete only after the last row.");
            if (!new ReadOnlySpan<long>(p + _outputs, Outputs).Contains(sum))
                throw new InvalidOperationException($"the column sum of instruction {j} is not an output.");
        }
        for (var o = 0; o < Outputs; o++)
            if (Output(o) < Inputs || Output(o) >= Inputs + Instructions || new ReadOnlySpan<long>(p + _outputs, o).Contains(Output(o)))
                throw new InvalidOperationException($"output {o} is register {Output(o)}, which is not a distinct instruction's.");
        for (var i = 0; i < Inputs; i++)
            if (Mode(i) is < Full or > Scalar) throw new InvalidOperationException($"operand {i} has mode {Mode(i)}.");
        long size = 1;
        foreach (var d in ResultDims) size *= d;
        if (Rows < 0 || Columns < 0 || Rows * Columns != size)
            throw new InvalidOperationException($"the program sees its result of [{string.Join(",", ResultDims.ToArray())}] as [{Rows},{Columns}].");
    }

    /// <summary>Whether an instruction is a <see cref="ElementwiseOp.ColumnSum"/>.</summary>
    public bool HasSums
    {
        get
        {
            for (var j = 0; j < Instructions; j++)
                if (IsSumOp(Op(j))) return true;
            return false;
        }
    }

    /// <summary>The operation of instruction <paramref name="j"/>.</summary>
    public ElementwiseOp Op(int j) => (ElementwiseOp)_p[_code + 4 * j];

    /// <summary>Whether output <paramref name="index"/> is a column sum, of [columns], not of the result's shape.</summary>
    public bool IsSum(int index) => IsSumOp(Op(Output(index) - Inputs));

    /// <summary>Whether <paramref name="op"/> sums down the rows into a vector of [columns].</summary>
    public static bool IsSumOp(ElementwiseOp op) => op is ElementwiseOp.ColumnSum or ElementwiseOp.WeightedColumnSum;

    public int Inputs => (int)_p[1];
    public int Outputs => (int)_p[2];
    public int Instructions => (int)_p[3];
    public ReadOnlySpan<long> ResultDims => new(_p + 5, (int)_p[4]);
    public long Rows => _p[5 + _p[4]];
    public long Columns => _p[6 + _p[4]];
    public long Mode(int input) => _p[_modes + input];
    public long* ModesPointer => _p + _modes;
    public long* CodePointer => _p + _code;
    public int Output(int index) => (int)_p[_outputs + index];
}
