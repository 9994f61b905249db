namespace NnxSharp.Benchmarks;

/// <summary>The benchmark's user-defined variable kind: the MLP counts its calls.</summary>
public sealed class CallCount(Tensor value) : Variable(value);

/// <summary>The benchmark's own dense layer: weight uniform on [0, 1), bias zeros (as in Flax's benchmark).</summary>
public sealed class UniformLinear : Module
{
    /// <summary>The weight, [din, dout].</summary>
    public readonly Param W;

    /// <summary>The bias, [dout].</summary>
    public readonly Param B;

    /// <summary>Draws the weight from the <c>params</c> stream.</summary>
    public UniformLinear(int din, int dout, Rngs rngs)
    {
        W = new Param(Prng.Uniform(rngs.Params(), [din, dout]));
        B = new Param(Tensor.Zeros(dout));
    }

    /// <summary>x·W + b.</summary>
    public Tensor Call(Tensor x) => x.MatMul(W) + B;
}

/// <summary>Linear → BatchNorm → relu.</summary>
public sealed class SeedBlock : Module
{
    /// <summary>The dense layer.</summary>
    public readonly UniformLinear Linear;

    /// <summary>The normalisation.</summary>
    public readonly BatchNorm Bn;

    /// <summary>A block from din to dout features.</summary>
    public SeedBlock(int din, int dout, Rngs rngs)
    {
        Linear = new UniformLinear(din, dout, rngs);
        Bn = new BatchNorm(dout, rngs);
    }

    /// <summary>relu(bn(linear(x))).</summary>
    public Tensor Call(Tensor x) => Nn.Relu(Bn.Call(Linear.Call(x)));
}

/// <summary>
/// The benchmark's MLP: Block(din, width) → relu → (depth − 2) × [Block(width, width) → relu] → Block(width, dout),
/// with a <see cref="CallCount"/> its call increments.
/// </summary>
public sealed class SeedMlp : Module
{
    /// <summary>The seed's training step over the objects (SGD on MSE; the samples and the kernel-table test use it).</summary>
    public static Tensor TrainStep(SeedMlp model, Optimizer optimizer, Tensor x, Tensor y)
    {
        Tensor LossFn(SeedMlp m) => (m.Call(x) - y).Square().Mean();
        var (loss, grads) = Nnx.ValueAndGrad<SeedMlp>(LossFn)(model);
        optimizer.Update(grads);
        return loss;
    }

    /// <summary>The test step: MSE on the whole data set.</summary>
    public static Tensor TestStep(SeedMlp model, Tensor x, Tensor y) => (model.Call(x) - y).Square().Mean();

    /// <summary>The blocks, in order.</summary>
    public readonly List<SeedBlock> Blocks = [];

    /// <summary>How many times the model was called.</summary>
    public readonly CallCount Count = new(Tensor.Scalar(0, DType.Int32));

    /// <summary>An MLP of <paramref name="depth"/> blocks.</summary>
    public SeedMlp(int din, int width, int dout, int depth, Rngs rngs)
    {
        Blocks.Add(new SeedBlock(din, width, rngs));
        for (var i = 0; i < depth - 2; i++) Blocks.Add(new SeedBlock(width, width, rngs));
        Blocks.Add(new SeedBlock(width, dout, rngs));
    }

    /// <summary>The forward pass.</summary>
    public Tensor Call(Tensor x)
    {
        Count.Value = Count.Value + 1;
        for (var i = 0; i < Blocks.Count - 1; i++) x = Nn.Relu(Blocks[i].Call(x));
        return Blocks[^1].Call(x);
    }

    /// <summary>Multiply-adds ×2 of one forward pass at batch <paramref name="batch"/>; a training step is about three times this.</summary>
    public double ForwardFlops(int batch) => Blocks.Sum(b => 2.0 * batch * b.Linear.W.Shape[0] * b.Linear.W.Shape[1]);
}
