"""Network styles on real models (issue 13): unit j of layer l cannot be read as another
layer, an nn.MLP keeps its logits layer, the loss is drawn as a loss, and a graph the
styles cannot draw is refused."""
from __future__ import annotations

import pytest

import symgraph as sg
from symgraph import nn

import render_dotparse as dp


def _mlp_loss(sizes):
    model = nn.MLP(sizes, name="net")
    x, y = sg.var("x", (None, sizes[0])), sg.var("y", (None,), "int64")
    return nn.softmax_cross_entropy(model(x), y), model


def test_units_of_layer_1_never_read_as_layer_11():
    loss, _ = _mlp_loss([2, 12, 12, 3])
    labels = dp.labels(sg.to_dot(loss, style="units", max_units=20))
    assert "layer1[1]" in labels and "layer1[12]" in labels and "layer2[1]" in labels
    assert not any(lbl.startswith("layer11") for lbl in labels)
    assert "x₁" in labels and "x₂" in labels


def test_unnamed_hidden_layers_are_numbered_as_in_the_textbook():
    x = sg.var("x", (None, 2))
    h1 = sg.tanh(x @ sg.param([[1.0, 2.0], [3.0, 4.0]], name="W"))
    h2 = sg.tanh(h1 @ sg.param([[1.0, 2.0], [3.0, 4.0]], name="V"))
    out = h2 @ sg.param([1.0, 1.0], name="w")
    labels = dp.labels(sg.to_dot(out, style="units"))
    assert {"h₁⁽¹⁾", "h₂⁽¹⁾", "h₁⁽²⁾", "h₂⁽²⁾"} <= set(labels)


def test_mlp_layers_keep_the_logits_and_draw_the_loss():
    loss, _ = _mlp_loss([4, 8, 8, 3])
    dot = sg.to_dot(loss, style="layers")
    nodes = dp.nodes(dot)
    labels = {k: a["label"] for k, a in nodes.items()}
    assert sorted(labels.values()) == ["layer1", "layer2", "layer3", "loss", "x", "y"]
    loss_box = next(a for a in nodes.values() if a["label"] == "loss")
    assert loss_box["shape"] == "box" and "cross_entropy" in loss_box["tooltip"]
    edges = {(labels[s], labels[d]) for s, d, _ in dp.edges(dot)}
    assert ("layer3", "loss") in edges and ("y", "loss") in edges
    assert ("layer2", "layer3") in edges       # the logits layer reads the last hidden one


@pytest.mark.parametrize("style", ["layers", "units"])
def test_network_styles_refuse_a_gradient_graph(style):
    loss, model = _mlp_loss([2, 3, 2])
    grads = sg.grad(loss, model.params())
    with pytest.raises(ValueError, match=r"gradient nodes.*sg.gradient_view"):
        sg.to_dot([loss, *grads], style=style)
    with pytest.raises(ValueError, match="not 'units'"):
        sg.gradient_view(loss, model.params(), style="units")


def test_network_styles_warn_on_a_graph_without_weights():
    x = sg.var("x", (None, 2))
    y = sg.sigmoid(sg.tanh(sg.relu(sg.tanh(x))))
    with pytest.warns(RuntimeWarning, match="4 layers but no weights"):
        sg.to_dot(y, style="layers")
    with pytest.warns(RuntimeWarning, match="style='ops'"):
        sg.to_dot(y, style="units")
