using BenchmarkDotNet.Attributes;

namespace NnxSharp.Benchmarks;

/// <summary>
/// The object-graph costs a jitted step pays on every call, on a 5-block MLP (each block: a dense layer,
/// a batch-norm-like layer, a rate; 30 variables, 47 nodes): a full traversal (what a Split costs without the
/// cache), a Split that reuses the cached structure, the structure check alone, and Merge.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ModuleBenchmarks
{
    private Mlp _model = null!;
    private Adamish _optimizer = null!;
    private GraphSnapshot _snapshot = null!;
    private GraphDef _graphdef = null!;
    private State _state = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = new Mlp(blocks: 5, width: 64);
        _optimizer = new Adamish(_model);
        _snapshot = GraphSnapshot.Capture([_model], tupleRoot: false);
        (_graphdef, _state) = Nnx.Split(_model);
        Nnx.Split(_model, _optimizer);
    }

    /// <summary>Split with a cold cache: one traversal building the GraphDef, then the State.</summary>
    [Benchmark]
    public State SplitUncached() => GraphSnapshot.Capture([_model], tupleRoot: false).State();

    /// <summary>Split as users call it: cache lookup, structure check, State from the cached variables.</summary>
    [Benchmark(Baseline = true)]
    public State Split() => Nnx.Split(_model).State;

    /// <summary>The structure check alone: proves the cached GraphDef still describes the model.</summary>
    [Benchmark]
    public bool StructureCheck() => _snapshot.IsCurrent();

    /// <summary>Nnx.GraphDef on a warm cache: root lookup plus the structure check.</summary>
    [Benchmark]
    public GraphDef GraphDefCached() => Nnx.GraphDef(_model);

    /// <summary>Split of the model and an optimizer holding it (51 variables).</summary>
    [Benchmark]
    public State SplitWithOptimizer() => Nnx.Split(_model, _optimizer).State;

    /// <summary>A new model from the GraphDef and State.</summary>
    [Benchmark]
    public Mlp Merge() => Nnx.Merge<Mlp>(_graphdef, _state);

    /// <summary>GraphDef equality of two equal, separately built structures (a jit cache probe on a new object).</summary>
    [Benchmark]
    public bool GraphDefEquals() => _graphdef.Equals(_snapshot.GraphDef);
}

public sealed class Dense : Module
{
    public readonly Param Kernel, Bias;
    public readonly int InFeatures, OutFeatures;

    public Dense(int din, int dout)
    {
        (InFeatures, OutFeatures) = (din, dout);
        Kernel = new Param(Tensor.Zeros(din, dout));
        Bias = new Param(Tensor.Zeros(dout));
    }
}

public sealed class Norm : Module
{
    public readonly Param Scale, Bias;
    public readonly BatchStat Mean, Var;
    public readonly double Momentum = 0.99, Epsilon = 1e-5;

    public Norm(int features)
    {
        (Scale, Bias) = (new Param(Tensor.Ones(features)), new Param(Tensor.Zeros(features)));
        (Mean, Var) = (new BatchStat(Tensor.Zeros(features)), new BatchStat(Tensor.Ones(features)));
    }
}

public sealed class Block(int din, int dout) : Module
{
    public readonly Dense Linear = new(din, dout);
    public readonly Norm Bn = new(dout);
    public readonly double DropoutRate = 0.1;
}

public sealed class Mlp : Module
{
    public readonly List<Block> Blocks = [];

    public Mlp(int blocks, int width)
    {
        for (var i = 0; i < blocks; i++) Blocks.Add(new Block(width, width));
    }
}

/// <summary>An optimizer-shaped module: it holds the model, a step and two moments per parameter.</summary>
public sealed class Adamish : Module
{
    public readonly Mlp Model;
    public readonly OptState Step = new(Tensor.Scalar(0));
    public readonly List<OptState> Mu = [], Nu = [];
    public readonly double LearningRate = 1e-3;

    public Adamish(Mlp model)
    {
        Model = model;
        foreach (var p in Nnx.State(model, Filter.Of<Param>()).Values)
        {
            Mu.Add(new OptState(Tensor.ZerosLike(p)));
            Nu.Add(new OptState(Tensor.ZerosLike(p)));
        }
    }
}
