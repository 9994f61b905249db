namespace NnxSharp;

/// <summary>
/// Gradient transformations with optax's formulas and defaults. Updates are what gets added to the
/// parameters (<c>p ← p + u</c>); learning rates may be numbers or <see cref="Schedule"/>s of the step count.
/// </summary>
public static class Optax
{
    /// <summary>
    /// Stochastic gradient descent, optionally with (Nesterov) momentum: <c>t ← g + m·t</c>,
    /// <c>u = −lr·(nesterov ? g + m·t : t)</c> (optax.sgd).
    /// </summary>
    public static GradientTransformation Sgd(Schedule learningRate, double momentum = 0, bool nesterov = false) =>
        momentum == 0 && !nesterov
            ? ScaleByLearningRate(learningRate)
            : Chain(Trace(momentum, nesterov), ScaleByLearningRate(learningRate));

    /// <summary>
    /// Adam: <c>μ ← β₁μ + (1−β₁)g</c>, <c>ν ← β₂ν + (1−β₂)g²</c>, <c>u = −lr · μ̂ / (√(ν̂ + ε_root) + ε)</c> with
    /// <c>μ̂ = μ/(1−β₁ᵗ)</c>, <c>ν̂ = ν/(1−β₂ᵗ)</c>, t the update's number from 1 (optax.adam).
    /// </summary>
    public static GradientTransformation Adam(Schedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0) =>
        Chain(ScaleByAdam(b1, b2, eps, epsRoot), ScaleByLearningRate(learningRate));

    /// <summary>
    /// AdamW: Adam's direction plus decoupled weight decay, <c>u = −lr · (μ̂/(√ν̂ + ε) + wd·p)</c>, the decay only
    /// on parameters whose path <paramref name="mask"/> accepts (all by default) (optax.adamw).
    /// </summary>
    public static GradientTransformation AdamW(Schedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8,
        double weightDecay = 1e-4, Func<string, bool>? mask = null) =>
        Chain(ScaleByAdam(b1, b2, eps, 0), AddDecayedWeights(weightDecay, mask), ScaleByLearningRate(learningRate));

    /// <summary>
    /// RMSProp as optax: <c>ν ← dν + (1−d)g²</c>, <c>u = −lr · g / √(ν + ε)</c> (ε inside the root; ν starts at
    /// <paramref name="initialScale"/>); with momentum, a trace of those updates (optax.rmsprop).
    /// </summary>
    public static GradientTransformation RmsProp(Schedule learningRate, double decay = 0.9, double eps = 1e-8, double initialScale = 0,
        double momentum = 0, bool nesterov = false) =>
        momentum == 0 && !nesterov
            ? Chain(new ScaleByRms(decay, eps, initialScale), ScaleByLearningRate(learningRate))
            : Chain(new ScaleByRms(decay, eps, initialScale), ScaleByLearningRate(learningRate), Trace(momentum, nesterov));

    /// <summary>Scales all updates by <c>min(1, maxNorm / ‖g‖)</c>, ‖g‖ the global L2 norm over all parameters (optax.clip_by_global_norm).</summary>
    public static GradientTransformation ClipByGlobalNorm(double maxNorm) => new ClipGlobalNorm(maxNorm);

    /// <summary>The transformations applied one after the other (optax.chain).</summary>
    public static GradientTransformation Chain(params GradientTransformation[] transformations) => new ChainOf(transformations);

    /// <summary><c>u ← −lr(t)·u</c> (optax.scale_by_learning_rate).</summary>
    public static GradientTransformation ScaleByLearningRate(Schedule learningRate) => new ScaleByLr(learningRate);

    /// <summary>Adam's direction without the learning rate (optax.scale_by_adam).</summary>
    public static GradientTransformation ScaleByAdam(double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0) =>
        new AdamScale(b1, b2, eps, epsRoot);

    /// <summary><c>u ← u + wd·p</c> on the parameters whose path <paramref name="mask"/> accepts (optax.add_decayed_weights).</summary>
    public static GradientTransformation AddDecayedWeights(double weightDecay, Func<string, bool>? mask = null) =>
        new DecayedWeights(weightDecay, mask);

    /// <summary>Momentum: <c>t ← u + d·t</c>, <c>u ← nesterov ? u + d·t : t</c> (optax.trace).</summary>
    public static GradientTransformation Trace(double decay, bool nesterov = false) => new TraceOf(decay, nesterov);

    private sealed class ChainOf(GradientTransformation[] members) : GradientTransformation
    {
        private readonly GradientTransformation[] _stages = [.. members.SelectMany(m => m.Stages)];

        public override string Name => $"chain({string.Join(", ", _stages.Select(s => s.Name))})";

        internal override bool Traceable => _stages.All(s => s.Traceable);

        internal override IReadOnlyList<GradientTransformation> Stages => _stages;

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count) =>
            throw new InvalidOperationException("A chain is applied stage by stage by the Optimizer.");
    }

    private sealed class ScaleByLr(Schedule lr) : GradientTransformation
    {
        public override string Name => $"scale_by_learning_rate({lr})";

        internal override bool Traceable => lr.IsLibrary;

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count)
        {
            var rate = lr.At(count);
            for (var p = 0; p < updates.Length; p++) updates[p] = -(rate.Cast(updates[p].DType) * updates[p]);
        }
    }

    private sealed class TraceOf(double decay, bool nesterov) : GradientTransformation
    {
        public override string Name => $"trace({decay}{(nesterov ? ", nesterov" : "")})";

        internal override bool Traceable => true;

        public override IReadOnlyList<string> StateNames => ["trace"];

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count)
        {
            for (var p = 0; p < updates.Length; p++)
            {
                var t = updates[p] + decay * state[0][p];
                state[0][p] = t;
                updates[p] = nesterov ? updates[p] + decay * t : t;
            }
        }
    }

    private sealed class AdamScale(double b1, double b2, double eps, double epsRoot) : GradientTransformation
    {
        public override string Name => $"scale_by_adam({b1}, {b2}, {eps})";

        internal override bool Traceable => true;

        public override IReadOnlyList<string> StateNames => ["mu", "nu"];

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count)
        {
            for (var p = 0; p < updates.Length; p++)
            {
                // Bias corrections in the parameter's dtype, as optax computes them in the update's.
                var g = updates[p];
                var t = count.Cast(g.DType) + 1.0;
                var c1 = 1.0 - Tensor.Scalar(b1, g.DType).Pow(t);
                var c2 = 1.0 - Tensor.Scalar(b2, g.DType).Pow(t);
                var mu = b1 * state[0][p] + (1 - b1) * g;
                var nu = b2 * state[1][p] + (1 - b2) * g.Square();
                (state[0][p], state[1][p]) = (mu, nu);
                var muHat = mu / c1;
                var nuHat = nu / c2;
                updates[p] = muHat / ((nuHat + epsRoot).Sqrt() + eps);
            }
        }
    }

    private sealed class ScaleByRms(double decay, double eps, double initialScale) : GradientTransformation
    {
        public override string Name => $"scale_by_rms({decay}, {eps})";

        internal override bool Traceable => true;

        public override IReadOnlyList<string> StateNames => ["nu"];

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count)
        {
            for (var p = 0; p < updates.Length; p++)
            {
                // ν starts at zeros; the first update replaces them by initialScale, as optax initialises ν.
                var previous = initialScale == 0 ? state[0][p] : Tensor.Where(count.Equal(0.0), state[0][p] + initialScale, state[0][p]);
                var nu = decay * previous + (1 - decay) * updates[p].Square();
                state[0][p] = nu;
                updates[p] = updates[p] * (nu + eps).Rsqrt();
            }
        }
    }

    private sealed class ClipGlobalNorm(double maxNorm) : GradientTransformation
    {
        public override string Name => $"clip_by_global_norm({maxNorm})";

        internal override bool Traceable => true;

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count)
        {
            if (updates.Length == 0) return;
            var sum = updates.Select(u => u.Square().Sum()).Aggregate((a, b) => a + b);
            var norm = sum.Sqrt();
            var trigger = norm < maxNorm;
            for (var p = 0; p < updates.Length; p++)
                updates[p] = Tensor.Where(trigger, updates[p], updates[p] / norm.Cast(updates[p].DType) * maxNorm);
        }
    }

    private sealed class DecayedWeights(double weightDecay, Func<string, bool>? mask) : GradientTransformation
    {
        public override string Name => $"add_decayed_weights({weightDecay})";

        internal override bool Traceable => true;

        public override void Update(Tensor[] updates, Tensor[][] state, IReadOnlyList<Tensor> parameters, IReadOnlyList<string> paths, Tensor count)
        {
            for (var p = 0; p < updates.Length; p++)
                if (mask is null || mask(paths[p]))
                    updates[p] = updates[p] + weightDecay * parameters[p];
        }
    }
}
