"""Options always apply or raise (issue 13): a finished view redraws with the options it is
given (sg.to_dot, sg.draw, sg.render, Drawing.render), a drawing of DOT text alone says it
cannot, views refuse styles they cannot draw, and size= / dpi= set the page."""
from __future__ import annotations

import shutil
import struct

import numpy as np
import pytest

import symgraph as sg
from symgraph.render import Drawing

import render_dotparse as dp

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` missing")


def _loss():
    x = sg.var("x", (None, 2))
    with sg.scope("layer"):
        W = sg.param(np.ones((2, 3)), name="W")
        h = sg.tanh(x @ W)
    return sg.sum(h * h), W


@pytest.mark.parametrize("make", [
    lambda loss, W: sg.gradient_view(loss, W),
    lambda loss, W: sg.optimization_view(sg.function([sg.Graph(loss).inputs[0]], loss)),
    lambda loss, W: sg.diff(loss, [loss, sg.grad(loss, W)]),
    lambda loss, W: sg.draw(loss),
])
def test_a_finished_drawing_redraws_with_the_budget_given(make, tmp_path):
    loss, W = _loss()
    view = make(loss, W)
    assert "above the budget" not in view.dot
    for text in (sg.to_dot(view, budget=3), sg.draw(view, budget=3).dot):
        # (the optimisation view shares the budget between its halves: 2 + 1)
        assert "above the budget of" in text and len(dp.nodes(text)) <= 3
    path = sg.render(view, str(tmp_path / "v.dot"), budget=3)
    assert len(dp.nodes(open(path, encoding="utf-8").read())) <= 3
    path = view.render(str(tmp_path / "w.dot"), budget=3)
    assert len(dp.nodes(open(path, encoding="utf-8").read())) <= 3
    assert sg.to_dot(view) == view.dot                            # no option: as it was


def test_style_and_other_options_apply_to_a_view():
    loss, W = _loss()
    view = sg.gradient_view(loss, W)
    assert "u(1)" in sg.to_dot(view, style="expr")
    assert 'rankdir="LR"' in sg.to_dot(view, rankdir="LR")
    assert "legend" not in sg.to_dot(view, legend=False)
    assert sg.to_dot(view, locations=False).count(".py:") == 0
    with pytest.raises(ValueError, match="not 'layers'"):
        sg.to_dot(view, style="layers")
    with pytest.raises(TypeError, match="unknown drawing option"):
        sg.to_dot(view, colour="red")


def test_a_drawing_of_dot_text_alone_says_options_cannot_apply():
    bare = Drawing("digraph { a -> b }\n")
    assert sg.to_dot(bare) == bare.dot
    with pytest.raises(TypeError, match="cannot apply budget to this drawing"):
        sg.to_dot(bare, budget=3)


def test_size_and_dpi_go_into_the_page(tmp_path):
    loss, _ = _loss()
    text = open(sg.render(loss, str(tmp_path / "g.dot"), size=(4, 3), dpi=150),
                encoding="utf-8").read()
    assert 'size="4,3", dpi="150"' in text
    assert 'size="5,5"' in open(sg.render(loss, str(tmp_path / "h.dot"), size=5),
                                encoding="utf-8").read()
    for bad in [dict(size="big"), dict(size=(1, 2, 3)), dict(size=(-1, 2)), dict(dpi=True),
                dict(dpi=0), dict(dpi="200")]:
        with pytest.raises(ValueError, match="size|dpi"):
            sg.render(loss, str(tmp_path / "g.dot"), **bad)


@needs_dot
def test_dpi_scales_a_png(tmp_path):
    loss, _ = _loss()
    def width(**page):
        data = open(sg.render(loss, str(tmp_path / "g.png"), **page), "rb").read()
        return struct.unpack(">II", data[16:24])[0]
    small, large = width(dpi=50), width(dpi=200)
    assert 3.5 < large / small < 4.5
    assert width(size=(2, 2), dpi=100) <= 200


def test_drawings_copy_and_pickle():
    import copy
    import pickle
    loss, W = _loss()
    view = sg.gradient_view(loss, W)
    assert copy.deepcopy(view) is view                   # frozen: the same drawing
    again = pickle.loads(pickle.dumps(view))
    assert again == view and again.dot == view.dot       # DOT text, caption, counts kept
    with pytest.raises(TypeError, match="holds DOT text only"):
        again.redraw(budget=3)                           # how to remake it is not pickled
