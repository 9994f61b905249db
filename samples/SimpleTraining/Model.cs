using NnxSharp;

namespace SimpleTraining;

/// <summary>The seed's model: Linear → BatchNorm → Dropout → relu → Linear.</summary>
public sealed class Model : Module
{
    public readonly Linear Linear;
    public readonly BatchNorm Bn;
    public readonly Dropout Dropout;
    public readonly Linear LinearOut;

    public Model(int din, int dmid, int dout, Rngs rngs)
    {
        Linear = new Linear(din, dmid, rngs);
        Bn = new BatchNorm(dmid, rngs);
        Dropout = new Dropout(0.2, rngs);
        LinearOut = new Linear(dmid, dout, rngs);
    }

    public Tensor Call(Tensor x) => LinearOut.Call(Nn.Relu(Dropout.Call(Bn.Call(Linear.Call(x)))));
}
