"""Training step of the 784-256-256-10 tanh MLP (batch 128, naive softmax cross-entropy,
SGD updates): compiled symgraph step / hand-written NumPy step, float32 and float64.

Both run in one process, in rotated order round by round; the ratio of each round's times
is collected and the median printed with its p10-p90 spread (target <= 1.00).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_train_step.py [--rounds 30] [--reps 5]
        [--fusion off|force]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlp_common import batch, compiled_step, initial_params, numpy_step  # noqa: E402
from rounds import run_rounds  # noqa: E402


def measure(dtype: str, rounds: int, reps: int, **options) -> dict:
    """Median time ratio of the compiled step (built with ``options``) to the NumPy step."""
    start = initial_params(dtype)
    x, labels = batch(dtype)
    step = compiled_step(start, dtype, **options)
    hand = [p.copy() for p in start]
    # Same loss from both on the first step: they compute the same thing.
    a, b = float(step(x, labels)), numpy_step(hand, x, labels)
    assert abs(a - b) <= 1e-4 * abs(b), (a, b)
    res = run_rounds({"symgraph": lambda: step(x, labels),
                      "numpy": lambda: numpy_step(hand, x, labels)}, rounds, reps)
    ops = sum(1 for n in step.graph if n.inputs)
    return {"dtype": dtype, "symgraph_ms": res.median("symgraph") * 1e3,
            "numpy_ms": res.median("numpy") * 1e3, "ratio": res.ratio("symgraph", "numpy"),
            "nodes": (len(step.user_graph), len(step.graph), ops)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dtype", action="append", default=None)
    ap.add_argument("--fusion", default="off", help="off (NumPy tier), force (fused kernels)")
    args = ap.parse_args()
    for dtype in args.dtype or ["float32", "float64"]:
        r = measure(dtype, args.rounds, args.reps, fusion=args.fusion)
        before, after, ops = r["nodes"]
        print(f"train_step {dtype} (fusion {args.fusion}): symgraph {r['symgraph_ms']:.3f} ms, numpy "
              f"{r['numpy_ms']:.3f} ms, median ratio {r['ratio']} "
              f"({args.rounds} rounds x {args.reps}); nodes {before} -> {after} "
              f"({ops} op nodes)")


if __name__ == "__main__":
    main()
