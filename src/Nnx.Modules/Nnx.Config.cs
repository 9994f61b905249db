namespace NnxSharp;

// Global settings.
public static partial class Nnx
{
    /// <summary>Settings that apply to the default device and to what is compiled after they change.</summary>
    public static class Config
    {
        /// <summary>
        /// The intra-op threads of the default device's sessions compiled from now on (see
        /// <see cref="Device.IntraOpThreads"/>): a count, or null (the default) to choose by graph size — one
        /// thread below <see cref="Onnx.OrtBackend.ParallelFlops"/> floating-point operations per run, every core
        /// above. Steps already compiled keep their sessions.
        /// </summary>
        public static int? IntraOpThreads
        {
            get => Device.Default.IntraOpThreads;
            set => Device.Default.IntraOpThreads = value;
        }
    }
}
