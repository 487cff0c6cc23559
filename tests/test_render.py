"""DOT drawing: styles, kinds, labels, scopes, budgets and views (no Graphviz needed)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import symgraph as sg
from symgraph.passes.provenance import DEAD, FOLDED, KEPT, MERGED, REWRITTEN, Fate, PassResult
from symgraph.render.views import fate_caption

import render_dotparse as dp


def _small():
    x = sg.var("x", shape=(None, 2))
    W = sg.param(np.ones((2, 3)), name="W")
    y = sg.tanh(x @ W + 1.0).sum()
    return x, W, y


# --- basics -----------------------------------------------------------------------------------
def test_dot_is_deterministic_and_ids_follow_topological_position():
    first = sg.to_dot(_small()[2], locations=False)
    second = sg.to_dot(_small()[2], locations=False)   # new nodes, new global ids
    assert first == second
    y = _small()[2]
    keys = list(dp.nodes(sg.to_dot(y)))
    assert keys == [f"n{i}" for i in range(len(sg.Graph(y)))]


def test_every_edge_of_the_graph_is_drawn_once():
    x, W, y = _small()
    g = sg.Graph(y)
    drawn = [(s, d) for s, d, _ in dp.edges(sg.to_dot(y))]
    expected = [(f"n{g.index(i)}", f"n{g.index(n)}") for n in g.nodes for i in n.inputs]
    assert sorted(drawn) == sorted(expected)


def test_accepts_node_list_graph_function_and_drawing():
    x, W, y = _small()
    f = sg.function([x], y)
    assert sg.to_dot(y) == sg.to_dot([y]) == sg.to_dot(sg.Graph([y]))
    assert sg.to_dot(f) == sg.to_dot(f.graph)
    d = sg.draw(y, style="expr")
    assert sg.to_dot(d) == d.dot == str(d)


def test_bad_arguments_get_clear_errors():
    y = _small()[2]
    with pytest.raises(ValueError, match="ops, expr, layers, units"):
        sg.to_dot(y, style="fancy")
    with pytest.raises(TypeError, match="colour.*the options are"):
        sg.to_dot(y, colour="red")
    with pytest.raises(ValueError, match="rankdir"):
        sg.to_dot(y, rankdir="up")
    with pytest.raises(TypeError, match="cannot draw int"):
        sg.to_dot(3)


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_rankdir(rankdir):
    assert f'rankdir="{rankdir}"' in sg.to_dot(_small()[2], rankdir=rankdir)


# --- kinds, labels, tooltips --------------------------------------------------------------------
def test_kinds_differ_by_shape_and_fill():
    x, W, y = _small()
    g = sg.grad(y, W)
    dot = sg.to_dot([y, g])
    graph = sg.Graph([y, g])
    drawn = dp.nodes(dot)
    look = {}
    for i, n in enumerate(graph.nodes):
        a = drawn[f"n{i}"]
        kind = {"var": "input", "param": "parameter", "const": "constant"}.get(
            n.op, "gradient" if n.is_grad else "operation")
        if n is y or n is g:
            assert a["peripheries"] == "2"          # outputs: double border
            continue
        look.setdefault(kind, set()).add((a["shape"], a["style"], a["fillcolor"]))
    assert set(look) == {"input", "parameter", "constant", "operation", "gradient"}
    assert all(len(v) == 1 for v in look.values())   # one look per kind
    assert len({next(iter(v)) for v in look.values()}) == len(look)   # all different
    assert next(iter(look["gradient"]))[0] != next(iter(look["operation"]))[0]
    legend = [a["label"] for k, a in dp.nodes(dot, legend=True).items() if k.startswith("legend")]
    assert legend == ["input", "parameter", "constant", "operation", "gradient node", "output"]
    assert "legend" not in sg.to_dot([y, g], legend=False)


def test_legend_fills_are_distinct_in_greyscale():
    from symgraph.render.palette import KIND_LOOK

    def grey(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b
    fills = [grey(v["fillcolor"]) for k, v in KIND_LOOK.items()
             if k in ("input", "parameter", "operation", "gradient", "output")]
    fills.sort()
    assert min(b - a for a, b in zip(fills, fills[1:])) > 8


def test_labels_show_types_with_question_marks_and_names():
    x, W, y = _small()
    text = dp.labels(sg.to_dot(y, names={y: "loss"}))
    assert "x\nfloat64 (?, 2)" in text
    assert "W\nfloat64 (2, 3)" in text
    assert any(t.startswith("loss: sum") for t in text)
    assert "1\nfloat64 ()" in text                        # a scalar constant shows its value
    assert not any("float64" in t for t in dp.labels(sg.to_dot(y, types=False)))


def test_tooltips_hold_op_type_and_a_machine_independent_location():
    x = sg.var("x", shape=(None, 2)); line = sys._getframe().f_lineno
    tip = dp.nodes(sg.to_dot(sg.exp(x)))["n0"]["tooltip"]
    assert "var: float64 (?, 2)" in tip
    assert tip.endswith(f"test_render.py:{line}")
    assert "/work/" not in tip and not tip.split("\\n")[-1].startswith("/")
    assert "test_render.py" not in sg.to_dot(sg.exp(x), locations=False)


def test_expr_style_names_intermediates_u1_u2():
    x = sg.var("x", shape=(3,))
    w = sg.param(np.zeros(3), name="w")
    b = sg.param(0.0, name="b")
    y = sg.sigmoid(sg.dot(x, w) + b)
    drawn = dp.nodes(sg.to_dot(y, style="expr", names={y: "ŷ"}))
    by_label = {a["label"]: a.get("xlabel", "") for a in drawn.values()}
    assert by_label == {"x": "", "w": "", "b": "", "u(1)": "dot", "u(2)": "+", "ŷ": "σ"}


# --- scopes, budgets, large graphs ----------------------------------------------------------------
def _scoped(blocks: int, per_block: int):
    h = sg.var("x", shape=(2,))
    for i in range(blocks):
        with sg.scope(f"block{i}"):
            for j in range(per_block):
                with sg.scope(f"step{j}"):
                    h = sg.tanh(h) * 2.0
    return h


def test_scopes_become_nested_clusters_that_can_collapse():
    h = _scoped(2, 2)
    dot = sg.to_dot(h, locations=False)
    assert dot.count("subgraph cluster_") == 2 + 4 + 1          # blocks, steps, legend
    assert 'label="step1", tooltip="scope block0/step1"' in dot
    assert "subgraph cluster_" not in sg.to_dot(h, clusters=False, legend=False)
    folded = sg.to_dot(h, collapse=["block0"])
    boxes = dp.nodes(folded)
    collapsed = [a for a in boxes.values() if a["shape"] == "folder"]
    assert [a["label"] for a in collapsed] == ["block0\\n6 nodes"]   # 2 steps x (tanh, 2, *)
    assert len(boxes) == len(sg.Graph(h)) - 6 + 1
    keys = set(boxes)
    assert all(s in keys and d in keys and s != d for s, d, _ in dp.edges(folded))


def test_budget_collapses_the_deepest_scopes_first_and_says_so():
    h = _scoped(3, 10)     # 3 blocks x 10 steps x 3 nodes + 1
    n = len(sg.Graph(h))
    dot = sg.to_dot(h, budget=40)
    boxes = dp.nodes(dot)
    assert len(boxes) == 1 + 30                 # x and one box per step scope
    assert f"{n} nodes above the budget of 40: scopes at depth 2 and deeper collapsed" in dot
    # Alike scopes fold into one box per run before a shallower cut is taken.
    dot = sg.to_dot(h, budget=10)
    assert [a["label"] for a in dp.nodes(dot).values()][1:4] == [
        "step0\\n3 nodes", "step1 … step8 (×8)\\n24 nodes", "step9\\n3 nodes"]
    assert "3 run(s) of alike scopes drawn as one box each (10 boxes)" in dot
    dot = sg.to_dot(h, budget=5)
    assert [a["label"].split("\\n")[0] for a in dp.nodes(dot).values()] == [
        "x", "block0", "block1", "block2"]


def test_over_budget_without_scopes_keeps_both_ends():
    y = sg.var("y")
    for _ in range(1000):
        y = sg.negative(y)
    dot = sg.to_dot(y, budget=50)
    boxes = dp.nodes(dot)
    assert len(boxes) == 50                   # 49 nodes and the box for the middle
    assert boxes["n0"]["label"].startswith("y") and "n1000" in boxes
    assert "952 nodes not drawn" in dot and "budget of 50" in dot


def test_ten_thousand_node_graph_draws_every_node_when_the_budget_allows():
    h = sg.var("x", shape=(4,))
    for _ in range(5000):
        h = sg.exp(sg.negative(h))
    g = sg.Graph(h)
    dot = sg.to_dot(g, budget=20000)
    assert len(dp.nodes(dot)) == len(g) == 10001


def test_hundred_thousand_node_chain_needs_no_recursion():
    y = sg.var("y")
    for _ in range(100_000):
        y = sg.negative(y)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)   # any recursion over the graph would fail at once
    try:
        dot = sg.to_dot(y)
    finally:
        sys.setrecursionlimit(limit)
    assert "100001 nodes above the budget" in dot


# --- layers and units -------------------------------------------------------------------------
def _xor():
    x = sg.var("x", shape=(None, 2))
    W, c = sg.param(np.ones((2, 2)), name="W"), sg.param(np.zeros(2), name="c")
    w, b = sg.param(np.ones(2), name="w"), sg.param(0.0, name="b")
    h = sg.relu(x @ W + c)
    y = h @ w + b
    return y, {h: "h", y: "y"}


def test_layers_style_puts_weights_on_edges():
    y, names = _xor()
    dot = sg.to_dot(y, style="layers", names=names)
    labels = {k: a["label"] for k, a in dp.nodes(dot).items()}
    edges = [(labels[s], labels[d], a.get("label")) for s, d, a in dp.edges(dot)]
    assert edges == [("x", "h", "W"), ("h", "y", "w")]
    dot = sg.to_dot(y, style="layers", names=names, show_biases=True)
    labels = {k: a["label"] for k, a in dp.nodes(dot).items()}
    assert [a.get("label") for _, _, a in dp.edges(dot)] == ["W, c", "w, b"]


def test_units_style_connects_every_unit_and_caps_wide_layers():
    y, names = _xor()
    dot = sg.to_dot(y, style="units", names=names)
    labels = {k: a["label"] for k, a in dp.nodes(dot).items()}
    assert sorted(labels.values()) == ["h₁", "h₂", "x₁", "x₂", "y"]
    pairs = sorted((labels[s], labels[d]) for s, d, _ in dp.edges(dot))
    assert pairs == [("h₁", "y"), ("h₂", "y"), ("x₁", "h₁"), ("x₁", "h₂"), ("x₂", "h₁"),
                     ("x₂", "h₂")]
    wide = sg.tanh(sg.var("v", shape=(None, 20)) @ sg.param(np.ones((20, 3)), name="V"))
    dot = sg.to_dot(wide, style="units", max_units=5)
    names_drawn = [a["label"] for a in dp.nodes(dot).values()]
    assert names_drawn[:6] == ["v₁", "v₂", "v₃", "v₄", "… 15 more", "v₂₀"]
    unknown = sg.tanh(sg.var("u", shape=(2, None)))
    assert "u (? units)" in dp.labels(sg.to_dot(unknown, style="units"))


# --- views --------------------------------------------------------------------------------------
def test_gradient_view_draws_shared_nodes_once():
    w = sg.var("w")
    x = sg.sin(w); y = sg.sin(x); z = sg.sin(y)
    d = sg.gradient_view(z, w)
    g = sg.Graph([z] + [sg.grad(z, w)])
    boxes = dp.nodes(d.dot)
    assert len(boxes) == len(g)                    # nothing duplicated
    n_grad = sum(n.is_grad for n in g.nodes)
    assert d.count("forward") == len(g) - n_grad and d.count("forward") >= 4
    assert d.count("gradient") == n_grad
    octagons = [a for a in boxes.values() if a["shape"] == "octagon"]
    assert len(octagons) == sum(n.is_grad and bool(n.inputs) for n in g.nodes) >= 5
    # The cos nodes read the forward values w, x, y directly: edges into the gradient part.
    cos_inputs = {s for s, dst, a in dp.edges(d.dot)
                  if "cos" in boxes[dst]["label"] and a.get("style") != "invis"}
    assert cos_inputs == {"n0", "n1", "n2"}


def test_optimization_view_colours_fates_and_links_merged_nodes():
    x = sg.var("x", shape=(None, 2))
    W = sg.param(np.ones((2, 2)), name="W")
    a, b = sg.tanh(x @ W), sg.tanh(x @ W)
    f = sg.function([x], sg.sum(a * b))
    d = sg.optimization_view(f)
    counts = f.provenance.counts()
    assert d.count("merged") == counts.get("merged", 0) >= 2
    assert d.caption.startswith(f"{len(f.user_graph)} -> {len(f.graph)} nodes: ")
    assert f"CSE merged {counts['merged']}" in d.caption
    boxes = dp.nodes(d.dot)
    assert sum(k.startswith("b") for k in boxes) == len(f.user_graph)
    assert sum(k.startswith("a") for k in boxes) == len(f.graph)
    merged_links = [(s, t) for s, t, at in dp.edges(d.dot)
                    if at.get("tooltip", "").startswith("merged into")]
    assert len(merged_links) == counts["merged"]
    for s, t in merged_links:
        assert boxes[s]["label"].split("\\n")[0] == boxes[t]["label"].split("\\n")[0]
        assert "dashed" in boxes[s]["style"]
    assert "cluster_after" not in sg.optimization_view(f, after=False).dot


def test_optimization_view_handles_every_fate():
    x = sg.var("x")
    keep, dup, fold, rew, dead = sg.exp(x), sg.exp(x), sg.sin(x), sg.cos(x), sg.tanh(x)
    out = keep + dup + fold + rew
    c = sg.const(0.5)
    fates = {x.id: Fate(x, x, KEPT), keep.id: Fate(keep, keep, KEPT),
             dup.id: Fate(dup, keep, MERGED, "cse"), fold.id: Fate(fold, c, FOLDED, "fold"),
             rew.id: Fate(rew, rew, REWRITTEN, "simplify"), dead.id: Fate(dead, None, DEAD)}
    d = sg.optimization_view(([out, dead], PassResult((out,), fates, "test")))
    assert d.caption == (f"{len(sg.Graph([out, dead]))} -> {len(sg.Graph(out))} nodes: "
                         "CSE merged 1, folded 1, simplified 1, dead 1")
    fills = {a["label"].split("\\n")[0]: a["fillcolor"] for k, a in dp.nodes(d.dot).items()
             if k.startswith("b") and a["label"].split("\\n")[0] in ("sin", "cos", "tanh")}
    assert len(set(fills.values())) == 3


def test_fate_caption_format():
    assert fate_caption(80, 47, {"kept": 40, "merged": 5, "folded": 3, "rewritten": 12,
                                 "dead": 13}) == "80 -> 47 nodes: CSE merged 5, folded 3, simplified 12, dead 13"
    assert fate_caption(3, 3, {"kept": 3}) == "3 -> 3 nodes: nothing changed"


def test_diff_matches_recompiled_copies_by_structure():
    x = sg.var("x", shape=(None, 2))
    W = sg.param(np.ones((2, 2)), name="W")
    a, b = sg.tanh(x @ W), sg.tanh(x @ W)
    out = sg.sum(a * b)
    f = sg.function([x], out)
    d = sg.diff(out, f)
    n_user, n_opt = len(sg.Graph(out)), len(f.graph)
    assert d.count("removed") == n_user - n_opt == 2
    assert d.count("shared") == n_opt and d.count("added") == 0
    assert d.caption == f"diff: {n_opt} shared, 2 removed, 0 added"


def test_diff_of_a_graph_and_its_gradient_shows_the_appended_nodes():
    w = sg.var("w")
    z = sg.sin(sg.sin(w))
    g = sg.grad(z, w)
    d = sg.diff(z, [z, g])
    n_new = len(sg.Graph([z, g])) - len(sg.Graph(z))
    assert d.count("added") == n_new and d.count("removed") == 0
    added = [a for a in dp.nodes(d.dot).values() if "[added]" in a["label"]]
    assert len(added) == n_new


# --- properties over random graphs ---------------------------------------------------------------
from hypothesis import given, settings, strategies as st   # noqa: E402

_UNARY = [sg.tanh, sg.exp, sg.negative, sg.square]
_BINARY = [sg.add, sg.multiply, sg.subtract, sg.maximum]


def _random_graph(steps: list[tuple[int, int, int, bool]]) -> list:
    pool = [sg.var("a", shape=(None, 2)), sg.param(np.ones(2), name="p"), sg.const(2.0)]
    for op, i, j, binary in steps:
        x, y = pool[i % len(pool)], pool[j % len(pool)]
        with sg.scope(f"s{op % 2}"):
            pool.append(_BINARY[op % 4](x, y) if binary else _UNARY[op % 4](x))
    return pool[-2:]


_steps = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 50), st.integers(0, 50),
                            st.booleans()), min_size=1, max_size=25)


@settings(max_examples=30, deadline=None)
@given(_steps, st.sampled_from(["ops", "expr"]), st.integers(3, 40))
def test_random_graphs_draw_every_edge_deterministically(steps, style, budget):
    outs = _random_graph(steps)
    dot = sg.to_dot(outs, style=style, budget=budget, locations=False)
    assert dot == sg.to_dot(_random_graph(steps), style=style, budget=budget, locations=False)
    boxes = dp.nodes(dot)
    assert all(s in boxes and d in boxes and s != d for s, d, _ in dp.edges(dot))
    if len(sg.Graph(outs)) <= budget:
        g = sg.Graph(outs)
        assert len(boxes) == len(g)
        assert len(dp.edges(dot)) == sum(len(n.inputs) for n in g.nodes)
    assert dot.count("{") == dot.count("}")


# --- real models -------------------------------------------------------------------------------
def test_demo_network_layers_name_scopes_and_tell_same_named_weights_apart():
    from symgraph.demo import build
    _, loss, _, _, _ = build()
    dot = sg.to_dot(loss, style="layers")
    labels = {k: a["label"] for k, a in dp.nodes(dot).items()}
    assert "hidden" in labels.values()            # the tanh alone in scope xor/hidden
    weights = sorted(a.get("label", "") for _, _, a in dp.edges(dot) if a.get("label"))
    assert "hidden/W" in weights and all(w != "W" for w in weights)


def test_gradient_view_names_each_gradient_after_its_parameter():
    from symgraph.demo import build
    _, loss, _, _, _ = build()
    d = sg.gradient_view(loss)
    outs = [a["label"].split(":")[0] for a in dp.nodes(d.dot).values()
            if a.get("peripheries") == "2" and a["shape"] == "octagon"]
    assert sorted(outs) == ["∂y/∂(hidden/W)", "∂y/∂(hidden/b)", "∂y/∂(output/W)",
                            "∂y/∂(output/b)"]
    w = sg.var("w")
    named = sg.gradient_view(sg.sin(w), w, names={})
    assert "∂y/∂w" in named.dot


def test_merged_constants_name_their_survivor_without_a_link():
    x = sg.var("x")
    out = (x * sg.const(2.0)) + (sg.exp(x) * sg.const(2.0))
    f = sg.function([x], out)
    d = sg.optimization_view(f)
    merged = {k: a for k, a in dp.nodes(d.dot).items() if "[merged into 2" in a["label"]}
    assert len(merged) == 1
    assert [s for s, _, at in dp.edges(d.dot)
            if s in merged and at.get("style") == "dashed"] == []


def test_network_styles_follow_weights_through_reshapes_and_convolutions():
    from symgraph import nn
    model = nn.Sequential([nn.Conv2D(1, 2, 3, padding="same", activation="relu", seed=0,
                                     name="conv"), nn.MaxPool2D(2, name="pool"),
                           nn.Flatten(name="flatten"), nn.Dense(32, 10, seed=1, name="dense")],
                          name="cnn")
    x, y = sg.var("x", (None, 1, 8, 8)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(model(x), y)
    dot = sg.to_dot(loss, style="layers")
    labels = {k: a["label"] for k, a in dp.nodes(dot).items()}
    edges = sorted((labels[s], labels[d], a.get("label", "")) for s, d, a in dp.edges(dot))
    # Each layer object's output is a layer (the logits of "dense" too); the kernel K is a
    # weight, not an intercept; the scalar output is drawn as the loss.
    assert edges == [("conv", "pool", ""), ("dense", "loss", ""), ("flatten", "dense", "W"),
                     ("pool", "flatten", ""), ("x", "conv", "K"), ("y", "loss", "")]
    units = dp.labels(sg.to_dot(loss, style="units"))
    assert "conv[128]" in units and "… 120 more" in units     # 2 x 8 x 8 units per image
