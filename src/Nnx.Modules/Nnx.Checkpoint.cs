namespace NnxSharp;

// Checkpoints: saving and loading state as safetensors files keyed by state path.
public static partial class Nnx
{
    /// <summary>
    /// Saves every variable of the objects (a model; or model, optimizer, metrics) to a safetensors file at
    /// <paramref name="path"/>, keyed by state path: <c>linear/kernel</c>, the optimizer's <c>step</c> and
    /// <c>opt_state/0/mu/linear/kernel</c> (keyed by the parameter each belongs to), <c>metrics/loss/total</c>.
    /// An object shared by several (the optimizer's model) is saved once. The metadata holds the optimizer's
    /// step, the Nnx version and a fingerprint of the objects' GraphDef. The write is atomic: a temporary file,
    /// flushed to disk, renamed over <paramref name="path"/>; a failure leaves the previous file intact.
    /// <code>Nnx.Save("ckpt/step_1000.safetensors", model, optimizer, metrics);</code>
    /// </summary>
    public static void Save(string path, params object[] nodes) => Checkpoint.Save(path, nodes);

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/> into the objects, in place: each variable gets the saved
    /// tensor, on the device its current value is on. Every path, shape and dtype is checked first; any
    /// difference (a path missing from the file, a path the objects do not have, another shape or dtype) throws
    /// one error naming each, and nothing is written.
    /// <code>Nnx.Load("ckpt/step_1000.safetensors", model, optimizer, metrics);</code>
    /// </summary>
    public static CheckpointInfo Load(string path, params object[] nodes) => Checkpoint.Load(path, nodes, filter: null);

    /// <summary>
    /// Loads only the variables of <paramref name="node"/> that <paramref name="filter"/> selects (each must be in
    /// the file, with the same shape and dtype); other entries of the file are ignored. For fine-tuning from a
    /// full checkpoint: <c>Nnx.Load(path, model, Filter.Of&lt;Param&gt;())</c>.
    /// </summary>
    public static CheckpointInfo Load(string path, object node, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Checkpoint.Load(path, [node], filter);
    }

    /// <summary>The contents of a checkpoint without target objects: its state (path → tensor, kinds as saved) and what it says about itself.</summary>
    public static (State State, CheckpointInfo Info) ReadCheckpoint(string path) => Checkpoint.Read(path);
}
