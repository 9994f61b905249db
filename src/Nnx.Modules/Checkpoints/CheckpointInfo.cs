namespace NnxSharp;

/// <summary>What a checkpoint says about itself, as <see cref="Nnx.Load(string, object[])"/> and <see cref="Nnx.ReadCheckpoint"/> return it.</summary>
/// <param name="Path">The file.</param>
/// <param name="Step">The optimizer's step count when it was saved (null when no optimizer was saved).</param>
/// <param name="NnxVersion">The Nnx version that wrote it.</param>
/// <param name="GraphDefFingerprint">A fingerprint of the saved objects' structure (their GraphDef), 16 hex digits.</param>
/// <param name="Roots">The type names of the saved objects, in order.</param>
/// <param name="Metadata">The file's whole <c>__metadata__</c> map (the fields above come from its <c>nnx.*</c> keys).</param>
public sealed record CheckpointInfo(
    string Path, long? Step, string NnxVersion, string GraphDefFingerprint, IReadOnlyList<string> Roots, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>True when <paramref name="nodes"/> have exactly the structure that was saved (same types, static attributes, training flags).</summary>
    public bool SameStructureAs(params object[] nodes) => GraphDefFingerprint == Checkpoint.Fingerprint(Nnx.GraphDef(nodes));
}
