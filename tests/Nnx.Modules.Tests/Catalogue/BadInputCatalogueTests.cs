using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace UserCode.Tests;

/// <summary>
/// The bad-input catalogue (issue 12): every case must raise its exception type with a message that names the op
/// or layer, the shapes and the path or argument. A crash of another type, a vague message, a hang or a silent
/// result fails the case; all failures are reported together.
/// </summary>
[TestClass]
public sealed class BadInputCatalogueTests
{
    private static readonly BadInput[] All =
    [
        .. BadInputCatalogue.Tensors(), .. BadInputCatalogue.Autodiff(), .. BadInputCatalogue.Layers(),
        .. BadInputCatalogueMore.Modules(), .. BadInputCatalogueMore.Jits(), .. BadInputCatalogueMore.Optimizers(),
    ];

    [TestMethod]
    public void TheCatalogueCoversEveryAreaWithAtLeastSixtyCases()
    {
        All.Length.Should().BeGreaterThanOrEqualTo(60);
        All.Select(c => c.Area).Distinct().Should().Contain(["tensor", "autodiff", "layer", "loss", "module", "split", "merge", "Jit.Pure", "Nnx.Jit", "optimizer"]);
        All.Select(c => c.What).Should().OnlyHaveUniqueItems();
    }

    [TestMethod]
    public void EveryBadInputGetsAClearError()
    {
        var failures = new List<string>();
        foreach (var c in All)
        {
            Exception? caught = null;
            try
            {
                var run = Task.Run(c.Act);
                if (!run.Wait(TimeSpan.FromSeconds(60))) failures.Add($"[{c.Area}] {c.What}: did not finish (a hang)");
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                caught = e.InnerException;
            }
            if (caught is null)
            {
                failures.Add($"[{c.Area}] {c.What}: no exception (a silent result)");
                continue;
            }
            if (!c.Exception.IsInstanceOfType(caught))
            {
                failures.Add($"[{c.Area}] {c.What}: expected {c.Exception.Name}, got {caught.GetType().Name}: {caught.Message}");
                continue;
            }
            var missing = c.Mentions.Where(m => !caught.Message.Contains(m, StringComparison.Ordinal)).ToList();
            if (missing.Count > 0)
                failures.Add($"[{c.Area}] {c.What}: the message does not mention {string.Join(", ", missing.Select(m => $"\"{m}\""))}: {caught.Message}");
        }
        failures.Should().BeEmpty("every case of the catalogue needs a clear error:\n" + string.Join("\n", failures));
    }
}
