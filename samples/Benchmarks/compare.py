#!/usr/bin/python3
"""Nnx against PyTorch on the seed's benchmark, side by side (BENCHMARKS.md §4).

For each width and thread count, runs `Benchmarks simple --mode auto` (Nnx.Jit) and torch_seed.py alternately
(A B A B ...), each in a fresh process with the same thread cap on every layer, and prints each pair's ratio
and the median ratio. Both sides report the mean µs per step after a 50-step warm-up. Build first:
  dotnet build -c Release samples/Benchmarks
  /usr/bin/python3 samples/Benchmarks/compare.py [--widths 32,128,512,2048] [--threads 1,2] [--reps 3] [--csv FILE]
    [--nnx-mode auto|manual|eager]   (eager: Nnx with no jit against PyTorch's eager loop)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NNX = os.path.join(HERE, "bin", "Release", "net10.0", "Benchmarks.dll")
TORCH = os.path.join(HERE, "torch_seed.py")
BLAS_CORES = set()


def steps_for(width):
    """About the same wall time per run at every width (the wide steps take tens of milliseconds)."""
    return max(250, min(5000, int(5000 * 128 * 128 / (width * width))))


def run(cmd, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               MALLOC_MMAP_THRESHOLD_="1000000000", MALLOC_TRIM_THRESHOLD_="4000000000")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("RESULT")][-1]
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    if "blas_core" in fields and fields["blas_core"] not in BLAS_CORES:
        BLAS_CORES.add(fields["blas_core"])
        print(f"PyTorch's OpenBLAS kernel: {fields['blas_core']} (blas_kernel.py)", flush=True)
    return float(fields.get("us_per_step_mean", fields["us_per_step"]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--widths", default="32,128,512,2048")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--scale", type=float, default=1.0, help="multiplies every run's step count")
    p.add_argument("--csv")
    p.add_argument("--nnx-mode", default="auto", choices=["auto", "manual", "eager"],
                   help="Nnx's side: auto (Nnx.Jit, the default), manual (Jit.Pure) or eager (no jit, as PyTorch's loop)")
    a = p.parse_args()
    if not os.path.exists(NNX):
        sys.exit(f"build the benchmarks first: dotnet build -c Release {HERE}")
    rows = []
    print(f"{'width':>6} {'threads':>7} {'torch µs':>10} {'nnx µs':>10} {'torch/nnx':>9}   pairs")
    for width in [int(w) for w in a.widths.split(",")]:
        steps = max(100, int(steps_for(width) * a.scale))
        for threads in [int(t) for t in a.threads.split(",")]:
            pairs = []
            for _ in range(a.reps):
                t = run(["/usr/bin/python3", TORCH, "--width", str(width), "--steps", str(steps), "--threads", str(threads)], threads)
                n = run(["dotnet", NNX, "simple", "--mode", a.nnx_mode, "--width", str(width), "--steps", str(steps), "--threads", str(threads)], threads)
                pairs.append((t, n))
            ratio = statistics.median(t / n for t, n in pairs)
            t_med, n_med = statistics.median(t for t, _ in pairs), statistics.median(n for _, n in pairs)
            rows.append((width, threads, steps, t_med, n_med, ratio))
            print(f"{width:>6} {threads:>7} {t_med:>10.1f} {n_med:>10.1f} {ratio:>8.2f}x   " + ", ".join(f"{t / n:.2f}" for t, n in pairs), flush=True)
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("width,threads,steps,torch_us_per_step,nnx_us_per_step,torch_over_nnx\n")
            for r in rows:
                f.write("%d,%d,%d,%.2f,%.2f,%.3f\n" % r)


if __name__ == "__main__":
    main()
