namespace NnxSharp.Onnx;

/// <summary>
/// Which captured CUDA graph a step call can replay. A captured graph reads and writes the device addresses it
/// was captured with, so a call replays graph k only when its state inputs and state outputs are exactly the
/// buffers graph k was captured with (then the graph writes only buffers the caller asked to be written). A call
/// with new state buffers captures a new graph while fewer than <paramref name="maxGraphs"/> exist; the A/B swap
/// of a training loop settles on two sets, so two or three graphs cover it. Any other call runs uncaptured.
/// Buffers compare by identity; the slots hold them, so a captured address is never reused by another tensor.
/// </summary>
internal sealed class CudaGraphSlots(int maxGraphs)
{
    private readonly List<(object[] Inputs, object[] Outputs)> _captured = [];

    /// <summary>How many graphs have been assigned (captured or about to be).</summary>
    public int Count => _captured.Count;

    /// <summary>
    /// The index of the graph to replay or capture for these state buffers (its <c>gpu_graph_id</c> is index + 1,
    /// as ONNX Runtime reserves 0), or −1 to run uncaptured. <paramref name="isNew"/> says the graph is new.
    /// </summary>
    public int Pick(IReadOnlyList<object> stateInputs, IReadOnlyList<object> stateOutputs, out bool isNew)
    {
        isNew = false;
        for (var k = 0; k < _captured.Count; k++)
            if (Same(_captured[k].Inputs, stateInputs) && Same(_captured[k].Outputs, stateOutputs)) return k;
        if (_captured.Count >= maxGraphs) return -1;
        _captured.Add(([.. stateInputs], [.. stateOutputs]));
        isNew = true;
        return _captured.Count - 1;
    }

    private static bool Same(object[] held, IReadOnlyList<object> given)
    {
        if (held.Length != given.Count) return false;
        for (var i = 0; i < held.Length; i++)
            if (!ReferenceEquals(held[i], given[i])) return false;
        return true;
    }
}
