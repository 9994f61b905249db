"""Reference trajectories for Nnx's optimizers (tests/Nnx.Modules.Tests/Optim/OptimizerReferenceTests.cs).

Run with Debian's PyTorch:  /usr/bin/python3 make_optim_reference.py  (writes optim_reference.json here).
A linear model y = x·W + b with an MSE loss, float64, five steps per optimizer; the parameters after each step.
PyTorch's own optimizers where their formulas equal optax's (SGD, momentum, Nesterov, Adam, AdamW); optax's
formulas written out with torch tensors where PyTorch differs (RMSProp: optax puts eps inside the square root;
clip_by_global_norm: PyTorch adds 1e-6 to the norm) and for schedules.
"""
import json
import math
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261124)
X = rng.normal(size=(4, 3))
Y = rng.normal(size=(4, 2))
W0 = rng.normal(size=(3, 2))
B0 = rng.normal(size=(2,))
STEPS = 5


def loss_fn(w, b):
    x, y = torch.tensor(X), torch.tensor(Y)
    return ((x @ w + b - y) ** 2).mean()


def params():
    return torch.tensor(W0, requires_grad=True), torch.tensor(B0, requires_grad=True)


def record(w, b):
    return {"w": w.detach().flatten().tolist(), "b": b.detach().flatten().tolist()}


def torch_run(make_optimizer):
    w, b = params()
    opt = make_optimizer(w, b)
    out = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(w, b).backward()
        opt.step()
        out.append(record(w, b))
    return out


def manual_run(update):
    """update(step, grads, params, state) -> new params; optax's formula by hand."""
    w, b = params()
    state = {}
    out = []
    for step in range(STEPS):
        gw, gb = torch.autograd.grad(loss_fn(w, b), (w, b))
        with torch.no_grad():
            nw, nb = update(step, [gw, gb], [w, b], state)
        w, b = nw.clone().requires_grad_(True), nb.clone().requires_grad_(True)
        out.append(record(w, b))
    return out


def rmsprop(lr, decay, eps):
    def update(step, grads, ps, state):
        nu = state.setdefault("nu", [torch.zeros_like(p) for p in ps])
        new = []
        for i, (g, p) in enumerate(zip(grads, ps)):
            nu[i] = decay * nu[i] + (1 - decay) * g * g
            new.append(p - lr * g / torch.sqrt(nu[i] + eps))
        return new
    return update


def clip_then_sgd(max_norm, lr):
    def update(step, grads, ps, state):
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        scale = 1.0 if norm < max_norm else max_norm / norm
        return [p - lr * (g * scale) for g, p in zip(grads, ps)]
    return update


def warmup_cosine(init, peak, warmup, decay_steps, end):
    alpha = end / peak

    def lr(count):
        if count < warmup:
            return (init - peak) * (1 - count / warmup) + peak
        c = min(count - warmup, decay_steps - warmup) / (decay_steps - warmup)
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * c)) + alpha)
    return lr


def scheduled_sgd(schedule):
    def update(step, grads, ps, state):
        return [p - schedule(step) * g for g, p in zip(grads, ps)]
    return update


schedule = warmup_cosine(0.0, 0.2, 2, 5, 0.01)
cases = {
    "sgd": torch_run(lambda w, b: torch.optim.SGD([w, b], lr=0.1)),
    "sgd_momentum": torch_run(lambda w, b: torch.optim.SGD([w, b], lr=0.1, momentum=0.9)),
    "sgd_nesterov": torch_run(lambda w, b: torch.optim.SGD([w, b], lr=0.1, momentum=0.9, nesterov=True)),
    "adam": torch_run(lambda w, b: torch.optim.Adam([w, b], lr=0.05)),
    "adamw": torch_run(lambda w, b: torch.optim.AdamW([w, b], lr=0.05, weight_decay=0.1)),
    "adamw_masked": torch_run(lambda w, b: torch.optim.AdamW(
        [{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}], lr=0.05)),
    "rmsprop": manual_run(rmsprop(0.01, 0.9, 1e-8)),
    "clip_sgd": manual_run(clip_then_sgd(0.5, 0.1)),
    "warmup_cosine_sgd": manual_run(scheduled_sgd(schedule)),
}
data = {
    "x": X.flatten().tolist(), "y": Y.flatten().tolist(), "w0": W0.flatten().tolist(), "b0": B0.flatten().tolist(),
    "schedule": [schedule(i) for i in range(8)],
    "cases": cases,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_reference.json"), "w") as f:
    json.dump(data, f, indent=1)
