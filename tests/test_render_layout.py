"""Layout cost of real models (issue 13): every default drawing of the zoo (a 31-layer MLP,
the digits CNN, a residual network, a 10,000-node random graph; forward, gradient and
optimisation views) is laid out by Graphviz in under 5 s, and the textbook MLP's gradient
view fits 2,000 px wide. Figures for the docs come from benchmarks/render_layout.py."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import time

import pytest

import render_figures
import render_zoo

pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz `dot` is not installed (CI installs it)")

LIMIT_S = 5.0


def _layout_seconds(dot_text: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(["dot", "-Tsvg"], input=dot_text.encode("utf-8"),
                          capture_output=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert done.stdout.rstrip().endswith(b"</svg>"), done.stderr[:300]
    return elapsed


@pytest.mark.parametrize("name", sorted(render_zoo.MODELS))
def test_every_default_drawing_of_the_zoo_lays_out_in_seconds(name):
    drawings = render_zoo.drawings(name)
    assert set(drawings) == {"forward", "gradient", "optimization"}
    times = {view: _layout_seconds(text) for view, text in drawings.items()}
    slow = {v: round(t, 2) for v, t in times.items() if t > LIMIT_S}
    assert not slow, f"{name}: Graphviz took {slow} s"


def _png_size(dot_text: str) -> tuple[int, int]:
    png = subprocess.run(["dot", "-Tpng"], capture_output=True, timeout=60,
                         input=dot_text.encode()).stdout
    return struct.unpack(">II", png[16:24])            # the IHDR chunk, at 96 dpi


def test_textbook_mlp_gradient_and_optimisation_views_fit_2000_px():
    import symgraph as sg
    from symgraph import optim
    width, height = _png_size(render_figures.mlp_cost_gradient().dot)
    assert width <= 2000, (width, height)
    J, params, names = render_figures._mlp_cost()
    step = optim.step_function(list(sg.Graph(J).inputs), J, params, optim.SGD(0.1))
    width, height = _png_size(sg.optimization_view(step, names=names, locations=False).dot)
    assert width <= 2000, (width, height)   # was 4,985 px with the halves side by side


def test_deep_mlp_is_not_drawn_as_a_staircase():
    # Regression: sibling layer clusters shared a rank (a layer's weights sit beside the
    # previous layer's output), so dot drew the 31 layers side by side: 5,870 pt wide.
    svg = subprocess.run(["dot", "-Tsvg"], capture_output=True, timeout=60,
                         input=render_zoo.drawings("deep_mlp")["forward"].encode()).stdout
    width = int(re.search(rb'<svg width="(\d+)pt"', svg).group(1))
    assert width < 1500
