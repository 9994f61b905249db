using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.ML.OnnxRuntime;
using NnxSharp.Primitives;

namespace NnxSharp.Onnx;

/// <summary>
/// Nnx's own CPU kernels (<see cref="NnxCpuOps"/>), registered with ONNX Runtime as custom operators through its C API
/// (<c>OrtCustomOp</c>, <c>CustomOpDomain_Add</c>, <c>AddCustomOpDomain</c>). Each is one pass over its tensors, split
/// into blocks that run on the session's intra-op threads (<c>KernelContext_ParallelFor</c>). They replace ONNX Runtime
/// kernels that run on one thread however many the session has, and bit for bit: ORT's <c>Where</c> (two selections
/// into temporaries, then a merge), its bool-to-float <c>Cast</c>, its <c>Slice</c> and its <c>Pad</c>
/// (CpuKernels.Copies.cs), and its ReduceSum and ReduceMean over the leading axes of a small matrix, for which ORT wakes a
/// second thread however little the work (CpuKernels.ColumnSums.cs). One is not ORT's bits but faster arithmetic: a float32
/// Gemm with a thin operand on AVX-512 (CpuKernels.Gemm.cs). And one runs a cluster of float32 elementwise nodes as one
/// pass, with the bits of ORT's separate nodes (CpuKernels.Elementwise.cs, ElementwiseFusion.cs).
/// <para>The operator descriptions and the domain live as long as the process (sessions keep pointers to them).</para>
/// </summary>
internal static unsafe partial class CpuKernels
{
    // OrtApi slots (onnxruntime_c_api.h of 1.31, counted with offsetof). The table is append-only.
    private const int SlotCreateStatus = 0, SlotCreateCustomOpDomain = 26, SlotCustomOpDomainAdd = 27, SlotAddCustomOpDomain = 28,
        SlotGetTensorMutableData = 51, SlotGetTensorElementType = 60, SlotGetDimensionsCount = 61, SlotGetDimensions = 62,
        SlotGetTensorShapeElementCount = 64, SlotGetTensorTypeAndShape = 65, SlotKernelContextGetInputCount = 88, SlotKernelContextGetOutputCount = 89, SlotKernelContextGetInput = 90, SlotKernelContextGetOutput = 91,
        SlotReleaseTensorTypeAndShapeInfo = 99, SlotKernelContextParallelFor = 274;

    // OrtCustomOp (1.31): a uint32 version, then 25 function pointers; 26 slots of 8 bytes. Slot 26 is ours: the kernel.
    private const int OpSlots = 27, SlotKind = 26;

    // The OrtCustomOp version: 17 has ComputeV2 (an error status from a kernel) and null-checks every optional member.
    private const uint OpVersion = 17;

    // ONNXTensorElementDataType.
    private const int ElementAny = 0, ElementFloat = 1, ElementInt64 = 7, ElementBool = 9, ElementDouble = 11;
    private const int OrtRuntimeException = 6;

    // Elements per block handed to a thread: 32 K floats read and written is ~256 KB, an L2's worth.
    private const long BlockElements = 1 << 15;

    private enum Kind { SelectFloat, SelectDouble, ToFloat, ToDouble, Slice, Pad, ColumnSumsFloat, ColumnSumsDouble, GemmFloat, GemmPairFloat, ElementwiseFloat }

    private static readonly IntPtr s_domain;
    private static readonly IntPtr[] s_names = new IntPtr[11];

    static CpuKernels()
    {
        try
        {
            if (!OrtNative.Available || OrtNative.Table == null) return;
            IntPtr domain;
            if (!Ok(((delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)Api(SlotCreateCustomOpDomain))(Marshal.StringToCoTaskMemUTF8(NnxCpuOps.Domain), &domain))) return;
            s_names[(int)Kind.SelectFloat] = s_names[(int)Kind.SelectDouble] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.SelectOrZero);
            s_names[(int)Kind.ToFloat] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.BoolToFloat32);
            s_names[(int)Kind.ToDouble] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.BoolToFloat64);
            s_names[(int)Kind.Slice] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.Slice);
            s_names[(int)Kind.Pad] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.Pad);
            s_names[(int)Kind.ColumnSumsFloat] = s_names[(int)Kind.ColumnSumsDouble] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.ColumnSums);
            s_names[(int)Kind.GemmFloat] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.PackedGemm);
            s_names[(int)Kind.GemmPairFloat] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.PackedGemmPair);
            s_names[(int)Kind.ElementwiseFloat] = Marshal.StringToCoTaskMemUTF8(NnxCpuOps.Elementwise);
            foreach (var kind in Enum.GetValues<Kind>())
                if (!Ok(((delegate* unmanaged<IntPtr, IntPtr, IntPtr>)Api(SlotCustomOpDomainAdd))(domain, Describe(kind)))) return;
            s_domain = domain;
            // The kernels' loops are compiled fully optimised at their first use (not ahead of time: they test for
            // AVX-512); compile the elementwise kernel's now, on a pool thread, while the first jitted call is still
            // lowering and loading its model (it otherwise added ~15 ms to that call's first run).
            ThreadPool.UnsafeQueueUserWorkItem(static _ => PrepareElementwise(), null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_domain = IntPtr.Zero;
        }
    }

    /// <summary>Whether the kernels are registered with ONNX Runtime and lowerings may use them.</summary>
    public static bool Available => s_domain != IntPtr.Zero;

    /// <summary>Makes the kernels available to sessions created with <paramref name="options"/> (nothing when not <see cref="Available"/>).</summary>
    public static void Register(SessionOptions options)
    {
        if (!Available) return;
        var status = ((delegate* unmanaged<IntPtr, IntPtr, IntPtr>)Api(SlotAddCustomOpDomain))(OptionsHandle(options), s_domain);
        GC.KeepAlive(options);
        if (status != IntPtr.Zero) throw new InvalidOperationException($"Nnx could not register its CPU kernels ({NnxCpuOps.Domain}) with ONNX Runtime: {OrtNative.TakeMessage(status)}");
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Handle")]
    private static extern IntPtr OptionsHandle(SessionOptions options);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr Api(int slot) => OrtNative.Table[slot];

    private static bool Ok(IntPtr status)
    {
        if (status == IntPtr.Zero) return true;
        OrtNative.TakeMessage(status);
        return false;
    }

    private static IntPtr Describe(Kind kind)
    {
        var op = (IntPtr*)NativeMemory.AllocZeroed(OpSlots, (nuint)sizeof(IntPtr));
        *(uint*)op = OpVersion;
        op[1] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr>)&CreateKernel;
        op[2] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&GetName;
        op[3] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr>)&GetExecutionProviderType;
        op[4] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetInputType;
        op[5] = (IntPtr)(delegate* unmanaged<IntPtr, nuint>)&GetInputTypeCount;
        op[6] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&GetOutputType;
        op[7] = (IntPtr)(delegate* unmanaged<IntPtr, nuint>)&GetOutputTypeCount;
        op[8] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, void>)&KernelCompute;
        op[9] = (IntPtr)(delegate* unmanaged<IntPtr, void>)&KernelDestroy;
        op[10] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&InputCharacteristic;
        op[11] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&OutputCharacteristic;
        op[12] = (IntPtr)(delegate* unmanaged<IntPtr, nuint, int>)&DefaultMemory;
        op[13] = op[15] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&One;
        op[14] = op[16] = (IntPtr)(delegate* unmanaged<IntPtr, int>)&One;
        op[18] = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, IntPtr>)&KernelComputeV2;
        op[SlotKind] = (IntPtr)kind;
        return (IntPtr)op;
    }

    private static Kind KindOf(IntPtr op) => (Kind)((IntPtr*)op)[SlotKind];

    /// <summary>
    /// A node's kernel: its operator's description, whether its operands were checked, and for an elementwise node its
    /// program's length, its runs so far and a handle to its program's compiled form (<see cref="ComputeElementwise"/>;
    /// zero until it is compiled for).
    /// </summary>
    private struct KernelState
    {
        public IntPtr Op;
        public bool Checked;
        public long ProgramLength;
        public int Runs;
        public IntPtr Program;
    }

    [UnmanagedCallersOnly]
    private static IntPtr CreateKernel(IntPtr op, IntPtr api, IntPtr info)
    {
        var kernel = (KernelState*)NativeMemory.AllocZeroed((nuint)sizeof(KernelState));
        kernel->Op = op;
        return (IntPtr)kernel;
    }

    [UnmanagedCallersOnly]
    private static IntPtr GetName(IntPtr op) => s_names[(int)KindOf(op)];

    [UnmanagedCallersOnly]
    private static IntPtr GetExecutionProviderType(IntPtr op) => IntPtr.Zero; // the CPU provider

    [UnmanagedCallersOnly]
    private static int GetInputType(IntPtr op, nuint index) => KindOf(op) switch
    {
        Kind.Slice or Kind.Pad => index == 0 ? ElementAny : ElementInt64,
        Kind.ColumnSumsFloat => index == 1 ? ElementInt64 : ElementFloat,
        Kind.ColumnSumsDouble => index == 1 ? ElementInt64 : ElementDouble,
        Kind.GemmFloat or Kind.GemmPairFloat => ElementFloat,
        Kind.ElementwiseFloat => index == 0 ? ElementInt64 : ElementFloat,
        _ when index == 0 => ElementBool,
        Kind.SelectDouble => ElementDouble,
        _ => ElementFloat,
    };

    [UnmanagedCallersOnly]
    private static nuint GetInputTypeCount(IntPtr op) => KindOf(op) switch { Kind.SelectFloat or Kind.SelectDouble or Kind.Pad or Kind.ElementwiseFloat => 2, Kind.Slice or Kind.ColumnSumsFloat or Kind.ColumnSumsDouble => 3, Kind.GemmFloat or Kind.GemmPairFloat => 4, _ => 1 };

    [UnmanagedCallersOnly]
    private static int GetOutputType(IntPtr op, nuint index) => KindOf(op) switch
    {
        Kind.Slice or Kind.Pad => ElementAny, // the data's type
        Kind.SelectDouble or Kind.ToDouble or Kind.ColumnSumsDouble => ElementDouble,
        _ => ElementFloat,
    };

    [UnmanagedCallersOnly]
    private static nuint GetOutputTypeCount(IntPtr op) => KindOf(op) == Kind.GemmPairFloat ? 2u : 1u;

    [UnmanagedCallersOnly]
    private static void KernelCompute(IntPtr kernel, IntPtr context) { } // ONNX Runtime calls KernelComputeV2 (version ≥ 16)

    [UnmanagedCallersOnly]
    private static void KernelDestroy(IntPtr kernel)
    {
        var state = (KernelState*)kernel;
        if (state->Program != IntPtr.Zero) GCHandle.FromIntPtr(state->Program).Free();
        NativeMemory.Free(state);
    }

    // OrtCustomOpInputOutputCharacteristic: 0 required, 2 variadic (the last input or output only).
    [UnmanagedCallersOnly]
    private static int InputCharacteristic(IntPtr op, nuint index) => KindOf(op) == Kind.ElementwiseFloat && index == 1 ? 2 : 0;

    [UnmanagedCallersOnly]
    private static int OutputCharacteristic(IntPtr op, nuint index) => KindOf(op) == Kind.ElementwiseFloat ? 2 : 0;

    [UnmanagedCallersOnly]
    private static int DefaultMemory(IntPtr op, nuint index) => 0; // OrtMemTypeDefault

    [UnmanagedCallersOnly]
    private static int One(IntPtr op) => 1;

    /// <summary>What one call hands to its blocks.</summary>
    private struct Job
    {
        public Kind Kind;
        public byte* Mask;
        public void* X;
        public void* Y;
        public long Count;
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised at the first call: no slow first steps
    private static IntPtr KernelComputeV2(IntPtr kernel, IntPtr context)
    {
        try
        {
            var kind = KindOf(((KernelState*)kernel)->Op);
            if (kind == Kind.Slice) return ComputeSlice(context);
            if (kind == Kind.Pad) return ComputePad(context);
            if (kind is Kind.ColumnSumsFloat or Kind.ColumnSumsDouble) return ComputeColumnSums(context, kind == Kind.ColumnSumsDouble);
            if (kind == Kind.GemmFloat) return ComputeGemm(context);
            if (kind == Kind.GemmPairFloat) return ComputeGemmPair(context);
            if (kind == Kind.ElementwiseFloat) return ComputeElementwise(context, (KernelState*)kernel);
            var mask = Input(context, 0);
            var x = kind is Kind.SelectFloat or Kind.SelectDouble ? Input(context, 1) : IntPtr.Zero;
            var dims = stackalloc long[MaxRank];
            var rank = ShapeOf(mask, dims, out _, out var count);
            if (x != IntPtr.Zero)
            {
                var other = stackalloc long[MaxRank];
                ShapeOf(x, other, out _, out var values);
                if (values != count) throw new InvalidOperationException($"the mask has {count} elements and the values {values}; they must have one shape.");
            }
            var y = Output(context, dims, rank);
            var job = new Job { Kind = kind, Mask = (byte*)Data(mask), X = x == IntPtr.Zero ? null : Data(x), Y = Data(y), Count = count };
            return ParallelFor(context, &RunBlock, (count + BlockElements - 1) / BlockElements, &job);
        }
        catch (Exception e)
        {
            var message = Marshal.StringToCoTaskMemUTF8($"{NnxCpuOps.Domain} {Marshal.PtrToStringUTF8(s_names[(int)KindOf(((KernelState*)kernel)->Op)])}: {e.Message}");
            try
            {
                return ((delegate* unmanaged<int, IntPtr, IntPtr>)Api(SlotCreateStatus))(OrtRuntimeException, message);
            }
            finally
            {
                Marshal.FreeCoTaskMem(message);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr Input(IntPtr context, nuint index)
    {
        IntPtr value;
        Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, nuint, IntPtr*, IntPtr>)Api(SlotKernelContextGetInput))(context, index, &value));
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void* Data(IntPtr value)
    {
        void* data;
        Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, void**, IntPtr>)Api(SlotGetTensorMutableData))(value, &data));
        return data;
    }

    /// <summary>The most axes a kernel's operand may have.</summary>
    private const int MaxRank = 16;

    /// <summary>
    /// Writes <paramref name="value"/>'s extents into <paramref name="dims"/> (room for <see cref="MaxRank"/>) and returns its
    /// rank, with its ONNX element type and element count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ShapeOf(IntPtr value, long* dims, out int element, out long count)
    {
        IntPtr info;
        Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, IntPtr*, IntPtr>)Api(SlotGetTensorTypeAndShape))(value, &info));
        try
        {
            nuint rank, n;
            int type;
            Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, nuint*, IntPtr>)Api(SlotGetDimensionsCount))(info, &rank));
            if ((int)rank > MaxRank) throw new InvalidOperationException($"an operand of rank {rank}; the kernels take up to {MaxRank} axes.");
            Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, long*, nuint, IntPtr>)Api(SlotGetDimensions))(info, dims, rank));
            Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, int*, IntPtr>)Api(SlotGetTensorElementType))(info, &type));
            Check(((delegate* unmanaged[SuppressGCTransition]<IntPtr, nuint*, IntPtr>)Api(SlotGetTensorShapeElementCount))(info, &n));
            (element, count) = (type, (long)n);
            return (int)rank;
        }
        finally
        {
            ((delegate* unmanaged[SuppressGCTransition]<IntPtr, void>)Api(SlotReleaseTensorTypeAndShapeInfo))(info);
        }
    }

    /// <summary>The kernel's output <paramref name="index"/> (the first by default), of extents <paramref name="dims"/>.</summary>
    private static IntPtr Output(IntPtr context, long* dims, int rank, nuint index = 0)
    {
        IntPtr y;
        Check(((delegate* unmanaged<IntPtr, nuint, long*, nuint, IntPtr*, IntPtr>)Api(SlotKernelContextGetOutput))(context, index, dims, (nuint)rank, &y));
        return y;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for blocks 0 … <paramref name="blocks"/> − 1 on the session's intra-op threads; a single
    /// block on the calling thread (ONNX Runtime's ParallelFor wakes a worker even for one: ~20 µs on two threads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static IntPtr ParallelFor(IntPtr context, delegate* unmanaged<void*, nuint, void> body, long blocks, void* job)
    {
        if (blocks == 0) return IntPtr.Zero;
        if (blocks == 1)
        {
            body(job, 0);
            return IntPtr.Zero;
        }
        return ((delegate* unmanaged<IntPtr, delegate* unmanaged<void*, nuint, void>, nuint, nuint, void*, IntPtr>)Api(SlotKernelContextParallelFor))(
            context, body, (nuint)blocks, 0, job);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Check(IntPtr status)
    {
        if (status != IntPtr.Zero) throw new InvalidOperationException(OrtNative.TakeMessage(status));
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimised at the first call: no slow first steps
    private static void RunBlock(void* state, nuint index)
    {
        var job = (Job*)state;
        var start = (long)index * BlockElements;
        var end = Math.Min(start + BlockElements, job->Count);
        switch (job->Kind)
        {
            case Kind.SelectFloat: SelectFloat(job->Mask, (float*)job->X, (float*)job->Y, start, end); break;
            case Kind.SelectDouble: SelectDouble(job->Mask, (double*)job->X, (double*)job->Y, start, end); break;
            case Kind.ToFloat: ToFloat(job->Mask, (float*)job->Y, start, end); break;
            default: ToDouble(job->Mask, (double*)job->Y, start, end); break;
        }
    }

    // ONNX bools are bytes holding 0 or 1. The vector paths widen 8 (or 4) of them to 32-bit (64-bit) lanes and keep the
    // bits of x (or of 1) where the byte is nonzero, +0 elsewhere, as ORT's Where(c, x, 0) and Cast write them: NaN and
    // infinities pass unchanged.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SelectFloat(byte* c, float* x, float* y, long i, long end)
    {
        if (Avx2.IsSupported)
            for (; i + 8 <= end; i += 8)
            {
                var zero = Vector256.Equals(Avx2.ConvertToVector256Int32(c + i), Vector256<int>.Zero);
                Vector256.AndNot(Vector256.Load(x + i).AsInt32(), zero).AsSingle().Store(y + i);
            }
        for (; i < end; i++) y[i] = c[i] != 0 ? x[i] : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SelectDouble(byte* c, double* x, double* y, long i, long end)
    {
        if (Avx2.IsSupported)
            for (; i + 4 <= end; i += 4)
            {
                var zero = Vector256.Equals(Avx2.ConvertToVector256Int64(c + i), Vector256<long>.Zero);
                Vector256.AndNot(Vector256.Load(x + i).AsInt64(), zero).AsDouble().Store(y + i);
            }
        for (; i < end; i++) y[i] = c[i] != 0 ? x[i] : 0d;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToFloat(byte* c, float* y, long i, long end)
    {
        if (Avx2.IsSupported)
            for (; i + 8 <= end; i += 8)
                Vector256.AndNot(Vector256.Create(1f).AsInt32(), Vector256.Equals(Avx2.ConvertToVector256Int32(c + i), Vector256<int>.Zero)).AsSingle().Store(y + i);
        for (; i < end; i++) y[i] = c[i] != 0 ? 1f : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToDouble(byte* c, double* y, long i, long end)
    {
        if (Avx2.IsSupported)
            for (; i + 4 <= end; i += 4)
                Vector256.AndNot(Vector256.Create(1d).AsInt64(), Vector256.Equals(Avx2.ConvertToVector256Int64(c + i), Vector256<long>.Zero)).AsDouble().Store(y + i);
        for (; i < end; i++) y[i] = c[i] != 0 ? 1d : 0d;
    }
}
