"""Node budgets in every style and view: a 10,000-node graph never gives Graphviz more
boxes than the budget, the caption says what was left out, and every drawn edge joins
drawn boxes. (Times are measured in benchmarks/render_dot.py, never asserted here.)"""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.passes.cse import cse
from symgraph.render.budget import merge_links, plan_collapse
from symgraph.render.figure import Link

import render_dotparse as dp

LAYERS = 3300          # tanh(h @ W) per layer: 3 nodes each, about 10,000 nodes in all


def _deep(layers: int, width: int = 4, scoped: bool = True) -> sg.Node:
    h = sg.var("x", shape=(None, width))
    for i in range(layers):
        if scoped:
            with sg.scope(f"block{i // 50}"):
                h = _layer(h, width, i)
        else:
            h = _layer(h, width, i)
    return h


def _layer(h: sg.Node, width: int, i: int) -> sg.Node:
    return sg.tanh(h @ sg.param(np.full((width, width), 0.1), name=f"W{i}"))


@pytest.fixture(scope="module")
def big():
    return {True: _deep(LAYERS), False: _deep(LAYERS, scoped=False)}


def _check_bounded(dot: str, budget: int) -> dict:
    boxes = dp.nodes(dot)
    assert 1 < len(boxes) <= budget
    assert all(s in boxes and d in boxes and s != d for s, d, _ in dp.edges(dot))
    assert f"above the budget of {budget}" in dot
    return boxes


@pytest.mark.parametrize("scoped", [True, False])
@pytest.mark.parametrize("style", ["ops", "expr", "layers", "units"])
def test_every_style_keeps_a_ten_thousand_node_graph_within_the_budget(big, style, scoped):
    out = big[scoped]
    assert len(sg.Graph(out)) >= 9900
    budget = 120
    boxes = _check_bounded(sg.to_dot(out, style=style, budget=budget), budget)
    folders = [a["label"] for a in boxes.values() if a.get("shape") == "folder"]
    if scoped:   # whole scopes fold first
        assert any(lbl.startswith("block") for lbl in folders)
    else:        # no scope to fold: both ends drawn, one box for the middle
        assert len(folders) == 1 and "not drawn" in folders[0]
        labels = dp.labels(sg.to_dot(out, style=style, budget=budget))
        assert any(lbl.startswith("x") for lbl in labels)


def test_layers_style_folds_scopes_and_keeps_weights_on_the_edges():
    x = sg.var("x", shape=(None, 2))
    h = x
    for block in range(3):
        with sg.scope(f"block{block}"):
            for i in range(4):
                h = sg.tanh(h @ sg.param(np.ones((2, 2)), name=f"W{block}{i}"))
    dot = sg.to_dot(h, style="layers", budget=6)
    boxes = dp.nodes(dot)
    labels = {k: a["label"] for k, a in boxes.items()}
    assert sorted(labels.values()) == ["block0\\n4 layers", "block1\\n4 layers",
                                       "block2\\n4 layers", "x"]
    edges = {(labels[s], labels[d]): a.get("label") for s, d, a in dp.edges(dot)}
    # The weight on an edge into a folded scope is the one its first layer reads.
    assert edges == {("x", "block0\\n4 layers"): "W00",
                     ("block0\\n4 layers", "block1\\n4 layers"): "W10",
                     ("block1\\n4 layers", "block2\\n4 layers"): "W20"}
    assert "13 layers above the budget of 6" in dot
    assert "collapsed scope" in dp.labels(dot) or "legend" in dot
    full = sg.to_dot(h, style="layers", budget=100)
    assert len(dp.nodes(full)) == 13 and "above the budget" not in full


def test_units_style_counts_unit_boxes_against_the_budget():
    out = _deep(100, width=3, scoped=False)        # 101 layers of 3 units
    dot = sg.to_dot(out, style="units", budget=40)
    boxes = _check_bounded(dot, 40)
    assert "101 layers (303 boxes) above the budget of 40" in dot
    drawn_units = [a["label"] for a in boxes.values() if a.get("shape") == "circle"]
    assert len(drawn_units) % 3 == 0 and {"x₁", "x₂", "x₃"} <= set(drawn_units)
    # Each drawn layer is still one rank, and ranks only name drawn boxes.
    for line in dot.splitlines():
        if line.strip().startswith("{ rank=same; n"):
            assert all(k in boxes for k in line.split(";")[1].split() if k != "}")
    wide = sg.tanh(sg.var("v", shape=(None, 50)))     # 2 layers of 8 units and an ellipsis
    assert "above the budget" not in sg.to_dot(wide, style="units", budget=18)
    assert "above the budget of 17" in sg.to_dot(wide, style="units", budget=17)


def test_diff_of_big_graphs_collapses_like_ops(big):
    out = big[True]
    grown = sg.exp(out)
    d = sg.diff(out, [grown], budget=100)
    boxes = _check_bounded(d.dot, 100)
    n = len(sg.Graph(out))
    assert d.count("shared") == n and d.count("added") == 1 and d.count("removed") == 0
    assert d.caption.startswith(f"diff: {n} shared, 0 removed, 1 added\n")
    added = [a for a in boxes.values() if "[added]" in a["label"]]
    assert len(added) == 1
    # Without scopes: the middle goes, and a removed node keeps its place after its input.
    flat = big[False]
    d = sg.diff([flat, sg.exp(flat)], flat, budget=50)
    boxes = _check_bounded(d.dot, 50)
    assert d.count("removed") == 1
    assert any("[removed]" in a["label"] for a in boxes.values())


def test_diff_collapsed_box_says_what_it_holds():
    x = sg.var("x")
    with sg.scope("enc"):
        a = sg.exp(sg.sin(x))
    with sg.scope("enc"):
        b = sg.cos(sg.sin(x))
    d = sg.diff(a, b, collapse=["enc"])
    folder = [v for v in dp.nodes(d.dot).values() if v.get("shape") == "folder"]
    assert [f["label"] for f in folder] == ["enc\\n3 nodes\\n1 shared, 1 removed, 1 added"]


def test_views_keep_the_whole_drawing_within_the_budget(big):
    out = big[False]
    loss = sg.sum(out[:3])
    g = sg.gradient_view(loss, budget=150)
    _check_bounded(g.dot, 150)
    assert g.caption.startswith(f"{g.count('forward')} forward nodes + ")
    assert "above the budget of 150" in g.caption
    dup = sg.tanh(out) + sg.tanh(out)
    d = sg.optimization_view(([dup], cse([dup])), budget=150)
    boxes = dp.nodes(d.dot)
    assert len(boxes) <= 150
    assert sum(k.startswith("b") for k in boxes) > 1 and sum(k.startswith("a") for k in boxes) > 1
    assert "CSE merged" in d.caption and "before: " in d.caption and "after: " in d.caption


def test_plan_weights_and_the_box_for_the_middle():
    nodes = [sg.var(f"v{i}") for i in range(10)]
    plan = plan_collapse(nodes, 7, (), weights=[3] * 10, noun="layers")
    kept = [n for n in nodes if id(n) not in plan.group_of]
    assert len(kept) * 3 + 1 <= 7 and len(kept) == 2
    assert "10 layers (30 boxes) above the budget of 7: the middle 8 layers" in plan.note
    assert plan_collapse(nodes, 10, ()).note == ""


def test_merge_links_drops_loops_and_joins_labels():
    links = [Link("a", "b", "W"), Link("a", "b", "W, c"), Link("b", "b", "x"),
             Link("b", "c")] + [Link("c", "d", f"V{i}") for i in range(6)]
    assert merge_links(links) == [Link("a", "b", "W, c"), Link("b", "c"),
                                  Link("c", "d", "V0, V1, V2, V3, … (+2)")]


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match="budget"):
        sg.to_dot(sg.var("x"), budget=0)
