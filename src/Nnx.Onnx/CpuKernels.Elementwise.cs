using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// <see cref="NnxCpuOps.Elementwise"/>: a cluster of float32 elementwise ONNX nodes (ElementwiseFusion.cs) run as one
/// pass. The result is seen as [rows, columns]; each operand is the whole result, a row broadcast down the rows, a
/// column broadcast along them, or a scalar. The work goes in chunks of <see cref="Chunk"/> elements of one row (or of
/// several whole rows, when they are short and the block holds them): every
/// instruction runs over the chunk before the next, so a chunk's temporaries stay in L1, and an output is written
/// where it lies. A column sum adds each row's chunk into its output, and a program with one runs in blocks of all the rows
/// of a range of columns. Each operation rounds as ONNX Runtime's kernel for it does (IEEE single precision, no contraction into
/// fused multiply-adds), so a fused cluster gives the bits the separate nodes gave.
/// </summary>
internal static unsafe partial class CpuKernels
{
    /// <summary>Elements of one row computed per instruction before the next instruction runs.</summary>
    private const int Chunk = 512;

    // Elements of short rows put in one chunk: 4 rows of 32, 2 of 64. Whole 512-element chunks of short rows were slower
    // than one row a chunk at [8, 64] (the seed's step 94–104 µs against 91–95, five alternating runs) — a cluster's
    // registers then outgrow L1 — and 128 faster at [8, 64] and [32, 32] (87–92 against 95, 105–107 against 120).
    private const int ShortRowsChunk = 128;

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
        public IntPtr Compiled;    // the node's CompiledProgram (a GCHandle) when its compiled form runs, else zero
    }

    /// <summary>
    /// Runs a node's program. Its first run checks the program and every operand against it (counts, types, sizes), and
    /// throws naming them; later runs of the same node skip the checks, as the in-process models have static shapes that
    /// ONNX Runtime checks at the model's inputs (the checks took half of a small cluster's time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ComputeElementwise(IntPtr context, KernelState* state)
    {
        var program = Input(context, 0);
        var check = !state->Checked;
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
        var resultDims = p.ResultDims;
        for (var d = 0; d < resultDims.Length; d++) dims[d] = resultDims[d];
        var columns = p.Columns;
        for (var o = 0; o < p.Outputs; o++)
            bases[p.Output(o)] = (float*)Data(p.IsSum(o) ? Output(context, &columns, 1, (nuint)o) : Output(context, dims, p.ResultDims.Length, (nuint)o));
        if (check)
        {
            state->ProgramLength = length;
            state->Checked = true;
        }

        var job = Plan(p, bases, out var blocks);
        var compiled = CompiledForRun(state, (long*)Data(program));
        if (compiled is not null) job.Compiled = state->Program;
        if (blocks > 1) return ParallelFor(context, &RunFused, blocks, &job);
        if (blocks == 1) RunProgramBlock(&job, 0, compiled); // no transition through a native function pointer for the common single block
        return IntPtr.Zero;
    }

    /// <summary>
    /// Runs program <paramref name="p"/> on this thread, block after block: <paramref name="bases"/> holds each operand's data,
    /// then per instruction its output's data or null (a temporary); with <paramref name="compiled"/>, its compiled form.
    /// The caller has checked the operands' sizes (the eager path, <see cref="ElementwiseExecutable"/>).
    /// </summary>
    internal static void RunElementwise(ElementwiseProgram p, float** bases, CompiledElementwise? compiled = null)
    {
        var job = Plan(p, bases, out var blocks);
        if (compiled is null)
            for (long b = 0; b < blocks; b++) RunFusedBlock(&job, b);
        else
            for (long b = 0; b < blocks; b++) RunProgramBlock(&job, b, compiled);
    }

    /// <summary>
    /// The program's job and its number of blocks of about <see cref="BlockElements"/> elements: whole rows, or pieces of one
    /// long row; with a column sum, every row of a range of columns (each column is summed in one block, row by row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    private static void RunFused(void* state, nuint index)
    {
        var job = (FusedJob*)state;
        RunProgramBlock(job, (long)index, job->Compiled == IntPtr.Zero ? null : ((CompiledProgram)GCHandle.FromIntPtr(job->Compiled).Target!).Block);
    }

    /// <summary>Block <paramref name="index"/> of <paramref name="job"/>, by <paramref name="compiled"/> or else the interpreter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunProgramBlock(FusedJob* job, long index, CompiledElementwise? compiled)
    {
        if (compiled is null)
        {
            RunFusedBlock(job, index);
            return;
        }
        var (row0, rowEnd, column0, columnEnd) = BlockBounds(job, index);
        var sums = StartSums(job, column0, columnEnd);
        // A weighted sum's group of rows, for the block's columns: indexed by column, as the compiled code reads it.
        var groups = stackalloc float*[job->Instructions];
        var (weighted, groupStride) = (0, (job->ColumnsPerBlock + 15) / 16 * 16);
        for (var j = 0; j < job->Instructions; j++)
            if (job->Code[4 * j] == (long)ElementwiseOp.WeightedColumnSum) weighted++;
        var scratch = weighted == 0 ? null : Scratch(ref t_registers, ref t_registerFloats, weighted * groupStride);
        for (var (j, k) = (0, 0); j < job->Instructions; j++)
            groups[j] = job->Code[4 * j] == (long)ElementwiseOp.WeightedColumnSum ? scratch + k++ * groupStride - column0 : null;
        compiled(job->Bases, groups, row0, rowEnd, column0, columnEnd);
        if (sums) EndSums(job, column0, columnEnd);
    }

    /// <summary>The rows and columns of block <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (long Row0, long RowEnd, long Column0, long ColumnEnd) BlockBounds(FusedJob* job, long index)
    {
        var row0 = index / job->BlocksPerRow * job->RowsPerBlock;
        var column0 = index % job->BlocksPerRow * job->ColumnsPerBlock;
        return (row0, Math.Min(row0 + job->RowsPerBlock, job->Rows), column0, Math.Min(column0 + job->ColumnsPerBlock, job->Columns));
    }

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
        var (row0, rowEnd, column0, columnEnd) = BlockBounds(job, index);
        // Rows of at most half of ShortRowsChunk go several to a chunk when the block holds them whole: an instruction then
        // runs once for them all (at width 32, 4 rows instead of one). A row operand is repeated down the chunk's rows, a column
        // operand filled row by row, and a sum adds the chunk's rows one after another, as it adds separate rows.
        var rowsPerChunk = column0 == 0 && columnEnd == columns && columns <= ShortRowsChunk / 2 ? Math.Min(ShortRowsChunk / columns, rowEnd - row0) : 1;
        var filled = (int)(rowsPerChunk > 1 ? rowsPerChunk * columns : Math.Min(Chunk, columnEnd - column0));
        for (var i = 0; i < inputs; i++)
            if (job->Modes[i] == ElementwiseProgram.Scalar) FillFloats(scratch + (long)i * RegisterStride, *job->Bases[i], filled);
            else if (job->Modes[i] == ElementwiseProgram.Row && rowsPerChunk > 1)
                for (long s = 0; s < rowsPerChunk; s++)
                    CopyFloats(job->Bases[i], scratch + (long)i * RegisterStride + s * columns, columns);
        var sums = StartSums(job, column0, columnEnd);
        for (var r = row0; r < rowEnd; r += rowsPerChunk)
            for (var c = column0; c < columnEnd; c += Chunk)
            {
                // n elements in all: `rows` rows of `segment` (one row, or a piece of one, when a chunk holds one row).
                var rows = (int)Math.Min(rowsPerChunk, rowEnd - r);
                var segment = (int)(rowsPerChunk > 1 ? columns : Math.Min(Chunk, columnEnd - c));
                var n = rows * segment;
                for (var i = 0; i < inputs; i++)
                    switch (job->Modes[i])
                    {
                        case ElementwiseProgram.Full: at[i] = job->Bases[i] + r * columns + c; break;
                        case ElementwiseProgram.Row: at[i] = rowsPerChunk > 1 ? scratch + (long)i * RegisterStride : job->Bases[i] + c; break;
                        case ElementwiseProgram.Column:
                            at[i] = scratch + (long)i * RegisterStride;
                            for (var s = 0; s < rows; s++) FillFloats(at[i] + s * segment, job->Bases[i][r + s], segment);
                            break;
                        default: at[i] = scratch + (long)i * RegisterStride; break;
                    }
                for (var j = 0; j < instructions; j++)
                {
                    var code = job->Code + 4 * j;
                    var output = job->Bases[inputs + j];
                    if (code[0] == (long)ElementwiseOp.ColumnSum)
                    {
                        for (var s = 0; s < rows; s++) Binary<AddOp>(output + c, output + c, at[code[1]] + s * segment, segment);
                        continue;
                    }
                    if (code[0] == (long)ElementwiseOp.ScaledWeightedColumnSum)
                    {
                        for (var s = 0; s < rows; s++) MultiplyAddInto(output + c, at[code[2]] + s * segment, at[code[1]] + s * segment, segment);
                        continue;
                    }
                    if (code[0] == (long)ElementwiseOp.SumScales) continue; // read after the last row
                    if (code[0] == (long)ElementwiseOp.WeightedColumnSum)
                    {
                        var group = groups + groupOf[j] * groupStride + (c - column0);
                        for (var s = 0; s < rows; s++)
                        {
                            var row = r + s;
                            float* a = at[code[2]] + s * segment, b = at[code[1]] + s * segment;
                            var flags = WeightedGroupFlags(row, job->Rows);
                            if ((flags & FirstOfGroup) != 0) Binary<MulOp>(group, a, b, segment);
                            else
                            {
                                var product = scratch + (long)(inputs + j) * RegisterStride;
                                Binary<MulOp>(product, a, b, segment);
                                Binary<AddOp>(group, group, product, segment);
                            }
                            if ((flags & LastOfGroup) != 0) Binary<AddOp>(output + c, group, output + c, segment);
                        }
                        continue;
                    }
                    var y = output != null ? output + r * columns + c : scratch + (long)(inputs + j) * RegisterStride;
                    at[inputs + j] = y;
                    Apply((ElementwiseOp)code[0], y, at[code[1]], code[2] >= 0 ? at[code[2]] : null, code[3] >= 0 ? at[code[3]] : null, n);
                }
            }
        if (sums) EndSums(job, column0, columnEnd);
    }

    /// <summary>
    /// Sets the block's columns of each sum output to where its sum starts: +0 (as ColumnSums, MLAS's M = 1 kernel with
    /// β = 0 and its general kernel), or for a weighted sum onto C, C's row (or scalar). Returns whether there is a sum.
    /// </summary>
    private static bool StartSums(FusedJob* job, long column0, long columnEnd)
    {
        var sums = false;
        for (var j = 0; j < job->Instructions; j++)
        {
            var code = job->Code + 4 * j;
            if (!ElementwiseProgram.IsSumOp((ElementwiseOp)code[0])) continue;
            sums = true;
            float* start = job->Bases[job->Inputs + j] + column0;
            var length = columnEnd - column0;
            if (code[0] == (long)ElementwiseOp.WeightedColumnSum && code[3] >= 0)
            {
                var c = job->Bases[code[3]];
                if (job->Modes[code[3]] != ElementwiseProgram.Scalar) CopyFloats(c + column0, start, length); // a row (or the one row)
                else FillFloats(start, *c, length);
            }
            else FillFloats(start, 0f, length);
        }
        return sums;
    }

    /// <summary>Ends the block's columns of each sum after its last row: a column sum times its scale, a scaled weighted sum's α, β and C.</summary>
    private static void EndSums(FusedJob* job, long column0, long columnEnd)
    {
        for (var j = 0; j < job->Instructions; j++)
        {
            var code = job->Code + 4 * j;
            var sum = job->Bases[job->Inputs + j];
            if (code[0] == (long)ElementwiseOp.ColumnSum)
            {
                var scale = *job->Bases[code[2]]; // a scalar operand
                var c = column0;
                for (; c + 8 <= columnEnd; c += 8) MulOp.Of(Vector256.Load(sum + c), Vector256.Create(scale)).Store(sum + c);
                for (; c < columnEnd; c++) sum[c] = MulOp.Of(sum[c], scale);
            }
            else if (code[0] == (long)ElementwiseOp.ScaledWeightedColumnSum)
            {
                var scales = code + 4; // the SumScales that follows it: α and β, scalar operands
                var onto = code[3] >= 0 ? job->Bases[code[3]] : null;
                FinishScaledSum(sum, column0, columnEnd, job->Bases[scales[1]], job->Bases[scales[2]], onto, onto != null && job->Modes[code[3]] == ElementwiseProgram.Scalar);
            }
        }
    }

    // What WeightedGroupFlags says of a row.
    private const int FirstOfGroup = 1, LastOfGroup = 2;

    /// <summary>
    /// Where row <paramref name="row"/> of <paramref name="rows"/> falls in a <see cref="ElementwiseOp.WeightedColumnSum"/>'s
    /// groups: fours from the first row, then a two, then a one (MLAS's order). <see cref="FirstOfGroup"/>: its product
    /// starts the group; <see cref="LastOfGroup"/>: the group is then added onto the sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WeightedGroupFlags(long row, long rows)
    {
        var fours = rows / 4 * 4;
        if (row < fours) return (row % 4 == 0 ? FirstOfGroup : 0) | (row % 4 == 3 ? LastOfGroup : 0);
        if ((rows % 4 & 2) != 0 && row < fours + 2) return (row == fours ? FirstOfGroup : 0) | (row == fours + 1 ? LastOfGroup : 0);
        return FirstOfGroup | LastOfGroup;
    }

    /// <summary>
    /// The end of a <see cref="ElementwiseOp.ScaledWeightedColumnSum"/> over columns [<paramref name="column0"/>,
    /// <paramref name="columnEnd"/>) of <paramref name="sum"/>: α and β are read from their scalar operands; the
    /// operand <paramref name="c"/> (null for none) is a row, or a scalar when <paramref name="cScalar"/>.
    /// </summary>
    private static void FinishScaledSum(float* sum, long column0, long columnEnd, float* alpha, float* beta, float* c, bool cScalar)
    {
        float* onto = null;
        long ontoStride = 0;
        if (c != null && *beta != 0)
        {
            onto = cScalar ? c : c + column0;
            ontoStride = cScalar ? 0 : 1;
        }
        ScaleSum(sum + column0, (int)(columnEnd - column0), *alpha, onto, ontoStride, *beta);
    }

    /// <summary><c>y = fma(a, b, y)</c> elementwise: one rounding, as MLAS's kernels accumulate a product.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyAddInto(float* y, float* a, float* b, int n)
    {
        var i = 0;
        if (Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16) Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), Vector512.Load(y + i)).Store(y + i);
        if (Fma.IsSupported)
            for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), Vector256.Load(y + i)).Store(y + i);
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(a[i], b[i], y[i]);
    }

    /// <summary>
    /// The end of a <see cref="ElementwiseOp.ScaledWeightedColumnSum"/>: as ONNX Runtime's Gemm first writes β·C over its
    /// output and MLAS then stores α·sum + output with one rounding (one multiplication, α·sum, when there is no C or β = 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaleSum(float* sum, int n, float alpha, float* c, long cStride, float beta)
    {
        for (var i = 0; i < n; i++)
            sum[i] = c == null ? sum[i] * alpha : MathF.FusedMultiplyAdd(sum[i], alpha, c[i * cStride] * beta);
    }

    /// <summary>Compiles the elementwise kernel's methods (each operation's loop among them) before a model first runs it.</summary>
    private static void PrepareElementwise()
    {
        try
        {
            const System.Reflection.BindingFlags Private = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static;
            var kernels = typeof(CpuKernels);
            foreach (var name in new[] { nameof(ComputeElementwise), nameof(CompiledForRun), nameof(RunProgramBlock), nameof(RunFusedBlock), nameof(StartSums), nameof(EndSums), nameof(Apply), nameof(Where), nameof(MultiplyAddInto), nameof(ScaleSum), nameof(FinishScaledSum) })
                RuntimeHelpers.PrepareMethod(kernels.GetMethod(name, Private)!.MethodHandle);
            var binary = kernels.GetMethod(nameof(Binary), Private)!;
            foreach (var op in kernels.GetNestedTypes(System.Reflection.BindingFlags.NonPublic))
                if (op.IsValueType && typeof(IElementwiseOp).IsAssignableFrom(op))
                    RuntimeHelpers.PrepareMethod(binary.MakeGenericMethod(op).MethodHandle);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or System.Reflection.AmbiguousMatchException)
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
            for (; i + 16 <= n; i += 16) WhereOf(Vector512.Load(mask + i), Vector512.Load(x + i), Vector512.Load(z + i)).Store(y + i);
        for (; i + 8 <= n; i += 8) WhereOf(Vector256.Load(mask + i), Vector256.Load(x + i), Vector256.Load(z + i)).Store(y + i);
        for (; i < n; i++) y[i] = WhereOf(mask[i], x[i], z[i]);
    }

    /// <summary><see cref="Where"/> of one vector: <paramref name="m"/> is a mask (all bits set where true).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> WhereOf(Vector512<float> m, Vector512<float> x, Vector512<float> z)
    {
        var s = m & x;
        return Vector512.ConditionalSelect(Vector512.Equals(s, Vector512<float>.Zero), Vector512.AndNot(z, m), s);
    }

    /// <summary><see cref="Where"/> of one vector: <paramref name="m"/> is a mask (all bits set where true).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WhereOf(Vector256<float> m, Vector256<float> x, Vector256<float> z)
    {
        var s = m & x;
        return Vector256.ConditionalSelect(Vector256.Equals(s, Vector256<float>.Zero), Vector256.AndNot(z, m), s);
    }

    /// <summary><see cref="Where"/> of one element: <paramref name="mask"/> is true where any bit is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float WhereOf(float mask, float x, float z)
    {
        var m = BitConverter.SingleToInt32Bits(mask) != 0;
        var s = m ? x : 0f;
        return s != 0f ? s : m ? 0f : z;
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
