using System.Globalization;
using ScottPlot;

namespace NnxSharp.Benchmarks;

/// <summary>The sweep's plot, like the seed's graph: time per step against layer width, one line per mode (log–log).</summary>
public static class SweepPlot
{
    /// <summary>Writes the PNG.</summary>
    public static void Write(string path, (int Width, string Mode, double Us)[] points, int depth, int batch, string device)
    {
        var plot = new Plot();
        foreach (var mode in points.Select(p => p.Mode).Distinct())
        {
            var line = points.Where(p => p.Mode == mode).OrderBy(p => p.Width).ToArray();
            var scatter = plot.Add.Scatter(line.Select(p => Math.Log2(p.Width)).ToArray(), line.Select(p => Math.Log10(p.Us)).ToArray());
            scatter.LegendText = mode;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
        }
        var widths = points.Select(p => p.Width).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(widths.Select(w => Math.Log2(w)).ToArray(), widths.Select(w => w.ToString(CultureInfo.InvariantCulture)).ToArray());
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
        plot.XLabel("layer width (features)");
        plot.YLabel("time per step (µs)");
        plot.Title($"Nnx simple training: depth {depth}, batch {batch}, {device}");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }
}
