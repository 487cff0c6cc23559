"""Graphviz layout time and size of every default drawing of the zoo of real models
(tests/render_zoo.py: a 31-layer MLP, the digits CNN, a residual network, a 10,000-node
random graph; forward, gradient and optimisation views), against laying out the textbook
MLP cost figure (Figure 6.11, 21 nodes) in the same run: rounds in rotated order, medians
of per-round ratios. Also the width of the textbook MLP's gradient view.

    OPENBLAS_NUM_THREADS=1 python benchmarks/render_layout.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import render_figures  # noqa: E402
import render_zoo  # noqa: E402


def layout(text: str) -> tuple[float, int, int]:
    """(seconds, width pt, height pt) of ``dot -Tsvg`` on ``text``."""
    start = time.perf_counter()
    svg = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True,
                         timeout=600).stdout
    elapsed = time.perf_counter() - start
    w, h = re.search(rb'<svg width="(\d+)pt" height="(\d+)pt', svg).groups()
    return elapsed, int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cases = {"reference (mlp_cost)": render_figures.mlp_cost().dot}
    for name in render_zoo.MODELS:
        for view, text in render_zoo.drawings(name).items():
            cases[f"{name} {view}"] = text
    keys = list(cases)
    seconds: dict[str, list[float]] = {k: [] for k in keys}
    ratios: dict[str, list[float]] = {k: [] for k in keys}
    sizes: dict[str, tuple[int, int]] = {}
    for r in range(args.rounds):
        order = keys[r % len(keys):] + keys[:r % len(keys)]
        this = {}
        for k in order:
            this[k], w, h = layout(cases[k])
            sizes[k] = (w, h)
        for k in keys:
            seconds[k].append(this[k])
            ratios[k].append(this[k] / this[keys[0]])
    print(f"{'drawing':34s} {'boxes':>6s} {'dot s':>7s} {'x ref':>7s} {'width pt':>9s} {'height pt':>9s}")
    for k in keys:
        boxes = len(re.findall(r"^\s+\w+ \[label=", cases[k], re.M))
        print(f"{k:34s} {boxes:6d} {statistics.median(seconds[k]):7.2f} "
              f"{statistics.median(ratios[k]):7.1f} {sizes[k][0]:9d} {sizes[k][1]:9d}")
    png = subprocess.run(["dot", "-Tpng"], input=render_figures.mlp_cost_gradient().dot.encode(),
                         capture_output=True).stdout
    print("textbook MLP gradient view, PNG at 96 dpi:",
          int.from_bytes(png[16:20], "big"), "x", int.from_bytes(png[20:24], "big"), "px")


if __name__ == "__main__":
    main()
