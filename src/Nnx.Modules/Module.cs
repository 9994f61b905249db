namespace NnxSharp;

/// <summary>
/// The base of every layer and model: a plain class whose state lives in <see cref="Variable"/> fields and
/// whose structure is its fields. Nnx finds both by traversal, without reflection after the first visit of
/// a type: every instance field, public or not, readonly or mutable, in declaration order (base class first),
/// auto-properties included (through their backing fields); computed properties are not visited. A field
/// holding a <see cref="Module"/>, a <see cref="Variable"/>, or a <c>List&lt;T&gt;</c>, <c>T[]</c> or
/// <c>Dictionary&lt;string, T&gt;</c> of them is part of the graph; any other field is a static attribute
/// (a size, a rate, a flag), kept in the <see cref="GraphDef"/> and compared with <c>Equals</c> (arrays and
/// lists of values by their elements), so it should be immutable. A bare <see cref="Tensor"/> field is an
/// error: wrap it in a Variable kind. <see cref="Nnx.Merge{T}"/> rebuilds modules without running their
/// constructors, from the fields alone.
/// </summary>
public abstract class Module
{
    /// <summary>
    /// True in training mode (the default), false in evaluation mode. Layers read it: dropout drops and
    /// batch normalisation uses batch statistics only while training. A static attribute in the GraphDef,
    /// so switching it makes a jitted step retrace.
    /// </summary>
    public bool Training { get; private set; } = true;

    /// <summary>Sets <see cref="Training"/> on this module and every module reachable from it.</summary>
    public void Train() => SetTraining(true);

    /// <summary>Clears <see cref="Training"/> on this module and every module reachable from it (evaluation mode).</summary>
    public void Eval() => SetTraining(false);

    /// <summary>Moves every variable reachable from this module to <paramref name="device"/>, in place; returns this module.</summary>
    public Module To(Device device)
    {
        Nnx.DevicePut(device, this);
        return this;
    }

    /// <summary>This module and every module reachable from it, each once, with its path (<c>""</c> for this one), in traversal order.</summary>
    public IEnumerable<(string Path, Module Module)> Modules() => GraphSnapshot.Capture([this], tupleRoot: false).Modules();

    /// <summary>Sets <see cref="Training"/> on this module only (to restore a recorded mode exactly).</summary>
    internal void SetTrainingFlag(bool training) => Training = training;

    private void SetTraining(bool training)
    {
        foreach (var (_, module) in Modules()) module.Training = training;
    }
}
