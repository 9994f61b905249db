"""Gives PyTorch the best OpenBLAS kernel this CPU runs, before torch is imported.

Debian 12's OpenBLAS (0.3.21) does not know the newest Intel cores (Sapphire/Emerald Rapids): its runtime dispatch
falls back to the generic "Prescott" (SSE3) kernels, and a 2048x2048 float32 MatMul then takes 6x as long as with
its AVX-512 kernels. A user who noticed would set OPENBLAS_CORETYPE, so the side-by-side benchmarks do it for them:
only when OpenBLAS picked Prescott, only for a kernel the CPU's flags support, and never over the caller's own
OPENBLAS_CORETYPE. The chosen core is returned so that the benchmark can print it next to its timings.
"""
import os
import subprocess
import sys

PROBE = ("import ctypes; b = ctypes.CDLL('libblas.so.3'); f = b.openblas_get_corename; "
         "f.restype = ctypes.c_char_p; print(f().decode())")


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def choose():
    """Sets OPENBLAS_CORETYPE when OpenBLAS would run its generic kernels on a CPU with AVX2 or AVX-512; returns the core."""
    if os.environ.get("OPENBLAS_CORETYPE"):
        return os.environ["OPENBLAS_CORETYPE"]
    try:
        core = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if core.lower() != "prescott":
        return core or "unknown"
    flags = _cpu_flags()
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        chosen = "SkylakeX"
    elif {"avx2", "fma"} <= flags:
        chosen = "Haswell"
    else:
        return core
    os.environ["OPENBLAS_CORETYPE"] = chosen
    print(f"blas_kernel: OpenBLAS picked its generic Prescott kernels on this CPU; using OPENBLAS_CORETYPE={chosen}",
          file=sys.stderr)
    return chosen
