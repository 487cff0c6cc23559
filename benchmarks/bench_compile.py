"""Compile time against graph size: CSE + rewrite passes + schedule (+ memory plan and code
generation, shown apart) for graphs of 1k, 10k and 100k nodes.

The graph is a training-style expression: a long chain of mixed elementwise ops with shared
subexpressions and foldable constants, so every pass has work. Prints per-size times and
the time per node (linear scaling shows as a flat column). The total is CPU time of this
process, so other processes on the machine disturb it less; the parts are wall-clock times
from ``f.pass_times``.

Each size is compiled ``--repeat`` times (a fresh graph each time) and the medians are
printed, so one slow round on a busy machine does not set the figure.

It then prints the issue's two build-time figures: a chain of N elementwise ops on shape
(8,) with its gradient, built, differentiated and compiled (target: 100k ops under 8 s, and
the time per node at 100k within 1.1x of that at 10k); and the six derivatives of tanh^8
built by repeated ``grad`` (target under 40 ms).

    python benchmarks/bench_compile.py [--sizes 1000 10000 100000] [--repeat 5]
        [--chain 10000 100000] [--skip-table]
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


def chain(n_ops: int) -> dict:
    """Build a chain of ``n_ops`` elementwise ops, differentiate its sum, compile both."""
    t0 = time.perf_counter()
    x, y = sg.var("x", (8,)), sg.var("y", (8,))
    a = x
    for k in range(n_ops):
        m = k % 4
        a = a + y if m == 0 else sg.tanh(a) if m == 1 else a * y if m == 2 else a - y
    loss = sg.sum(a)
    t1 = time.perf_counter()
    g = sg.grad(loss, x)
    t2 = time.perf_counter()
    f = sg.function([x, y], [loss, g])
    t3 = time.perf_counter()
    nodes = len(sg.Graph([loss, g]))
    return {"nodes": nodes, "build": t1 - t0, "grad": t2 - t1, "compile": t3 - t2,
            "total": t3 - t0, "parts": dict(f.pass_times)}


def tanh8(repeat: int = 7) -> tuple[float, int]:
    """Median seconds to build the six derivatives of tanh^8 by repeated grad."""
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        x = sg.var("x", ())
        d = x
        for _ in range(8):
            d = sg.tanh(d)
        for _ in range(6):
            d = sg.grad(d, x)
        times.append(time.perf_counter() - start)
        size = len(sg.Graph(d))
    return statistics.median(times), size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--chain", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--skip-table", action="store_true")
    args = ap.parse_args()
    if not args.skip_table:
        table(args)
    per_node = {}
    print("chain of N elementwise ops + gradient: build, grad, compile (wall seconds)")
    for n in args.chain:
        rounds = [chain(n) for _ in range(3 if n <= 20_000 else 1)]
        r = min(rounds, key=lambda x: x["total"])
        per_node[n] = r["total"] / r["nodes"]
        parts = ", ".join(f"{k.strip()} {v:.2f}" for k, v in r["parts"].items()
                          if not k.startswith(" "))
        print(f"  N={n:>7} nodes {r['nodes']:>7}: build {r['build']:.2f} grad {r['grad']:.2f} "
              f"compile {r['compile']:.2f} total {r['total']:.2f} s "
              f"({per_node[n] * 1e6:.1f} us/node; {parts})")
    if len(per_node) > 1:
        lo, hi = min(per_node), max(per_node)
        print(f"  time per node at {hi} / at {lo}: {per_node[hi] / per_node[lo]:.2f} "
              f"(target <= 1.1)")
    t, size = tanh8()
    print(f"six derivatives of tanh^8 by repeated grad: {t * 1e3:.1f} ms (median of 7), "
          f"{size} nodes (target < 40 ms)")


def table(args: argparse.Namespace) -> None:
    print(f"{'nodes':>8} {'after':>8} {'passes+schedule':>16} {'memory':>8} {'codegen':>8} "
          f"{'total':>8} {'us/node':>8}")
    for n in args.sizes:
        rounds = [measure(n) for _ in range(args.repeat if n <= 20_000 else 1)]
        r = {k: statistics.median(x[k] for x in rounds) for k in rounds[0]}
        print(f"{r['nodes']:>8} {r['after']:>8} {r['passes']:>15.3f}s {r['memory']:>7.3f}s "
              f"{r['codegen']:>7.3f}s {r['total']:>7.3f}s {r['total'] / r['nodes'] * 1e6:>8.1f}")


if __name__ == "__main__":
    main()
