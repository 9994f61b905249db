using ScottPlot;

namespace FashionMnist;

/// <summary>The training curves: train and test loss (loss.png) and accuracy (accuracy.png) per epoch, one pair of lines per model.</summary>
public static class Plots
{
    public static (string Loss, string Accuracy) Write(string dir, IReadOnlyList<RunResult> runs)
    {
        Directory.CreateDirectory(dir);
        var loss = Path.Combine(dir, "loss.png");
        var accuracy = Path.Combine(dir, "accuracy.png");
        Curve(loss, runs, "loss (cross-entropy)", r => r.TrainLoss, r => r.TestLoss, Alignment.UpperRight);
        Curve(accuracy, runs, "accuracy (%)", r => 100 * r.TrainAccuracy, r => 100 * r.TestAccuracy, Alignment.LowerRight);
        return (loss, accuracy);
    }

    private static void Curve(string path, IReadOnlyList<RunResult> runs, string label, Func<EpochResult, double> train, Func<EpochResult, double> test, Alignment legend)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            double[] xs = [.. run.Epochs.Select(e => (double)e.Epoch)];
            var color = palette.GetColor(i);
            var a = plot.Add.Scatter(xs, [.. run.Epochs.Select(train)]);
            a.LegendText = $"{run.Name} train";
            a.Color = color;
            a.LinePattern = LinePattern.Dashed;
            a.LineWidth = 2;
            var b = plot.Add.Scatter(xs, [.. run.Epochs.Select(test)]);
            b.LegendText = $"{run.Name} test";
            b.Color = color;
            b.LineWidth = 2;
        }
        plot.XLabel("epoch");
        plot.YLabel(label);
        plot.Title($"Nnx on Fashion-MNIST: {label}");
        var epochs = runs.Max(r => r.Epochs.Count);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(1, epochs).Select(e => (double)e)], [.. Enumerable.Range(1, epochs).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        plot.ShowLegend(legend);
        plot.SavePng(path, 900, 560);
    }
}
