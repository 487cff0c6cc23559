"""Compile time against graph size: CSE + rewrite passes + schedule (+ memory plan and code
generation, shown apart) for graphs of 1k, 10k and 100k nodes.

The graph is a training-style expression: a long chain of mixed elementwise ops with shared
subexpressions and foldable constants, so every pass has work. Prints per-size times and
the time per node (linear scaling shows as a flat column). The total is CPU time of this
process, so other processes on the machine disturb it less; the parts are wall-clock times
from ``f.pass_times``.

Each size is compiled ``--repeat`` times (a fresh graph each time) and the medians are
printed, so one slow round on a busy machine does not set the figure.

    python benchmarks/bench_compile.py [--sizes 1000 10000 100000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import symgraph as sg


def build(n_nodes: int):
    """About ``n_nodes`` nodes: x -> ... with a repeating 5-op motif per link."""
    x, y = sg.var("x", (8,)), sg.var("y", (8,))
    two = sg.const(np.full(8, 2.0))
    a = x
    for k in range(int(n_nodes / 7.5)):     # 7.5 nodes a link on average
        b = sg.tanh(a) * (two * 0.5)            # (two * 0.5) folds; CSE merges its copies
        a = b + y * 1.0 - sg.exp(-a) if k % 2 else b + a
    return x, y, a


def measure(n: int) -> dict:
    x, y, out = build(n)
    nodes = len(sg.Graph(out))
    start = time.process_time()
    f = sg.function([x, y], out)
    total = time.process_time() - start
    times = dict(f.pass_times)
    # sub-entries (indented names) split the fused walk's time; they are not added again
    passes = sum(v for k, v in f.pass_times
                 if k not in ("memory", "codegen") and not k.startswith(" "))
    return {"nodes": nodes, "after": len(f.graph), "total": total, "passes": passes,
            "memory": times.get("memory", 0.0), "codegen": times.get("codegen", 0.0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"{'nodes':>8} {'after':>8} {'passes+schedule':>16} {'memory':>8} {'codegen':>8} "
          f"{'total':>8} {'us/node':>8}")
    for n in args.sizes:
        rounds = [measure(n) for _ in range(args.repeat if n <= 20_000 else 1)]
        r = {k: statistics.median(x[k] for x in rounds) for k in rounds[0]}
        print(f"{r['nodes']:>8} {r['after']:>8} {r['passes']:>15.3f}s {r['memory']:>7.3f}s "
              f"{r['codegen']:>7.3f}s {r['total']:>7.3f}s {r['total'] / r['nodes'] * 1e6:>8.1f}")


if __name__ == "__main__":
    main()
