"""Cost of drawing: ``sg.to_dot`` on big graphs, against building the same ``Graph`` view
(a toposort) measured in the same run, interleaved, medians of several runs.

Targets (issue 5): DOT for a 10,000-node graph in under a second with every node drawn
(``budget`` above the size); a 100,000-node chain goes to DOT (default budget: both ends
drawn, the middle as one box) without recursion and without hanging.

    OPENBLAS_NUM_THREADS=1 python benchmarks/render_dot.py [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

import symgraph as sg


def wide_graph(n_pairs: int) -> sg.Node:
    """About ``2 * n_pairs`` nodes: exp(-h) repeated, in scopes of 100 ops."""
    h = sg.var("x", shape=(None, 4))
    for i in range(n_pairs):
        with sg.scope(f"block{i // 50}"):
            h = sg.exp(sg.negative(h))
    return h


def deep_network(layers: int) -> sg.Node:
    """``tanh(h @ W)`` ``layers`` times (3 nodes each), no scopes: the network styles must
    leave out the middle."""
    h = sg.var("x", shape=(None, 4))
    for i in range(layers):
        h = sg.tanh(h @ sg.param(np.full((4, 4), 0.1), name=f"W{i}"))
    return h


def chain(n: int) -> sg.Node:
    y = sg.var("y")
    for _ in range(n):
        y = sg.negative(y)
    return y


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, out: sg.Node, runs: int, draw: Callable[[], object] = None,
            **options: object) -> None:
    draw = draw or (lambda: sg.to_dot(out, **options))
    graph_times, dot_times = [], []
    for _ in range(runs):   # interleaved: reference, then the drawing, each run
        graph_times.append(_time(lambda: sg.Graph([out])))
        dot_times.append(_time(draw))
    g, d = statistics.median(graph_times), statistics.median(dot_times)
    size = len(sg.Graph([out]))
    print(f"{name:<34} {size:>7} nodes  Graph {g * 1e3:8.1f} ms  to_dot {d * 1e3:8.1f} ms"
          f"  ratio {d / g:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    wide = wide_graph(5000)
    measure("10k nodes, all drawn", wide, args.runs, budget=20000)
    measure("10k nodes, default budget", wide, args.runs)
    measure("10k nodes, expr style, all drawn", wide, args.runs, style="expr", budget=20000)
    # Every style and view under the default budget (400 boxes) on about 10,000 nodes.
    deep = deep_network(3300)
    for style in ("ops", "expr", "layers", "units"):
        measure(f"10k-node network, {style}", deep, args.runs, style=style)
    grown = sg.exp(deep)
    measure("10k-node network, diff", deep, args.runs, draw=lambda: sg.diff(deep, grown))
    measure("10k-node network, gradient view", deep, args.runs,
            draw=lambda: sg.gradient_view(sg.sum(deep)))
    long = chain(100_000)
    measure("100k chain, default budget", long, args.runs)
    measure("100k chain, all drawn", long, max(1, args.runs // 2), budget=200_000)


if __name__ == "__main__":
    main()
