#!/usr/bin/python3
"""The Fashion-MNIST convnet and training loop of samples/FashionMnist in PyTorch, for the side-by-side timing of
`dotnet run -c Release --project samples/Benchmarks -- convnet` (which runs this script, alternating with Nnx).

Same model (NCHW here: conv 3x3 'same' 1->32, ReLU, max pool 2x2; conv 3x3 32->64, ReLU, max pool 2x2; linear
3136->256, ReLU, linear 256->10), Adam(lr 1e-3), mean cross-entropy, batches of the given size drawn in a shuffled
order from the images held in memory, in PyTorch's idiomatic eager loop (zero_grad(set_to_none=True)).
Threads: torch.set_num_threads(--threads) plus OMP_NUM_THREADS/OPENBLAS_NUM_THREADS set by the caller.
Prints one line: RESULT us_per_step=<mean over the timed steps> steps=<n> warmup=<w> ... blas_core=<OpenBLAS kernel>
(blas_kernel.py gives OpenBLAS its AVX2/AVX-512 kernels where Debian's build would fall back to generic ones).
"""
import argparse
import gzip
import os
import struct
import sys
import time

# blas_kernel.py sits one folder up, beside torch_seed.py, in the sources and in the build output.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import blas_kernel  # noqa: E402

BLAS_CORE = blas_kernel.choose()

import numpy as np  # noqa: E402 (OpenBLAS reads OPENBLAS_CORETYPE when torch loads it)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    zero, kind, rank = struct.unpack(">HBB", data[:4])
    assert zero == 0 and kind == 0x08, path
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.hidden = nn.Linear(7 * 7 * 64, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.out(F.relu(self.hidden(torch.flatten(x, 1))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n = (a.steps + a.warmup) * a.batch
    images = os.path.join(a.data, "train-images-idx3-ubyte.gz")
    if a.data and os.path.exists(images):
        x_all = torch.from_numpy(read_idx(images)[:n].astype(np.float32) / 255).unsqueeze(1)
        y_all = torch.from_numpy(read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))[:n].astype(np.int64))
    else:
        x_all = torch.rand(n, 1, 28, 28)
        y_all = torch.randint(0, 10, (n,))
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(x_all))
    start = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            start = time.perf_counter()
        idx = order[step * a.batch:(step + 1) * a.batch]
        x, y = x_all[idx], y_all[idx]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()  # as the Nnx side reads nothing per step, this only syncs; PyTorch on CPU is synchronous anyway
    us = (time.perf_counter() - start) / a.steps * 1e6
    print(f"RESULT us_per_step={us:.1f} steps={a.steps} warmup={a.warmup} threads={a.threads} torch={torch.__version__} blas_core={BLAS_CORE}")


if __name__ == "__main__":
    main()
