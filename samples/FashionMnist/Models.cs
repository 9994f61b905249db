using NnxSharp;

namespace FashionMnist;

/// <summary>A classifier of [batch, 28, 28, 1] images into 10 logits.</summary>
public interface IClassifier
{
    /// <summary>The logits [batch, 10].</summary>
    Tensor Call(Tensor x);
}

/// <summary>A multilayer perceptron: flatten, 784 → 512 → 256 → 10 with ReLU.</summary>
public sealed class Mlp : Module, IClassifier
{
    public readonly Flatten Flatten = new();
    public readonly Linear Hidden1;
    public readonly Linear Hidden2;
    public readonly Linear Out;

    public Mlp(Rngs rngs)
    {
        Hidden1 = new Linear(28 * 28, 512, rngs);
        Hidden2 = new Linear(512, 256, rngs);
        Out = new Linear(256, 10, rngs);
    }

    public Tensor Call(Tensor x) => Out.Call(Nn.Relu(Hidden2.Call(Nn.Relu(Hidden1.Call(Flatten.Call(x))))));
}

/// <summary>
/// The convnet of Flax's MNIST tutorial with max pooling: two blocks of 3×3 conv (SAME) → ReLU → 2×2 max pool,
/// 32 and 64 channels, then flatten (7·7·64) → 256 → ReLU → 10.
/// </summary>
public sealed class Cnn : Module, IClassifier
{
    public readonly Conv Conv1;
    public readonly Conv Conv2;
    public readonly MaxPool Pool = new([2, 2], [2, 2]);
    public readonly Flatten Flatten = new();
    public readonly Linear Hidden;
    public readonly Linear Out;

    public Cnn(Rngs rngs)
    {
        Conv1 = new Conv(1, 32, [3, 3], rngs);
        Conv2 = new Conv(32, 64, [3, 3], rngs);
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
