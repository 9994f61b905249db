using System.Runtime.CompilerServices;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

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

    /// <summary>
    /// fma(Σᵣ bᵣ·aᵣ, α, β·c) down the rows (α·Σ when c is −1 or β = 0), each row added with one rounding (fma(bᵣ, aᵣ,
    /// sum), from +0): as ONNX Runtime's Gemm of a [1, rows] row with the [rows, columns] matrix when α ≠ 1 or β is neither
    /// 0 nor 1, which MLAS runs with its general kernel (on CPUs with fused multiply-adds, for at most 128 rows: one
    /// block of its contraction). The <see cref="SumScales"/> right after it names α and β. No instruction reads it.
    /// </summary>
    ScaledWeightedColumnSum,

    /// <summary>The α (register a) and β (register b) of the <see cref="ScaledWeightedColumnSum"/> before it: scalar operands. It has no value.</summary>
    SumScales,
}

/// <summary>What the program and the fusion pass both need to know of an instruction.</summary>
internal static class ElementwiseOps
{
    /// <summary>The operands <paramref name="op"/> reads: 1 for the unary operations, 3 for Where, else 2; 0 for no instruction.</summary>
    public static int Arity(ElementwiseOp op) => op switch
    {
        ElementwiseOp.Neg or ElementwiseOp.Abs or ElementwiseOp.Sqrt or ElementwiseOp.Reciprocal or ElementwiseOp.Relu => 1,
        ElementwiseOp.Where => 3,
        >= ElementwiseOp.Add and <= ElementwiseOp.SelectOrZero or ElementwiseOp.ColumnSum or ElementwiseOp.WeightedColumnSum
            or ElementwiseOp.ScaledWeightedColumnSum or ElementwiseOp.SumScales => 2, // and c, optional, for the weighted sums
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            var weighted = Op(j) is ElementwiseOp.WeightedColumnSum or ElementwiseOp.ScaledWeightedColumnSum;
            if (weighted && (b >= Inputs || !(Mode((int)b) is Column or Scalar || Mode((int)b) == Full && Columns == 1)))
                throw new InvalidOperationException($"instruction {j} ({Op(j)}) weighs the rows by register {b}, which is not a column operand.");
            if (weighted && c >= 0 && (c >= Inputs || !(Mode((int)c) is Row or Scalar || Mode((int)c) == Full && Rows == 1)))
                throw new InvalidOperationException($"instruction {j} ({Op(j)}) adds onto register {c}, which is not a row or scalar operand.");
            if (Op(j) == ElementwiseOp.ScaledWeightedColumnSum)
            {
                if (Rows > MaxScaledSumRows)
                    throw new InvalidOperationException($"instruction {j} (ScaledWeightedColumnSum) sums {Rows} rows; MLAS's kernel sums at most {MaxScaledSumRows} in one block.");
                if (j + 1 >= Instructions || Op(j + 1) != ElementwiseOp.SumScales)
                    throw new InvalidOperationException($"instruction {j} (ScaledWeightedColumnSum) is not followed by its SumScales.");
                var (alpha, beta) = (p[_code + 4 * (j + 1) + 1], p[_code + 4 * (j + 1) + 2]);
                if (alpha >= Inputs || beta >= Inputs || Mode((int)alpha) != Scalar || Mode((int)beta) != Scalar)
                    throw new InvalidOperationException($"instruction {j + 1} (SumScales) reads registers {alpha} and {beta}, which are not both scalar operands.");
            }
            for (var k = j + 1; k < Instructions; k++)
                if (p[_code + 4 * k + 1] == sum || p[_code + 4 * k + 2] == sum || p[_code + 4 * k + 3] == sum)
                    throw new InvalidOperationException($"instruction {k} reads the column sum of instruction {j}, which is complete only after the last row.");
            if (!new ReadOnlySpan<long>(p + _outputs, Outputs).Contains(sum))
                throw new InvalidOperationException($"the column sum of instruction {j} is not an output.");
        }
        for (var j = 0; j < Instructions; j++)
        {
            if (Op(j) != ElementwiseOp.SumScales) continue;
            if (j == 0 || Op(j - 1) != ElementwiseOp.ScaledWeightedColumnSum)
                throw new InvalidOperationException($"instruction {j} (SumScales) does not follow a ScaledWeightedColumnSum.");
            for (var k = j + 1; k < Instructions; k++)
                if (p[_code + 4 * k + 1] == Inputs + j || p[_code + 4 * k + 2] == Inputs + j || p[_code + 4 * k + 3] == Inputs + j)
                    throw new InvalidOperationException($"instruction {k} reads instruction {j} (SumScales), which has no value.");
            if (new ReadOnlySpan<long>(p + _outputs, Outputs).Contains(Inputs + j))
                throw new InvalidOperationException($"instruction {j} (SumScales) has no value to output.");
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
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    public static bool IsSumOp(ElementwiseOp op) => op is ElementwiseOp.ColumnSum or ElementwiseOp.WeightedColumnSum or ElementwiseOp.ScaledWeightedColumnSum;

    /// <summary>The most rows a <see cref="ElementwiseOp.ScaledWeightedColumnSum"/> sums: MLAS's largest block of a contraction.</summary>
    public const long MaxScaledSumRows = 128;

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
