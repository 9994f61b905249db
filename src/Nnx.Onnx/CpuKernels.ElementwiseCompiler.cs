using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NnxSharp.Onnx;

/// <summary>
/// An <see cref="ElementwiseProgram"/> compiled to a method of its own (IL through <see cref="DynamicMethod"/>, then the
/// JIT): every instruction runs on a vector of the result in registers before the next vector is read, where the
/// interpreter (CpuKernels.Elementwise.cs) runs each instruction over a chunk of a row and writes it to L1. Each
/// operation is the interpreter's own (the <c>Of</c> of its struct, inlined) on the same operands, and a column sum adds
/// each row into its output in the interpreter's order, so every result that is not NaN has the interpreter's bits (and
/// ONNX Runtime's). Where a NaN comes out, it is NaN both ways, but its sign and payload may differ: the JIT may swap
/// the operands of an addition or multiplication (x86 keeps the first operand's NaN when both are NaN), and turns
/// a + (−b) into a − b (which keeps b's sign).
/// <para>The seed step's clusters at width 512 run 1.8× faster alone (`Benchmarks elementwise`), and inside the step,
/// where they wait for memory the products wrote, about 20 % faster.</para>
/// </summary>
internal static unsafe partial class CpuKernels
{
    /// <summary>
    /// A compiled program run over one block: rows [<paramref name="row0"/>, <paramref name="rowEnd"/>) and columns
    /// [<paramref name="column0"/>, <paramref name="columnEnd"/>), the block <see cref="Plan"/> cuts (whole rows, a piece of
    /// one row, or with a column sum all the rows of a range of columns). <paramref name="bases"/> holds each operand's
    /// data, then per instruction its output's data or null, as for <see cref="RunElementwise"/>; <paramref name="groups"/>
    /// per instruction a weighted sum's group buffer, indexed by column. The caller starts and ends the sums
    /// (<see cref="StartSums"/>, <see cref="EndSums"/>); the compiled code adds each row into them.
    /// </summary>
    internal delegate void CompiledElementwise(float** bases, float** groups, long row0, long rowEnd, long column0, long columnEnd);

    /// <summary>Whether programs can be compiled here: the runtime compiles dynamic methods and has vector hardware.</summary>
    internal static bool CanCompileElementwise =>
        RuntimeFeature.IsDynamicCodeCompiled && Vector256.IsHardwareAccelerated;

    /// <summary>Compiles <paramref name="p"/>, a program checked by <see cref="ElementwiseProgram"/>'s constructor.</summary>
    internal static CompiledElementwise CompileElementwise(ElementwiseProgram p)
    {
        var method = new DynamicMethod($"Elementwise{p.Instructions}", typeof(void), [typeof(float**), typeof(float**), typeof(long), typeof(long), typeof(long), typeof(long)],
            typeof(CpuKernels), skipVisibility: true);
        new ElementwiseEmitter(p, method.GetILGenerator()).Emit();
        return method.CreateDelegate<CompiledElementwise>();
    }

    /// <summary>When the kernel compiles a program: after a few runs, in the background (the default); at once; or never.</summary>
    internal enum ElementwiseCompilation { Tiered, AtFirstRun, Never }

    /// <summary>
    /// When programs are compiled. Tiered: a program's first <see cref="TieredRuns"/> runs are interpreted, then it is
    /// compiled on a pool thread while the interpreter goes on, and runs compiled from then on (0.1–0.4 ms a program,
    /// 1.1 ms for a process's first; a graph run once is never compiled). The others are for tests and measurements.
    /// </summary>
    internal static ElementwiseCompilation Compilation { get; set; } = ElementwiseCompilation.Tiered;

    /// <summary>The runs of a program interpreted before it is compiled, under <see cref="ElementwiseCompilation.Tiered"/>.</summary>
    internal const int TieredRuns = 4;

    /// <summary>The node runs that used a compiled program, over the process (for tests; counted without synchronisation).</summary>
    internal static long CompiledElementwiseRuns { get; private set; }

    /// <summary>
    /// One program and its compiled form, shared by every node (of every session) that runs the same program. A node holds
    /// it through a <see cref="GCHandle"/> in its <see cref="KernelState"/>, from the run it is compiled for.
    /// </summary>
    private sealed class CompiledProgram(long[] program)
    {
        private const int Waiting = 0, Compiling = 1, Done = 2, Failed = 3;

        private int _state;

        /// <summary>The compiled program, once there is one.</summary>
        public volatile CompiledElementwise? Block;

        /// <summary>The compiled program, or null to interpret this run: compiles it now, or starts compiling it in the background.</summary>
        public CompiledElementwise? ForRun()
        {
            if (Block is { } block) return block;
            if (Interlocked.CompareExchange(ref _state, Compiling, Waiting) != Waiting) return null;
            if (Compilation == ElementwiseCompilation.Tiered)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static c => c.Compile(), this, preferLocal: false);
                return null;
            }
            Compile();
            return Block;
        }

        private void Compile()
        {
            try
            {
                fixed (long* p = program) Block = CompileElementwise(new ElementwiseProgram(p, program.Length));
                Volatile.Write(ref _state, Done);
            }
            catch (Exception) // on a pool thread, where any exception would end the process: the interpreter goes on instead
            {
                Volatile.Write(ref _state, Failed);
            }
        }
    }

    // The programs seen, by their contents; cleared when it grows past MaxPrograms (the nodes keep theirs). A string key
    // keeps to the framework's precompiled generic code (a struct key cost the first call several milliseconds of JIT).
    private static readonly Dictionary<string, CompiledProgram> s_programs = [];
    private const int MaxPrograms = 1024;

    private static string KeyOf(ReadOnlySpan<long> program) => Convert.ToBase64String(MemoryMarshal.AsBytes(program));

    /// <summary>
    /// The compiled program for this run of a node (null to interpret it), after <see cref="TieredRuns"/> runs under
    /// <see cref="ElementwiseCompilation.Tiered"/> or from the first under <see cref="ElementwiseCompilation.AtFirstRun"/>:
    /// the node's state then gets a handle to its program's shared <see cref="CompiledProgram"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static CompiledElementwise? CompiledForRun(KernelState* state, long* program)
    {
        if (state->Program == IntPtr.Zero)
        {
            if (Compilation == ElementwiseCompilation.Never || state->Runs < 0
                || ++state->Runs < (Compilation == ElementwiseCompilation.AtFirstRun ? 1 : TieredRuns))
                return null;
            if (!CanCompileElementwise)
            {
                state->Runs = int.MinValue; // never asks again
                return null;
            }
            var contents = new ReadOnlySpan<long>(program, (int)state->ProgramLength);
            var key = KeyOf(contents);
            CompiledProgram? shared;
            lock (s_programs)
            {
                if (!s_programs.TryGetValue(key, out shared))
                {
                    if (s_programs.Count >= MaxPrograms) s_programs.Clear();
                    s_programs[key] = shared = new CompiledProgram(contents.ToArray());
                }
            }
            // ONNX Runtime may run one session from several threads at once: the first handle published stays.
            var handle = GCHandle.Alloc(shared);
            if (Interlocked.CompareExchange(ref state->Program, GCHandle.ToIntPtr(handle), IntPtr.Zero) != IntPtr.Zero) handle.Free();
        }
        var block = ((CompiledProgram)GCHandle.FromIntPtr(state->Program).Target!).ForRun();
        if (block is not null) CompiledElementwiseRuns++;
        return block;
    }

    /// <summary>One vector width of the compiled code: a type, and how to load, store, broadcast and add with one rounding.</summary>
    private sealed class Lane
    {
        public required int Width { get; init; }
        public required Type Type { get; init; }
        public MethodInfo? Load { get; init; }      // float* → vector; null for one element (ldind.r4)
        public MethodInfo? Store { get; init; }     // (vector, float*); null for one element (stind.r4)
        public MethodInfo? Create { get; init; }    // float → vector; null for one element
        public required MethodInfo Fma { get; init; }

        /// <summary>The width's methods below, found by name: enumerating Vector512's generic methods took 9 ms.</summary>
        public static Lane Of(Type type, int width)
        {
            static MethodInfo Named(string name) => typeof(CpuKernels).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
            return width == 1
                ? new Lane { Width = 1, Type = type, Fma = Named(nameof(Fma1)) }
                : new Lane { Width = width, Type = type, Load = Named($"Load{width}"), Store = Named($"Store{width}"), Create = Named($"Broadcast{width}"), Fma = Named($"Fma{width}") };
        }
    }

    /// <summary>The widths the compiled code runs, widest first.</summary>
    private static class Lanes
    {
        public static readonly Lane[] All =
        [
            .. Vector512.IsHardwareAccelerated ? [Lane.Of(typeof(Vector512<float>), 16)] : Array.Empty<Lane>(),
            Lane.Of(typeof(Vector256<float>), 8),
            Lane.Of(typeof(float), 1),
        ];
    }

    // The lanes' loads, stores, broadcasts and fused multiply-adds, which the compiled code calls and the JIT inlines.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector512<float> Load16(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static void Store16(Vector512<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector512<float> Broadcast16(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector512<float> Fma16(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector256<float> Load8(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static void Store8(Vector256<float> v, float* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector256<float> Broadcast8(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static Vector256<float> Fma8(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static float Fma1(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    /// <summary>The struct whose <c>Of</c> computes <paramref name="op"/>, and whether its operands go in swapped (Less is Greater of b, a).</summary>
    private static (Type Op, bool Swapped) OperationOf(ElementwiseOp op) => op switch
    {
        ElementwiseOp.Add => (typeof(AddOp), false),
        ElementwiseOp.Sub => (typeof(SubOp), false),
        ElementwiseOp.Mul => (typeof(MulOp), false),
        ElementwiseOp.Div => (typeof(DivOp), false),
        ElementwiseOp.Neg => (typeof(NegOp), false),
        ElementwiseOp.Abs => (typeof(AbsOp), false),
        ElementwiseOp.Sqrt => (typeof(SqrtOp), false),
        ElementwiseOp.Reciprocal => (typeof(ReciprocalOp), false),
        ElementwiseOp.Relu => (typeof(ReluOp), false),
        ElementwiseOp.Greater => (typeof(GreaterOp), false),
        ElementwiseOp.Less => (typeof(GreaterOp), true),
        ElementwiseOp.GreaterOrEqual => (typeof(GreaterOrEqualOp), false),
        ElementwiseOp.LessOrEqual => (typeof(GreaterOrEqualOp), true),
        ElementwiseOp.Equal => (typeof(EqualOp), false),
        ElementwiseOp.SelectOrZero => (typeof(SelectOrZeroOp), false),
        _ => throw new InvalidOperationException($"the elementwise compiler has no operation {op}."),
    };

    /// <summary>Writes one program's IL.</summary>
    private sealed class ElementwiseEmitter(ElementwiseProgram p, ILGenerator il)
    {
        // The arguments of a CompiledElementwise.
        private const short Bases = 0, Groups = 1, Row0 = 2, RowEnd = 3, Column0 = 4, ColumnEnd = 5;

        private readonly int _inputs = p.Inputs, _instructions = p.Instructions;
        private readonly long _rows = p.Rows, _columns = p.Columns;
        private readonly bool[] _isOutput = new bool[p.Inputs + p.Instructions], _read = new bool[p.Inputs + p.Instructions];
        private readonly LocalBuilder?[] _base = new LocalBuilder?[p.Inputs + p.Instructions], _group = new LocalBuilder?[p.Instructions];
        private LocalBuilder _r = null!, _c = null!, _rowOffset = null!, _end = null!, _flags = null!;

        private long Code(int j, int slot) => p.CodePointer[4 * j + slot];
        private ElementwiseOp Op(int j) => (ElementwiseOp)Code(j, 0);

        public void Emit()
        {
            for (var o = 0; o < p.Outputs; o++) _isOutput[p.Output(o)] = true;
            for (var j = 0; j < _instructions; j++)
                for (var s = 1; s <= ReadInRows(Op(j)); s++)
                    if (Code(j, s) >= 0) _read[Code(j, s)] = true;
            _r = il.DeclareLocal(typeof(long));
            _c = il.DeclareLocal(typeof(long));
            _rowOffset = il.DeclareLocal(typeof(long));
            _end = il.DeclareLocal(typeof(long));
            _flags = il.DeclareLocal(typeof(int));
            for (var k = 0; k < _base.Length; k++)
                if (k < _inputs || _isOutput[k]) _base[k] = PointerAt(Bases, k);
            for (var j = 0; j < _instructions; j++)
                if (Op(j) == ElementwiseOp.WeightedColumnSum) _group[j] = PointerAt(Groups, j);
            var lanes = Lanes.All;
            if (!p.HasSums && Enumerable.Range(0, _inputs).All(i => p.Mode(i) is ElementwiseProgram.Full or ElementwiseProgram.Scalar)) EmitFlat(lanes);
            else EmitRows(lanes);
            il.Emit(OpCodes.Ret);
        }

        /// <summary>
        /// The operands of <paramref name="op"/> that the rows read: a sum's scale, its C and a SumScales's α and β are read
        /// only where the sum starts or ends (StartSums, EndSums), so not loaded for every vector.
        /// </summary>
        private static int ReadInRows(ElementwiseOp op) => op switch
        {
            ElementwiseOp.ColumnSum => 1,
            ElementwiseOp.WeightedColumnSum or ElementwiseOp.ScaledWeightedColumnSum => 2,
            ElementwiseOp.SumScales => 0,
            _ => ElementwiseOps.Arity(op),
        };

        /// <summary>A local holding <c>argument[index]</c>, a pointer.</summary>
        private LocalBuilder PointerAt(short argument, int index)
        {
            var local = il.DeclareLocal(typeof(float*));
            il.Emit(OpCodes.Ldarg, argument);
            il.Emit(OpCodes.Ldc_I4, index * sizeof(float*));
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ldind_I);
            il.Emit(OpCodes.Stloc, local);
            return local;
        }

        // No row or column operand and no sum: the block's elements are one run, [row0·columns + column0, (rowEnd − 1)·columns
        // + columnEnd), as Plan cuts whole rows or a piece of one row.
        private void EmitFlat(Lane[] lanes)
        {
            Set(_rowOffset, () => Long(0));
            Set(_c, () => { il.Emit(OpCodes.Ldarg, Row0); Long(_columns); il.Emit(OpCodes.Mul); il.Emit(OpCodes.Ldarg, Column0); il.Emit(OpCodes.Add); });
            Set(_end, () =>
            {
                il.Emit(OpCodes.Ldarg, RowEnd); Long(1); il.Emit(OpCodes.Sub); Long(_columns); il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Ldarg, ColumnEnd); il.Emit(OpCodes.Add);
            });
            foreach (var lane in lanes)
            {
                var values = Values(lane);
                EmitStripLoop(lane, () => EmitBody(lane, values));
            }
        }

        // Row by row, each row's columns [column0, columnEnd) a vector at a time; a sum adds each row into its output (started
        // and ended by the caller, StartSums and EndSums), so every column is summed row after row, as the interpreter sums it.
        private void EmitRows(Lane[] lanes)
        {
            var values = lanes.Select(Values).ToArray();
            Set(_end, () => il.Emit(OpCodes.Ldarg, ColumnEnd));
            EmitRowLoop(() =>
            {
                if (_group.Any(g => g is not null))
                    Set(_flags, () => { il.Emit(OpCodes.Ldloc, _r); Long(_rows); il.Emit(OpCodes.Call, Method(nameof(WeightedGroupFlags))); });
                Set(_c, () => il.Emit(OpCodes.Ldarg, Column0));
                for (var l = 0; l < lanes.Length; l++)
                {
                    var (lane, v) = (lanes[l], values[l]);
                    EmitStripLoop(lane, () => EmitBody(lane, v));
                }
            });
        }

        /// <summary>for (r = row0; r &lt; rowEnd; r++) { rowOffset = r·columns; body }</summary>
        private void EmitRowLoop(Action body)
        {
            var (top, test) = (il.DefineLabel(), il.DefineLabel());
            Set(_r, () => il.Emit(OpCodes.Ldarg, Row0));
            il.Emit(OpCodes.Br, test);
            il.MarkLabel(top);
            Set(_rowOffset, () => { il.Emit(OpCodes.Ldloc, _r); Long(_columns); il.Emit(OpCodes.Mul); });
            body();
            Set(_r, () => { il.Emit(OpCodes.Ldloc, _r); Long(1); il.Emit(OpCodes.Add); });
            il.MarkLabel(test);
            il.Emit(OpCodes.Ldloc, _r);
            il.Emit(OpCodes.Ldarg, RowEnd);
            il.Emit(OpCodes.Blt, top);
        }

        /// <summary>while (c + width ≤ end) { body; c += width }</summary>
        private void EmitStripLoop(Lane lane, Action body)
        {
            var (top, test) = (il.DefineLabel(), il.DefineLabel());
            il.Emit(OpCodes.Br, test);
            il.MarkLabel(top);
            body();
            Set(_c, () => { il.Emit(OpCodes.Ldloc, _c); Long(lane.Width); il.Emit(OpCodes.Add); });
            il.MarkLabel(test);
            il.Emit(OpCodes.Ldloc, _c);
            Long(lane.Width);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ldloc, _end);
            il.Emit(OpCodes.Ble, top);
        }

        private LocalBuilder[] Values(Lane lane) => [.. Enumerable.Range(0, _inputs + _instructions).Select(_ => il.DeclareLocal(lane.Type))];

        /// <summary>The program on one vector: the operands it reads, then each instruction, each output stored.</summary>
        private void EmitBody(Lane lane, LocalBuilder[] v)
        {
            for (var i = 0; i < _inputs; i++)
            {
                if (!_read[i]) continue;
                switch (p.Mode(i))
                {
                    case ElementwiseProgram.Full: LoadAt(lane, _base[i]!, Element); break;
                    case ElementwiseProgram.Row: LoadAt(lane, _base[i]!, Column); break;
                    case ElementwiseProgram.Column: Broadcast(lane, _base[i]!, () => il.Emit(OpCodes.Ldloc, _r)); break;
                    default: Broadcast(lane, _base[i]!, () => Long(0)); break;
                }
                il.Emit(OpCodes.Stloc, v[i]);
            }
            for (var j = 0; j < _instructions; j++)
            {
                var (op, a, b, c) = (Op(j), (int)Code(j, 1), (int)Code(j, 2), (int)Code(j, 3));
                var y = _inputs + j;
                switch (op)
                {
                    case ElementwiseOp.SumScales: continue;
                    case ElementwiseOp.ColumnSum: // sum + a
                        StoreAt(lane, _base[y]!, Column, () => { LoadAt(lane, _base[y]!, Column); il.Emit(OpCodes.Ldloc, v[a]); il.Emit(OpCodes.Call, Of(typeof(AddOp), lane)); });
                        continue;
                    case ElementwiseOp.ScaledWeightedColumnSum: // fma(weight, a, sum)
                        StoreAt(lane, _base[y]!, Column, () => { il.Emit(OpCodes.Ldloc, v[b]); il.Emit(OpCodes.Ldloc, v[a]); LoadAt(lane, _base[y]!, Column); il.Emit(OpCodes.Call, lane.Fma); });
                        continue;
                    case ElementwiseOp.WeightedColumnSum:
                        EmitWeighted(lane, v[b], v[a], _group[j]!, _base[y]!);
                        continue;
                    case ElementwiseOp.Where:
                        il.Emit(OpCodes.Ldloc, v[a]);
                        il.Emit(OpCodes.Ldloc, v[b]);
                        il.Emit(OpCodes.Ldloc, v[c]);
                        il.Emit(OpCodes.Call, typeof(CpuKernels).GetMethod(nameof(WhereOf), BindingFlags.NonPublic | BindingFlags.Static, [lane.Type, lane.Type, lane.Type])!);
                        break;
                    default:
                        var (type, swapped) = OperationOf(op);
                        var second = ElementwiseOps.Arity(op) == 1 ? a : b; // a unary operation reads its operand twice, as Apply passes it
                        il.Emit(OpCodes.Ldloc, v[swapped ? second : a]);
                        il.Emit(OpCodes.Ldloc, v[swapped ? a : second]);
                        il.Emit(OpCodes.Call, Of(type, lane));
                        break;
                }
                il.Emit(OpCodes.Stloc, v[y]);
                if (_isOutput[y]) StoreAt(lane, _base[y]!, Element, () => il.Emit(OpCodes.Ldloc, v[y]));
            }
        }

        /// <summary>Pushes the index of the vector's first element in the result (rowOffset + c).</summary>
        private void Element()
        {
            il.Emit(OpCodes.Ldloc, _rowOffset);
            il.Emit(OpCodes.Ldloc, _c);
            il.Emit(OpCodes.Add);
        }

        /// <summary>Pushes the vector's first column (c).</summary>
        private void Column() => il.Emit(OpCodes.Ldloc, _c);

        // As the interpreter: a row's product weight·a starts its group or is added onto it (group + product); the group's last
        // row adds it onto the sum (group + sum).
        private void EmitWeighted(Lane lane, LocalBuilder weight, LocalBuilder a, LocalBuilder group, LocalBuilder sum)
        {
            var (notFirst, added, notLast) = (il.DefineLabel(), il.DefineLabel(), il.DefineLabel());
            void Product()
            {
                il.Emit(OpCodes.Ldloc, weight);
                il.Emit(OpCodes.Ldloc, a);
                il.Emit(OpCodes.Call, Of(typeof(MulOp), lane));
            }
            il.Emit(OpCodes.Ldloc, _flags);
            il.Emit(OpCodes.Ldc_I4, FirstOfGroup);
            il.Emit(OpCodes.And);
            il.Emit(OpCodes.Brfalse, notFirst);
            StoreAt(lane, group, Column, Product);
            il.Emit(OpCodes.Br, added);
            il.MarkLabel(notFirst);
            StoreAt(lane, group, Column, () => { LoadAt(lane, group, Column); Product(); il.Emit(OpCodes.Call, Of(typeof(AddOp), lane)); });
            il.MarkLabel(added);
            il.Emit(OpCodes.Ldloc, _flags);
            il.Emit(OpCodes.Ldc_I4, LastOfGroup);
            il.Emit(OpCodes.And);
            il.Emit(OpCodes.Brfalse, notLast);
            StoreAt(lane, sum, Column, () => { LoadAt(lane, group, Column); LoadAt(lane, sum, Column); il.Emit(OpCodes.Call, Of(typeof(AddOp), lane)); });
            il.MarkLabel(notLast);
        }

        private void Set(LocalBuilder local, Action value)
        {
            value();
            il.Emit(OpCodes.Stloc, local);
        }

        private void Long(long value) => il.Emit(OpCodes.Ldc_I8, value);

        /// <summary>Pushes <paramref name="data"/> + index·4, the index pushed by <paramref name="index"/>.</summary>
        private void Address(LocalBuilder data, Action index)
        {
            il.Emit(OpCodes.Ldloc, data);
            index();
            Long(sizeof(float));
            il.Emit(OpCodes.Mul);
            il.Emit(OpCodes.Conv_I);
            il.Emit(OpCodes.Add);
        }

        private void LoadAt(Lane lane, LocalBuilder data, Action index)
        {
            Address(data, index);
            if (lane.Load is { } load) il.Emit(OpCodes.Call, load);
            else il.Emit(OpCodes.Ldind_R4);
        }

        private void StoreAt(Lane lane, LocalBuilder data, Action index, Action value)
        {
            if (lane.Store is { } store)
            {
                value();
                Address(data, index);
                il.Emit(OpCodes.Call, store);
                return;
            }
            Address(data, index);
            value();
            il.Emit(OpCodes.Stind_R4);
        }

        /// <summary>Pushes the element of <paramref name="data"/> at the index <paramref name="index"/> pushes, in every lane (a scalar, or a column operand's row).</summary>
        private void Broadcast(Lane lane, LocalBuilder data, Action index)
        {
            Address(data, index);
            il.Emit(OpCodes.Ldind_R4);
            if (lane.Create is { } create) il.Emit(OpCodes.Call, create);
        }

        private static MethodInfo Of(Type op, Lane lane) => op.GetMethod("Of", BindingFlags.Public | BindingFlags.Static, [lane.Type, lane.Type])!;

        private static MethodInfo Method(string name) => typeof(CpuKernels).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;
    }
}
