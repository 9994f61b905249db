// The built-in variable kinds: tags, one line each, kept together (Flax's nnx.Param, nnx.BatchStat, …).
// The common kinds are not sealed so that a kind can be refined (class LoRAParam : Param); filters match subclasses.

namespace NnxSharp;

/// <summary>A trainable parameter (weights, biases): what optimizers update and gradients are taken for.</summary>
public class Param(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);

/// <summary>A statistic computed from batches (BatchNorm's running mean and variance): state, not trained.</summary>
public class BatchStat(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);

/// <summary>A cache kept between calls (an attention layer's keys and values during decoding).</summary>
public class Cache(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);

/// <summary>A value a module records while it runs (an activation kept for inspection).</summary>
public class Intermediate(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);

/// <summary>An optimizer's state (a step count, Adam's moments).</summary>
public class OptState(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);

/// <summary>The state of a random stream: its key or its counter.</summary>
public abstract class RngState(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : Variable(value, metadata);

/// <summary>A random stream's key: a u32[2] tensor (see <see cref="Prng"/>).</summary>
public sealed class RngKey(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : RngState(value, metadata);

/// <summary>A random stream's counter: a u32 scalar, incremented at every draw.</summary>
public sealed class RngCount(Tensor value, IReadOnlyDictionary<string, object>? metadata = null) : RngState(value, metadata);
