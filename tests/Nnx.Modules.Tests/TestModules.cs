// Small modules for the object-graph tests (layers proper come with their own issue).
using NnxSharp;

namespace UserCode.Models;

/// <summary>A user-defined variable kind.</summary>
public sealed class Count(Tensor value) : Variable(value);

public sealed class Dense : Module
{
    public readonly Param Kernel;
    public Param? Bias;
    public readonly int InFeatures, OutFeatures;

    public Dense(int din, int dout, bool useBias = true)
    {
        (InFeatures, OutFeatures) = (din, dout);
        Kernel = new Param(Tensor.Full(0.5, DType.Float32, din, dout));
        if (useBias) Bias = new Param(Tensor.Zeros(dout));
    }

    public Tensor Call(Tensor x) => Bias is null ? x.MatMul(Kernel) : x.MatMul(Kernel) + Bias;
}

public sealed class Norm : Module
{
    public Param Scale { get; }
    public BatchStat Mean { get; }
    public BatchStat Var { get; }
    public double Momentum { get; init; } = 0.99;

    public Norm(int features)
    {
        Scale = new Param(Tensor.Ones(features));
        Mean = new BatchStat(Tensor.Zeros(features));
        Var = new BatchStat(Tensor.Ones(features));
    }
}

public sealed class Block : Module
{
    public readonly Dense Linear;
    public readonly Norm Bn;
    public Count Calls = new(Tensor.Scalar(0));
    public double Rate;

    public Block(int din, int dout, double rate = 0.1)
    {
        Linear = new Dense(din, dout);
        Bn = new Norm(dout);
        Rate = rate;
    }
}

public sealed class Mlp : Module
{
    public readonly List<Block> Layers = [];
    public readonly string Activation;

    public Mlp(int depth, int width, string activation = "relu")
    {
        for (var i = 0; i < depth; i++) Layers.Add(new Block(width, width));
        Activation = activation;
    }
}

/// <summary>A stand-in optimizer: it holds the very model it updates.</summary>
public sealed class Sgd : Module
{
    public readonly Mlp Model;
    public readonly OptState Step = new(Tensor.Scalar(0));
    public readonly double LearningRate;
    private readonly Dictionary<string, OptState> _momentum = [];

    public Sgd(Mlp model, double learningRate)
    {
        Model = model;
        LearningRate = learningRate;
        foreach (var (path, _) in model.Modules().Where(m => m.Module is Dense))
            _momentum[path.Replace('/', '.')] = new OptState(Tensor.Zeros(1));
    }
}

/// <summary>Tied weights: the decoder uses the encoder's kernel.</summary>
public sealed class Tied : Module
{
    public readonly Dense Encoder;
    public readonly Param Decoder;
    public readonly Param[] Both;

    public Tied(int features)
    {
        Encoder = new Dense(features, features, useBias: false);
        Decoder = Encoder.Kernel;
        Both = [Encoder.Kernel, Decoder];
    }
}

/// <summary>A child that refers back to its parent: a cycle.</summary>
public sealed class Parent : Module
{
    public readonly Child Child;
    public readonly Param W = new(Tensor.Ones(2));

    public Parent() => Child = new Child(this);
}

public sealed class Child(Parent parent) : Module
{
    public readonly Parent Parent = parent;
    public readonly BatchStat S = new(Tensor.Zeros(3));
}

/// <summary>Static attributes of several kinds, a primary constructor's captured parameter and an array of values.</summary>
public enum Mode { Fast, Exact }

public sealed record Config(int Width, string Name);

public sealed class Statics(int seed) : Module
{
    public readonly int[] Features = [4, 8];
    public readonly List<string> Tags = ["a", "b"];
    public Mode Mode = Mode.Fast;
    public Config Config = new(3, "c");
    public float? Eps;
    public readonly Param W = new(Tensor.Ones(1));

    public int Seed => seed;
}

/// <summary>A refined kind: still a Param to filters.</summary>
public sealed class FrozenParam(Tensor value) : Param(value);

/// <summary>Invalid: a bare tensor field.</summary>
public sealed class Raw : Module
{
    public Tensor W = Tensor.Ones(2);
}

/// <summary>Invalid: a variable kind with a field of its own.</summary>
public sealed class Tagged(Tensor value, string tag) : Variable(value)
{
    public string Tag { get; } = tag;
}

public sealed class HoldsTagged : Module
{
    public Tagged T = new(Tensor.Ones(1), "x");
}

/// <summary>Invalid: a container the graph does not support.</summary>
public sealed class Unsupported : Module
{
    public readonly Dictionary<int, Dense> ByIndex = new() { [0] = new Dense(1, 1) };
}

/// <summary>A module holding objects of any kind in an object-typed list.</summary>
public sealed class Mixed : Module
{
    public readonly List<object?> Items = [];
}
