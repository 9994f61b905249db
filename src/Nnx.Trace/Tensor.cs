using System.Runtime.CompilerServices;
using NnxSharp.Backends;
using NnxSharp.Ir;
using NnxSharp.Primitives;

namespace NnxSharp;

/// <summary>
/// The one value type of Nnx. Outside a trace a tensor is concrete: its data lives in a backend buffer
/// (an ONNX Runtime value on the CPU or a device) and operations run eagerly. Inside a trace it is
/// symbolic: a reference to an IR value, and operations are recorded.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private DeviceBuffer? _buffer;

    internal Tensor(DeviceBuffer buffer)
    {
        _buffer = buffer;
        Aval = buffer.Aval;
    }

    internal Tensor(Value value, TraceBuilder owner)
    {
        Value = value;
        Owner = owner;
        Aval = value.Aval;
    }

    /// <summary>The shape and dtype.</summary>
    public Aval Aval { get; }

    /// <summary>The shape.</summary>
    public Shape Shape => Aval.Shape;

    /// <summary>The element type.</summary>
    public DType DType => Aval.DType;

    /// <summary>The number of dimensions.</summary>
    public int Rank => Aval.Shape.Rank;

    /// <summary>The number of elements.</summary>
    public int Size => Aval.Shape.Size;

    /// <summary>True inside a trace, where the tensor stands for a value that is not computed yet.</summary>
    public bool IsSymbolic => Value is not null;

    /// <summary>The IR value of a symbolic tensor.</summary>
    internal Value? Value { get; }

    /// <summary>The trace a symbolic tensor belongs to.</summary>
    internal TraceBuilder? Owner { get; }

    /// <summary>The backend buffer of a concrete tensor.</summary>
    internal DeviceBuffer DeviceBuffer { [MethodImpl(MethodImplOptions.AggressiveOptimization)] get => _buffer ?? throw Symbolic("read its buffer"); }

    /// <summary>The jitted function this tensor was donated to (its buffer now belongs to it), or null.</summary>
    private string? _donatedTo;

    /// <summary>
    /// Gives the buffer up to a jitted function that reuses it for later outputs; the tensor is invalid
    /// afterwards. Returns null when it holds none (already donated or disposed).
    /// </summary>
    internal DeviceBuffer? Donate(string function)
    {
        var b = _buffer;
        _buffer = null;
        if (b is not null) _donatedTo = function;
        return b;
    }

    /// <summary>Creates a concrete tensor from host data on the default backend.</summary>
    public static Tensor FromHost(HostArray data) => new(Backend.Default.Upload(data));

    /// <summary>Creates a tensor from a CLR array and a shape (the array's length when no shape is given).</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged =>
        FromHost(HostArray.Create(data, shape.Length == 0 && data.Length != 1 ? Shape.Of(data.Length) : Shape.Of(shape)));

    /// <summary>A float32 scalar.</summary>
    public static Tensor Scalar(float value) => FromArray([value]);

    /// <summary>A scalar of the given dtype.</summary>
    public static Tensor Scalar(double value, DType dtype) => Full(value, dtype, []);

    /// <summary>A tensor of the given dtype and shape filled with <paramref name="value"/>.</summary>
    public static Tensor Full(double value, DType dtype, params int[] shape) => new Full(Shape.Of(shape), dtype, value).Bind();

    /// <summary>A float32 tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => Full(0, DType.Float32, shape);

    /// <summary>A float32 tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1, DType.Float32, shape);

    /// <summary>Zeros of the given dtype and shape.</summary>
    public static Tensor Zeros(DType dtype, params int[] shape) => Full(0, dtype, shape);

    /// <summary>Ones of the given dtype and shape.</summary>
    public static Tensor Ones(DType dtype, params int[] shape) => Full(1, dtype, shape);

    /// <summary>Zeros shaped like <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Full(0, like.DType, like.Shape.ToArray());

    /// <summary>Ones shaped like <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Full(1, like.DType, like.Shape.ToArray());

    /// <summary>0, 1, …, n−1 as a 1-D tensor of the given dtype.</summary>
    public static Tensor Arange(int n, DType dtype = DType.Int64) => new Iota(Shape.Of(n), dtype, 0).Bind();

    /// <summary>Counts along <paramref name="axis"/>, broadcast over the other dimensions.</summary>
    public static Tensor Iota(DType dtype, Shape shape, int axis) => new Iota(shape, dtype, shape.Axis(axis, "iota")).Bind();

    /// <summary>Copies the data to the host (waits for any pending work).</summary>
    public HostArray ToHost() => DeviceBuffer.Backend.Download(DeviceBuffer);

    /// <summary>Copies the data into a CLR array of the tensor's element type.</summary>
    public T[] ToArray<T>() where T : unmanaged => IsSymbolic ? throw Symbolic("read its values") : ToHost().ToArray<T>();

    /// <summary>The value of a one-element tensor.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Size != 1) throw new InvalidOperationException($"Item: tensor {Aval} has {Size} elements, not 1.");
        return ToArray<T>()[0];
    }

    /// <summary>True once a concrete tensor's buffer was freed by <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _buffer is null && Value is null;

    /// <summary>
    /// Frees the buffer now rather than at garbage collection (<c>using var t = …;</c>); the tensor cannot be used
    /// afterwards. Disposing a symbolic tensor does nothing.
    /// </summary>
    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }

    /// <summary>
    /// Prints the aval and, for a concrete tensor, its values: <c>Tensor(f32[2,2]) [[1, 2], [3, 4]]</c>; a concrete
    /// scalar prints as its number alone (<c>0.01037445</c>), so <c>Console.WriteLine(loss)</c> reads as a loss.
    /// </summary>
    public override string ToString() =>
        IsSymbolic ? $"Tensor({Aval}, symbolic)" : _buffer is null ? $"Tensor({Aval}, {(_donatedTo is null ? "disposed" : "donated")})"
        : Rank == 0 ? ToHost().FormatElement(0) : $"Tensor({Aval}) {ToHost().FormatValues()}";

    private InvalidOperationException Symbolic(string what) => new(
        IsSymbolic
            ? $"Cannot {what} of a symbolic tensor {Aval} inside a trace: its value is computed only when the traced function runs."
            : _donatedTo is { } f
                ? $"Cannot {what} of tensor {Aval}: it was donated to the jitted function {f}, which reuses its buffer; use the tensors that call returned."
                : $"Cannot {what} of tensor {Aval}: it was disposed.");

    /// <summary>
    /// Applies a primitive: records it when a trace is active or any operand is symbolic, else runs it eagerly.
    /// Active gradient tapes then record the application (nothing happens when none is active).
    /// </summary>
    internal static Tensor Apply(Primitive op, Tensor[] inputs)
    {
        Tensor output;
        if (TraceBuilder.Current is { } trace) output = trace.Record(op, inputs);
        else
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                var t = inputs[i];
                if (t.IsSymbolic)
                    throw new InvalidOperationException($"{op.Name}: a symbolic tensor {t.Aval} was used after its trace ended (did it escape from a traced function?).");
                if (t._buffer is null)
                    throw new ObjectDisposedException(nameof(Tensor), $"{op.Name}: argument {i} is a tensor {t.Aval} that was disposed.");
            }
            output = Eager.Run(op, inputs);
            Temporaries.Made(output);
        }
        if (GradTape.MayBeActive) GradTape.Record(op, inputs, output);
        return output;
    }
}
