namespace NnxSharp;

/// <summary>
/// Makes a parameter's initial value from a PRNG key, a shape and a dtype, as <c>jax.nn.initializers</c>'
/// functions <c>init(key, shape, dtype)</c>. <see cref="Init"/> holds the standard ones.
/// </summary>
/// <param name="key">A u32[2] key (see <see cref="Prng"/>); used for one draw only.</param>
/// <param name="shape">The shape of the value.</param>
/// <param name="dtype">The dtype of the value (float32 or float64 for the random initializers).</param>
public delegate Tensor Initializer(Tensor key, int[] shape, DType dtype);
