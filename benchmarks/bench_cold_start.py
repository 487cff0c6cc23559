"""Cold start: in a fresh Python process, the time from building the MLP expression
(784-256-256-10, naive softmax cross-entropy, gradients, SGD updates) to the first result
of the compiled training step. Importing NumPy and symgraph is timed apart.

Runs several fresh processes and prints the median (target < 0.3 s).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cold_start.py [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import symgraph as sg
t1 = time.perf_counter()
sys.path.insert(0, {bench_dir!r})
from mlp_common import batch, compiled_step, initial_params
values = initial_params("float32")
x, labels = batch("float32")
t2 = time.perf_counter()
step = compiled_step(values, "float32")
t3 = time.perf_counter()
loss = float(step(x, labels))
t4 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "build_compile": t3 - t2, "first_call": t4 - t3,
                  "cold": t4 - t2, "loss": loss}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    results = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", _CHILD.format(bench_dir=bench_dir)],
                             capture_output=True, text=True, env=env, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "loss"}
    print(f"cold start (median of {args.runs} fresh processes): build+compile "
          f"{med['build_compile']:.3f} s, first call {med['first_call']:.3f} s, "
          f"build to first result {med['cold']:.3f} s (imports {med['import']:.3f} s apart)")


if __name__ == "__main__":
    main()
