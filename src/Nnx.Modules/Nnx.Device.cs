namespace NnxSharp;

// Moving state between devices.
public static partial class Nnx
{
    /// <summary>
    /// Moves every variable of the nodes (modules, optimizers, metrics: split together, so shared state moves
    /// once) to <paramref name="device"/>, in place: the same <see cref="Variable"/> objects hold tensors on the
    /// new device. A jitted step then runs there.
    /// </summary>
    public static void DevicePut(Device device, params object[] nodes)
    {
        ArgumentNullException.ThrowIfNull(device);
        var snapshot = Snapshot(nodes, nameof(DevicePut));
        foreach (var v in snapshot.Variables) v.Value = v.RawValue.To(device);
    }

    /// <summary>The tensor on <paramref name="device"/> (itself when already there).</summary>
    public static Tensor DevicePut(Tensor tensor, Device device) => tensor.To(device);
}
