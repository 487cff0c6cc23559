"""Issue 2's benchmark: a compiled MLP training step against a hand-written NumPy step.

784-256-256-10 tanh MLP, batch 128, softmax cross-entropy, SGD through ``updates``; both in
one process, interleaved. Prints the median ratio (symgraph / NumPy) for the raw graph
(``optimize=False``: the core alone) and for the full compiler.

    OPENBLAS_NUM_THREADS=1 python benchmarks/mlp_step.py [--dtype float32] [--rounds 30]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_train_step import measure  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    for label, optimize in (("core alone (optimize=False)", False), ("compiled", True)):
        r = measure(args.dtype, args.rounds, args.reps, optimize=optimize)
        before, after, ops = r["nodes"]
        print(f"mlp_step {args.dtype}, {label}: symgraph {r['symgraph_ms']:.3f} ms, numpy "
              f"{r['numpy_ms']:.3f} ms, median ratio {r['ratio']:.3f} "
              f"({args.rounds} rounds x {args.reps}); nodes {before} -> {after}")


if __name__ == "__main__":
    main()
