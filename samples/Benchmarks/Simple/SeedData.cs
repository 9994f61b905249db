namespace NnxSharp.Benchmarks;

/// <summary>
/// The benchmark's data: X = 100 points evenly spaced on [0, 1], Y = 0.8·X² + 0.1 + N(0, 0.1); each step
/// draws a batch of rows at random, with replacement. Every batch is drawn before timing starts.
/// </summary>
public sealed class SeedData
{
    private SeedData(float[] x, float[] y, float[][] batchX, float[][] batchY)
    {
        X = x;
        Y = y;
        BatchX = batchX;
        BatchY = batchY;
    }

    /// <summary>All 100 inputs.</summary>
    public float[] X { get; }

    /// <summary>All 100 targets.</summary>
    public float[] Y { get; }

    /// <summary>The inputs of each step's batch.</summary>
    public float[][] BatchX { get; }

    /// <summary>The targets of each step's batch.</summary>
    public float[][] BatchY { get; }

    /// <summary>The data set and <paramref name="steps"/> batches of <paramref name="batch"/> rows, from one seed.</summary>
    public static SeedData Create(int steps, int batch, int seed = 0)
    {
        var rng = new Random(seed);
        var x = new float[100];
        var y = new float[100];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = i / 99f;
            var noise = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            y[i] = (float)(0.8 * x[i] * x[i] + 0.1 + 0.1 * noise);
        }
        var bx = new float[steps][];
        var by = new float[steps][];
        for (var s = 0; s < steps; s++)
        {
            (bx[s], by[s]) = (new float[batch], new float[batch]);
            for (var j = 0; j < batch; j++)
            {
                var row = rng.Next(x.Length);
                (bx[s][j], by[s][j]) = (x[row], y[row]);
            }
        }
        return new SeedData(x, y, bx, by);
    }

    /// <summary>The batches as tensors of shape [batch, 1].</summary>
    public (Tensor X, Tensor Y)[] Tensors() =>
        [.. BatchX.Select((bx, s) => (Tensor.FromArray(bx, bx.Length, 1), Tensor.FromArray(BatchY[s], bx.Length, 1)))];

    /// <summary>The whole data set as tensors of shape [100, 1].</summary>
    public (Tensor X, Tensor Y) All() => (Tensor.FromArray(X, X.Length, 1), Tensor.FromArray(Y, Y.Length, 1));
}
