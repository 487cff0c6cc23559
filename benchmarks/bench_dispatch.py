"""Dispatch overhead: a compiled graph of 10,000 small-tensor ops against the same NumPy
calls written out by hand (as one straight-line Python function).

Prints the median of per-round ratios (rotated order) with the p10-p90 spread (target <= 1.2).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dispatch.py [--ops 10000] [--rounds 30]
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import symgraph as sg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rounds import run_rounds  # noqa: E402

# (symgraph builder, NumPy function name) for the ops the chain cycles through
_CYCLE = [(lambda a, b: a + b, "add"), (lambda a, b: sg.tanh(a), "tanh"),
          (lambda a, b: a * b, "multiply"), (lambda a, b: a - b, "subtract"),
          (lambda a, b: sg.exp(-a), None)]


def build(n_ops: int, size: int):
    """The compiled graph and the hand-written function computing the same chain."""
    x, y = sg.var("x", (size,)), sg.var("y", (size,))
    lines = ["def hand(x, y):", "    a = x"]
    a = x
    count = 0
    k = 0
    while count < n_ops:
        make, name = _CYCLE[k % len(_CYCLE)]
        k += 1
        if name is None:                  # two ops: negative, then exp
            a = make(a, y)
            lines.append("    a = np.exp(np.negative(a))")
            count += 2
        else:
            a = make(a, y)
            args = "a" if name == "tanh" else "a, y"
            lines.append(f"    a = np.{name}({args})")
            count += 1
    lines.append("    return a")
    namespace = {"np": np}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own text
    return sg.function([x, y], a), namespace["hand"], count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    f, hand, count = build(args.ops, args.size)
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(-1, 1, args.size), rng.uniform(-1, 1, args.size)
    np.testing.assert_allclose(f(xv, yv), hand(xv, yv), rtol=1e-10)
    res = run_rounds({"symgraph": lambda: f(xv, yv), "numpy": lambda: hand(xv, yv)},
                     args.rounds)
    print(f"dispatch {count} ops of shape ({args.size},): symgraph "
          f"{res.median('symgraph') * 1e3:.2f} ms, hand-written NumPy "
          f"{res.median('numpy') * 1e3:.2f} ms, median ratio "
          f"{res.ratio('symgraph', 'numpy')} ({args.rounds} rounds); compiled graph "
          f"{len(f.graph)} nodes, compile {f.compile_time:.2f} s")


if __name__ == "__main__":
    main()
