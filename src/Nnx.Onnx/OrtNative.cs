using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace NnxSharp.Onnx;

/// <summary>
/// ONNX Runtime's C API <c>Run</c>, called directly: the managed package's <see cref="InferenceSession"/>.Run
/// marshals the input and output names to UTF-8 and copies the handles into new arrays on every call, which for
/// a one-node eager executable costs about as much as the run. The library is the one the package loads
/// (resolved through its assembly), the table comes from <c>OrtGetApiBase()-&gt;GetApi</c>, and the native
/// handles of sessions and values are read through <see cref="UnsafeAccessorAttribute"/> from the package's
/// internal <c>Handle</c> properties. When any of that is missing (another package version),
/// <see cref="Available"/> is false and callers keep the managed path.
/// </summary>
internal static unsafe class OrtNative
{
    // The API version requested: the table is append-only, and every slot used here exists since version 1.
    private const uint ApiVersion = 17;

    // Slots of OrtApi (onnxruntime_c_api.h of 1.31, counted with offsetof): the order never changes.
    private const int SlotGetErrorCode = 1, SlotGetErrorMessage = 2, SlotRun = 9, SlotGetTensorMutableData = 51, SlotReleaseStatus = 93;

    private static readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr*, IntPtr*, nuint, IntPtr*, nuint, IntPtr*, IntPtr> RunFn;
    private static readonly delegate* unmanaged<IntPtr, int> GetErrorCodeFn;
    private static readonly delegate* unmanaged<IntPtr, IntPtr> GetErrorMessageFn;
    private static readonly delegate* unmanaged<IntPtr, void> ReleaseStatusFn;
    private static readonly delegate* unmanaged<IntPtr, IntPtr*, IntPtr> GetTensorMutableDataFn;

    static OrtNative()
    {
        try
        {
            // The package's own assembly resolves the library (deps.json, runtimes/<rid>/native), so this is the copy it uses.
            var library = NativeLibrary.Load("onnxruntime", typeof(OrtEnv).Assembly, null);
            var getApiBase = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "OrtGetApiBase");
            var apiBase = getApiBase();
            if (apiBase == IntPtr.Zero) return;
            var getApi = ((delegate* unmanaged<uint, IntPtr>*)apiBase)[0];
            var api = (IntPtr*)getApi(ApiVersion);
            if (api == null) return;
            Table = api;
            RunFn = (delegate* unmanaged<IntPtr, IntPtr, IntPtr*, IntPtr*, nuint, IntPtr*, nuint, IntPtr*, IntPtr>)api[SlotRun];
            GetErrorCodeFn = (delegate* unmanaged<IntPtr, int>)api[SlotGetErrorCode];
            GetErrorMessageFn = (delegate* unmanaged<IntPtr, IntPtr>)api[SlotGetErrorMessage];
            ReleaseStatusFn = (delegate* unmanaged<IntPtr, void>)api[SlotReleaseStatus];
            GetTensorMutableDataFn = (delegate* unmanaged<IntPtr, IntPtr*, IntPtr>)api[SlotGetTensorMutableData];
            // Probe the accessors once: a package without these internals throws here, not on a hot path.
            using var probe = OrtValue.CreateTensorValueFromMemory(new float[1], [1]);
            Available = ValueHandle(probe) != IntPtr.Zero;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MissingMethodException or MissingFieldException or BadImageFormatException)
        {
            Available = false;
        }
    }

    /// <summary>The OrtApi table of <see cref="ApiVersion"/> (null when the library was not found), for <see cref="CpuKernels"/>.</summary>
    public static IntPtr* Table { get; }

    /// <summary>Whether the direct path can be used (the library, its API table and the package's handles were found).</summary>
    public static bool Available { get; }

    /// <summary>The native <c>OrtValue*</c> of a managed value.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Handle")]
    public static extern IntPtr ValueHandle(OrtValue value);

    /// <summary>The native <c>OrtSession*</c> of a managed session.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Handle")]
    public static extern IntPtr SessionHandle(InferenceSession session);

    /// <summary>
    /// The address of a tensor value's data (<c>OrtApi::GetTensorMutableData</c>): one native call, where the managed
    /// package's <c>GetTensorMutableRawData</c> also reads the type and shape into a new object.
    /// </summary>
    public static IntPtr Data(OrtValue value)
    {
        IntPtr data;
        var status = GetTensorMutableDataFn(ValueHandle(value), &data);
        GC.KeepAlive(value);
        return status == IntPtr.Zero ? data : throw new InvalidOperationException($"ONNX Runtime could not give a tensor's data: {TakeMessage(status)}");
    }

    /// <summary>
    /// <c>OrtApi::Run</c> with pre-marshalled names and native value handles (outputs preallocated, non-null).
    /// Returns null on success, else ONNX Runtime's message prefixed with its error code, as the managed package
    /// formats it (<c>[ErrorCode:Fail] …</c>).
    /// </summary>
    public static string? Run(IntPtr session, IntPtr runOptions, IntPtr* inputNames, IntPtr* inputs, int inputCount,
        IntPtr* outputNames, int outputCount, IntPtr* outputs)
    {
        var status = RunFn(session, runOptions, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs);
        return status == IntPtr.Zero ? null : TakeMessage(status);
    }

    // OrtErrorCode's values (onnxruntime_error_code.h) by the names the managed package prints.
    private static readonly string[] ErrorCodes =
        ["Ok", "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException", "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph"];

    /// <summary>ONNX Runtime's message of a non-null status, with its error code; the status is released.</summary>
    public static string TakeMessage(IntPtr status)
    {
        try
        {
            var code = GetErrorCodeFn(status);
            var name = (uint)code < (uint)ErrorCodes.Length ? ErrorCodes[code] : code.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return $"[ErrorCode:{name}] {Marshal.PtrToStringUTF8(GetErrorMessageFn(status))}";
        }
        finally
        {
            ReleaseStatusFn(status);
        }
    }

    /// <summary>
    /// One native block (free it with <see cref="NativeMemory.Free"/>) that starts with a table of
    /// <paramref name="strings"/>' addresses, followed by the strings as null-terminated UTF-8.
    /// </summary>
    public static IntPtr* Utf8Table(IReadOnlyList<string> strings)
    {
        var bytes = strings.Select(s => System.Text.Encoding.UTF8.GetBytes(s + "\0")).ToArray();
        var table = (IntPtr*)NativeMemory.Alloc((nuint)(strings.Count * sizeof(IntPtr) + bytes.Sum(b => b.Length) + 1));
        var at = (byte*)(table + strings.Count);
        for (var i = 0; i < bytes.Length; i++)
        {
            table[i] = (IntPtr)at;
            bytes[i].CopyTo(new Span<byte>(at, bytes[i].Length));
            at += bytes[i].Length;
        }
        return table;
    }
}
