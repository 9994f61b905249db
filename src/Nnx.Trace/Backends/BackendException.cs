namespace NnxSharp.Backends;

/// <summary>
/// A failure inside the runtime that runs compiled graphs (ONNX Runtime), reported with what Nnx knows: the
/// primitive whose lowering failed, its operand avals, and (added by the jits) the jitted function it was
/// traced from. The runtime's own exception, when it threw one, is the inner exception (a direct call of its C
/// API returns a status message instead).
/// </summary>
public sealed class BackendException : InvalidOperationException
{
    /// <summary>Creates the exception with a message and the runtime's exception (null when the runtime gave only a status message).</summary>
    public BackendException(string message, Exception? inner)
        : base(message, inner)
    {
    }

    /// <summary>The same failure, with <paramref name="where"/> (the jitted function) put first.</summary>
    internal BackendException In(string where) => new($"{where}: {Message}", InnerException);
}
