"""Peak memory of one MLP training step (784-256-256-10, batch 128): compiled symgraph step
against the hand-written NumPy step, both measured with tracemalloc (NumPy reports its
array allocations to it). Parameters, the batch and the compiled function exist before
measuring, so only what a step allocates counts. Target: ratio <= 1.1.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_memory.py [--dtype float64]
"""
from __future__ import annotations

import argparse
import os
import sys
import tracemalloc

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlp_common import batch, compiled_step, initial_params, numpy_step  # noqa: E402


def peak(fn, *args) -> int:
    """Bytes allocated at the peak of one call, above what was live before it."""
    fn(*args)                                  # warm up: caches, lazy imports
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn(*args)
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top - base


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", action="append", default=None)
    args = ap.parse_args()
    for dtype in args.dtype or ["float32", "float64"]:
        values = initial_params(dtype)
        x, labels = batch(dtype)
        step = compiled_step(values, dtype)
        plain = compiled_step(values, dtype, optimize=False)
        hand = [v.copy() for v in values]
        ours = peak(step, x, labels)
        raw = peak(plain, x, labels)
        theirs = peak(numpy_step, hand, x, labels)
        print(f"memory {dtype}: symgraph peak {ours / 2**20:.2f} MiB, hand-written NumPy "
              f"{theirs / 2**20:.2f} MiB, ratio {ours / theirs:.3f} (optimize=False: "
              f"{raw / 2**20:.2f} MiB, ratio {raw / theirs:.3f})")


if __name__ == "__main__":
    main()
