namespace NnxSharp.Benchmarks;

/// <summary>
/// The Fashion-MNIST sample's convnet (samples/FashionMnist/Models.cs): two blocks of 3×3 SAME conv → ReLU →
/// 2×2 max pool (32 and 64 channels), then 3136 → 256 → ReLU → 10; its convolutions lowered as <see cref="Conv.UseIm2Col"/> says.
/// </summary>
public sealed class ConvnetModel : Module
{
    public readonly Conv Conv1;
    public readonly Conv Conv2;
    public readonly MaxPool Pool = new([2, 2], [2, 2]);
    public readonly Flatten Flatten = new();
    public readonly Linear Hidden;
    public readonly Linear Out;

    public ConvnetModel(Rngs rngs, bool? im2col)
    {
        Conv1 = new Conv(1, 32, [3, 3], rngs) { UseIm2Col = im2col };
        Conv2 = new Conv(32, 64, [3, 3], rngs) { UseIm2Col = im2col };
        Hidden = new Linear(7 * 7 * 64, 256, rngs);
        Out = new Linear(256, 10, rngs);
    }

    public Tensor Call(Tensor x)
    {
        x = Pool.Call(Nn.Relu(Conv1.Call(x)));
        x = Pool.Call(Nn.Relu(Conv2.Call(x)));
        return Out.Call(Nn.Relu(Hidden.Call(Flatten.Call(x))));
    }
}
