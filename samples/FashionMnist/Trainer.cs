using System.Diagnostics;
using NnxSharp;
using NnxSharp.Data;

namespace FashionMnist;

/// <summary>One epoch's figures: train metrics over the epoch's steps, test metrics after it.</summary>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy, double TrainSeconds, double StepsPerSecond);

/// <summary>A whole run of one model.</summary>
public sealed record RunResult(string Name, IReadOnlyList<EpochResult> Epochs, int BestEpoch, double CompileSeconds, double PrepareSeconds, double WaitSeconds);

/// <summary>Training options from the command line.</summary>
public sealed record TrainOptions(int Epochs, int BatchSize, double LearningRate, int Seed, int Prefetch);

/// <summary>
/// The training loop of Flax's MNIST tutorial: a jitted train step (loss, gradients, Adam, metrics) over
/// shuffled batches, a jitted eval step over the test set after each epoch, and the best epoch's state kept.
/// </summary>
public static class Trainer
{
    public static RunResult Train<TModel>(string name, TModel model, ArrayDataset train, ArrayDataset test, TrainOptions o)
        where TModel : Module, IClassifier
    {
        var optimizer = new Optimizer(model, Optax.Adam(o.LearningRate));
        var metrics = new MultiMetric(("loss", new Average()), ("accuracy", new Accuracy()));

        var trainStep = Nnx.Jit((TModel m, Optimizer opt, MultiMetric mm, Tensor x, Tensor y) =>
        {
            (Tensor, Tensor) LossFn(TModel mod)
            {
                var logits = mod.Call(x);
                return (Losses.SoftmaxCrossEntropyWithIntegerLabels(logits, y).Mean(), logits);
            }
            var ((loss, logits), grads) = Nnx.ValueAndGrad<TModel, Tensor>(LossFn)(m);
            opt.Update(grads);                                            // in place
            mm.Update(("loss", loss), ("logits", logits), ("labels", y));
        });
        var evalStep = Nnx.Jit((TModel m, MultiMetric mm, Tensor x, Tensor y) =>
        {
            var logits = m.Call(x);
            mm.Update(("loss", Losses.SoftmaxCrossEntropyWithIntegerLabels(logits, y).Mean()), ("logits", logits), ("labels", y));
        });

        var epochs = new List<EpochResult>();
        State? best = null;
        var bestEpoch = 0;
        double compile = 0, prepare = 0, wait = 0;
        var progress = new Progress(name, o.Epochs);
        for (var epoch = 1; epoch <= o.Epochs; epoch++)
        {
            // A new order every epoch, reproducible from the seed (jax.random.permutation's order).
            var batches = train.Batches(o.BatchSize, Prng.FoldIn(Prng.Key(o.Seed), epoch), dropLast: true, prefetch: o.Prefetch);
            metrics.Reset();
            var clock = Stopwatch.StartNew();
            var firstStep = 0.0;
            foreach (var batch in batches)
            {
                var (x, y) = batch;
                trainStep(model, optimizer, metrics, x, y);
                batch.Dispose();
                if (epoch == 1 && batch.Index == 0) firstStep = clock.Elapsed.TotalSeconds;
                progress.Step(epoch, batch.Index + 1, batches.Count, () => metrics.Metrics["loss"].Compute().Item<float>());
            }
            var seconds = clock.Elapsed.TotalSeconds - firstStep;   // the first epoch's trace and compile are left out
            compile += firstStep;
            prepare += batches.PrepareTime.TotalSeconds;
            wait += batches.WaitTime.TotalSeconds;
            var (trainLoss, trainAcc) = Read(metrics);

            metrics.Reset();
            foreach (var batch in test.Batches(1000, prefetch: o.Prefetch))
            {
                var (x, y) = batch;
                evalStep(model, metrics, x, y);
                batch.Dispose();
            }
            var (testLoss, testAcc) = Read(metrics);
            var steps = epoch == 1 ? batches.Count - 1 : batches.Count;
            var result = new EpochResult(epoch, trainLoss, trainAcc, testLoss, testAcc, seconds, steps / seconds);
            epochs.Add(result);
            progress.EndEpoch(result);
            if (best is null || testAcc > epochs[bestEpoch - 1].TestAccuracy)
            {
                best = Nnx.State(model);          // a snapshot: later steps write new buffers, not these
                bestEpoch = epoch;
            }
        }
        Nnx.Update(model, best!);                 // the model ends as it was after its best epoch
        return new RunResult(name, epochs, bestEpoch, compile, prepare, wait);
    }

    private static (double Loss, double Accuracy) Read(MultiMetric metrics)
    {
        var values = metrics.Compute();
        return (values["loss"].Item<float>(), values["accuracy"].Item<float>());
    }
}
