"""The HTML explorer's page, without a browser (issue 13): one self-contained file with no
network access, the three views and their facts, scopes that open level by level even for
a 100,000-node graph, options that apply or raise, Jupyter and the command line.
(tests/test_render_browser.py drives the page in headless Chromium.)"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import symgraph as sg
from symgraph.__main__ import main
from symgraph.render import page as ex
from symgraph.render.html import explorer_html


def _model():
    x = sg.var("x", (None, 2))
    with sg.scope("hidden"):
        W = sg.param(np.ones((2, 3)), name="W")
        h = sg.tanh(x @ W)
    with sg.scope("out"):
        w = sg.param(np.ones(3), name="w")
        y = h @ w
    loss = sg.mean(sg.square(y)) + 0.0 * sg.sum(W)    # the 0.0 * ... folds away
    return loss, W


def _data(html: str) -> dict:
    body = re.search(r'<script type="application/json" id="sg-data">(.*?)</script>', html,
                     re.S).group(1)
    return json.loads(body)


def test_page_is_self_contained_and_forbids_the_network(tmp_path):
    loss, _ = _model()
    path = sg.render(loss, str(tmp_path / "g.html"))
    html = open(path, encoding="utf-8").read()
    assert "default-src 'none'" in html                       # CSP: no fetch, no images
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}             # only the SVG namespace name
    assert "<script src" not in html and "<link" not in html
    assert html.count("<script") == 2                          # the data and explorer.js


def test_views_hold_types_locations_fates_and_gradient_nodes():
    loss, W = _model()
    data = _data(explorer_html(loss))
    titles = [v["title"] for v in data["views"]]
    assert titles == ["forward", "gradient", "optimized"]
    forward = data["views"][0]
    w_rec = next(n for n in forward["nodes"] if n.get("n") == "W")
    assert w_rec["t"] == "float64 (2, 3)" and w_rec["s"] == "hidden"
    assert w_rec["w"].endswith(f"test_render_explorer.py:{_model.__code__.co_firstlineno + 3}")
    assert w_rec["f"] == "kept" and "fu" in w_rec
    # W's gradient is listed first among the gradient nodes, and it is in the gradient view.
    grad_view = data["views"][1]
    uids = {n["u"]: n for n in grad_view["nodes"]}
    assert w_rec["r"] and uids[w_rec["r"][0]]["gr"] == 1
    fates = {n.get("f") for n in forward["nodes"]}
    assert any(f and f.startswith(("folded", "rewritten", "dead", "merged")) for f in fates)
    # gradient nodes are grouped by the scope of the forward values they read
    assert any(g["path"].startswith("∇hidden") for g in grad_view["groups"])


def test_a_hundred_thousand_node_graph_opens_level_by_level():
    h = sg.var("x", (3,))
    for _ in range(100_000):
        h = sg.sin(h)
    data = ex.page_data(h, locations=False)
    view = data["views"][0]
    assert len(view["nodes"]) == 100_001 and [v["title"] for v in data["views"]] == ["forward"]
    groups = view["groups"]
    children: dict[int, int] = {}
    for g in groups[1:]:
        children[g["p"]] = children.get(g["p"], 0) + 1
    for n in view["nodes"]:
        children[n["g"]] = children.get(n["g"], 0) + 1
    assert max(children.values()) <= ex.MAX_CHILDREN          # no level shows more
    assert children[0] <= ex.MAX_CHILDREN and sum(1 for n in view["nodes"] if n["g"] == 0) == 0


def test_options_apply_or_raise(tmp_path):
    loss, _ = _model()
    with pytest.raises(TypeError, match="budget apply to Graphviz drawings only"):
        sg.render(loss, str(tmp_path / "g.html"), budget=10)
    with pytest.raises(ValueError, match="no drawing styles"):
        sg.render(loss, str(tmp_path / "g.html"), style="layers")
    with pytest.raises(ValueError, match="size and dpi"):
        sg.render(loss, str(tmp_path / "g.html"), dpi=200)
    with pytest.raises(ValueError, match="forward, gradient and optimized"):
        sg.explore(loss, views=["backward"])
    with pytest.raises(TypeError, match="not finished drawings"):
        sg.explore(sg.gradient_view(loss))
    only = _data(explorer_html(loss, views=["forward"], title="mine", names={loss: "J"}))
    assert [v["title"] for v in only["views"]] == ["forward"] and only["title"] == "mine"
    assert any(n["l"] == "J: add" for n in only["views"][0]["nodes"])
    no_loc = _data(explorer_html(loss, locations=False))
    assert not any("w" in n for v in no_loc["views"] for n in v["nodes"])


def test_a_compiled_step_shows_its_gradient_and_optimised_graphs():
    loss, W = _model()
    x = next(n for n in sg.Graph(loss).inputs)
    step = sg.function([x], loss, updates={W: W - 0.1 * sg.grad(loss, W)})
    data = _data(explorer_html(step))
    assert [v["title"] for v in data["views"]] == ["forward", "gradient", "optimized"]
    assert len(data["views"][2]["nodes"]) == len(step.graph)


def test_jupyter_frame_is_sandboxed_and_escaped(tmp_path):
    x = sg.var('a"b<c>', (2,))
    shown = sg.explore(sg.tanh(x))._repr_html_()
    assert shown.startswith("<iframe") and 'sandbox="allow-scripts"' in shown
    assert "<script" not in shown                              # all inside srcdoc, escaped
    assert sg.explore(sg.tanh(x)).save(str(tmp_path / "e.html")).endswith("e.html")


def test_command_line_writes_the_explorer(tmp_path, capsys):
    script = tmp_path / "model.py"
    script.write_text("import symgraph as sg\nx = sg.var('x', (2,))\ny = sg.tanh(x)\n",
                      encoding="utf-8")
    out = tmp_path / "g.html"
    assert main(["render", f"{script}:y", "-o", str(out)]) == 0
    assert "symgraphExplorer" in out.read_text(encoding="utf-8")
    assert main(["render", f"{script}:y", "-o", str(out), "--budget", "5"]) == 2
    assert "Graphviz drawings only" in capsys.readouterr().err
