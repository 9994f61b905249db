namespace NnxSharp.Backends;

/// <summary>
/// A failure inside the runtime that runs compiled graphs (ONNX Runtime), reported with what Nnx knows: the
/// primitive whose lowering failed, its operand avals, and (added by the jits) the jitted function it was
/// traced from. The runtime's own exception is the inner exception.
/// </summary>
public sealed class BackendException : InvalidOperationException
{
    /// <summary>Creates the exception with a message and the runtime's exception.</summary>
    public BackendException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The same failure, with <paramref name="where"/> (the jitted function) put first.</summary>
    internal BackendException In(string where) => new($"{where}: {Message}", InnerException!);
}
