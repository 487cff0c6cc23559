"""Regenerate the SVGs that docs/rendering.md shows.

    python docs/img/make_figures.py

The textbook figures come from tests/render_figures.py (the same builders the golden DOT
files check); the rest are built here.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import symgraph as sg  # noqa: E402
import render_figures  # noqa: E402


def compiled_mlp_view():
    """The optimisation view of the MLP cost and its gradient, through every pass."""
    J, params, names = render_figures._mlp_cost()
    inputs = list(sg.Graph(J).inputs)
    f = sg.function(inputs, [J] + sg.grad(J, params))
    return sg.optimization_view(f, names=names, locations=False)


def diff_view():
    """What differentiation added to z = f(f(f(w))): the diff of z and [z, dz/dw]."""
    w = sg.var("w")
    z = sg.sin(sg.sin(sg.sin(w)))
    return sg.diff(z, [z, sg.grad(z, w)], locations=False)


def collapsed_view():
    """A 3-block network of 40 layers each, drawn under a budget of 60 boxes."""
    h = sg.var("x", shape=(None, 8))
    for i in range(3):
        with sg.scope(f"block{i}"):
            for j in range(40):
                with sg.scope(f"layer{j}"):
                    W = sg.param(np.zeros((8, 8)), name="W")
                    h = sg.tanh(h @ W)
    return sg.draw(h.sum(), budget=60, locations=False)


def collapsed_layers():
    """The same kind of network in the layers style: 2 blocks of 6 layers, then 20 layers
    outside any scope, under a budget of 12 boxes (scopes fold, then the middle goes)."""
    h = sg.var("x", shape=(None, 8))
    for i in range(2):
        with sg.scope(f"block{i}"):
            for j in range(6):
                h = sg.tanh(h @ sg.param(np.zeros((8, 8)), name=f"W{i}{j}"))
    for j in range(20):
        h = sg.tanh(h @ sg.param(np.zeros((8, 8)), name=f"V{j}"))
    return sg.draw(h, style="layers", budget=12, locations=False)


def wide_units():
    """The units style with a cap: a 2-12-1 network drawn with at most 6 units a layer."""
    x = sg.var("x", shape=(None, 2))
    h = sg.tanh(x @ sg.param(np.zeros((2, 12)), name="W"))
    y = sg.sigmoid(h @ sg.param(np.zeros(12), name="w"))
    return sg.draw(y, style="units", names={h: "h", y: "y"}, max_units=6, locations=False)


def main() -> None:
    drawings = {name: build() for name, build in render_figures.FIGURES.items()}
    drawings.update({"mlp_compiled": compiled_mlp_view(), "diff": diff_view(),
                     "collapsed": collapsed_view(), "wide_units": wide_units(),
                     "collapsed_layers": collapsed_layers()})
    for name, drawing in drawings.items():
        path = HERE / f"{name}.svg"
        drawing.render(str(path))
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
