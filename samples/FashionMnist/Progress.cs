using System.Diagnostics;
using System.Globalization;

namespace FashionMnist;

/// <summary>
/// A live progress line (epoch, step, steps/s, ETA, running loss), redrawn in place a few times a second on
/// a terminal; when the output is redirected, one line per quarter epoch instead.
/// </summary>
public sealed class Progress(string name, int epochs)
{
    private static readonly bool Live = !Console.IsOutputRedirected;
    private readonly Stopwatch _epochClock = new();
    private long _lastDraw;

    public void Step(int epoch, int step, int steps, Func<float> runningLoss)
    {
        if (step == 1)
        {
            _epochClock.Restart();
            return;
        }
        var now = Stopwatch.GetTimestamp();
        var due = Live ? Stopwatch.GetElapsedTime(_lastDraw, now).TotalMilliseconds >= 250 || step == steps : step * 4 / steps != (step - 1) * 4 / steps;
        if (!due) return;
        _lastDraw = now;
        var elapsed = _epochClock.Elapsed.TotalSeconds;
        var rate = (step - 1) / Math.Max(elapsed, 1e-9);    // steps since the clock started, after step 1
        var eta = TimeSpan.FromSeconds((steps - step) / rate);
        const int width = 24;
        var filled = step * width / steps;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{name,-4} epoch {epoch}/{epochs} [{new string('#', filled)}{new string('-', width - filled)}] {step,4}/{steps}  {rate,6:F0} steps/s  ETA {eta:m\\:ss}  loss {runningLoss():F4}");
        if (Live) Console.Write("\r" + line.PadRight(Console.BufferWidth > 0 ? Math.Min(Console.BufferWidth - 1, 110) : 110));
        else Console.WriteLine(line);
    }

    public void EndEpoch(EpochResult r)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{name,-4} epoch {r.Epoch}/{epochs}  train loss {r.TrainLoss:F4} acc {r.TrainAccuracy:P2}   test loss {r.TestLoss:F4} acc {r.TestAccuracy:P2}   {r.TrainSeconds:F1} s ({r.StepsPerSecond:F0} steps/s)");
        if (Live) Console.Write("\r" + new string(' ', Math.Min(Math.Max(Console.BufferWidth - 1, 0), 110)) + "\r");
        Console.WriteLine(line);
    }
}
