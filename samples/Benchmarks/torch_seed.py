#!/usr/bin/python3
"""The seed's benchmark in PyTorch (BENCHMARKS.md §4): the twin of `Benchmarks simple --mode auto`.

Same model (MLP depth D: Block(1, W) -> relu -> (D-2) x [Block(W, W) -> relu] -> Block(W, 1), a Block being
Linear -> BatchNorm1d -> relu, weights uniform on [0, 1), biases zero, a call counter as a buffer), same data
(X = 100 points on [0, 1], Y = 0.8 X^2 + 0.1 + N(0, 0.1), batches of B rows drawn with replacement), plain SGD
1e-3 on the MSE, a test step on all 100 points every 1000 steps. PyTorch's idiomatic eager loop; the batch is
gathered on the host inside the timed loop. us_per_step = wall time of steps 50..S-1 / (S-50), a mean.

Run with Debian's python3-torch and libopenblas0-openmp, threads capped on every layer, and glibc told to
keep freed memory (otherwise the multi-MB gradients are page-faulted again every step):
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=4000000000 \
    /usr/bin/python3 samples/Benchmarks/torch_seed.py --width 32 --steps 10000 --threads 1
compare.py sets all of that and alternates this script with the Nnx run.
"""
import argparse
import time

import blas_kernel

BLAS_CORE = blas_kernel.choose()

import numpy as np  # noqa: E402 (OpenBLAS reads OPENBLAS_CORETYPE when torch loads it)
import torch  # noqa: E402
from torch import nn  # noqa: E402

WARMUP = 50
TEST_EVERY = 1000


class Block(nn.Module):
    def __init__(self, din, dout):
        super().__init__()
        self.linear = nn.Linear(din, dout)
        with torch.no_grad():
            self.linear.weight.uniform_(0.0, 1.0)
            self.linear.bias.zero_()
        # Flax's momentum 0.99 is PyTorch's 0.01.
        self.bn = nn.BatchNorm1d(dout, momentum=0.01, eps=1e-5)

    def forward(self, x):
        return torch.relu(self.bn(self.linear(x)))


class Mlp(nn.Module):
    def __init__(self, din, width, dout, depth):
        super().__init__()
        self.blocks = nn.ModuleList([Block(din, width)] + [Block(width, width) for _ in range(depth - 2)] + [Block(width, dout)])
        self.register_buffer("count", torch.zeros((), dtype=torch.int32))

    def forward(self, x):
        self.count += 1
        for block in self.blocks[:-1]:
            x = torch.relu(block(x))
        return self.blocks[-1](x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--depth", type=int, default=5)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.linspace(0, 1, 100).reshape(100, 1)
    y = 0.8 * x * x + 0.1 + 0.1 * torch.randn(100, 1)
    rows = torch.from_numpy(rng.integers(0, 100, size=(a.steps, a.batch)))
    model = Mlp(1, a.width, 1, a.depth)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    test_loss = float("nan")
    start = None
    for k in range(a.steps):
        if k == WARMUP:
            start = time.perf_counter()
        idx = rows[k]
        bx, by = x[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(bx), by)
        loss.backward()
        optimizer.step()
        if k % TEST_EVERY == 0:
            with torch.no_grad():
                test_loss = loss_fn(model(x), y).item()
    final = loss.item()
    us = (time.perf_counter() - start) * 1e6 / (a.steps - WARMUP)
    print(f"  torch  width {a.width:5}: mean {us:9.1f} us/step, final loss {final:.5g}, test loss {test_loss:.5g}, threads {a.threads}")
    print(f"RESULT mode=torch width={a.width} depth={a.depth} batch={a.batch} steps={a.steps} threads={a.threads} us_per_step={us:.2f} final_loss={final:.6g} blas_core={BLAS_CORE}")


if __name__ == "__main__":
    main()
