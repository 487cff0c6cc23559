"""A zoo of real models for the drawing budget tests and benchmarks/render_layout.py: a
deep MLP (31 layers), the digits CNN, a residual network and a 10,000-node random graph,
each with its forward graph, gradient view and optimisation view (of an SGD step)."""
from __future__ import annotations

from typing import Callable

import numpy as np

import symgraph as sg
from symgraph import nn, optim


def _classifier(model: nn.Layer, x: sg.Node, classes: int):
    y = sg.var("labels", (None,), "int64")
    logits = model(x)
    loss = nn.softmax_cross_entropy(logits, y)
    return x, y, loss, model.params()


def deep_mlp():
    """A 31-layer MLP, 16 units wide."""
    model = nn.MLP([16] * 31 + [10], seed=0, name="deep")
    return _classifier(model, sg.var("x", (None, 16)), 10)


def digits_cnn():
    """examples/digits_cnn.py: conv 3x3 (8 channels) - ReLU - max pool - dense."""
    model = nn.Sequential([
        nn.Conv2D(1, 8, 3, padding="same", activation="relu", seed=0, name="conv"),
        nn.MaxPool2D(2, name="pool"),
        nn.Flatten(name="flatten"),
        nn.Dense(8 * 16, 10, seed=1, name="dense"),
    ], name="cnn")
    return _classifier(model, sg.var("x", (None, 1, 8, 8)), 10)


def residual_net():
    """Eight residual blocks of two dense layers each, between an input and output layer."""
    blocks: list[nn.Layer] = [nn.Dense(8, 16, "relu", seed=0, name="stem")]
    for k in range(8):
        inner = nn.Sequential([nn.Dense(16, 16, "relu", seed=10 + k, name="a"),
                               nn.Dense(16, 16, seed=20 + k, name="b")], name=f"body{k}")
        blocks.append(nn.Residual(inner, name=f"res{k}"))
    blocks.append(nn.Dense(16, 4, seed=1, name="head"))
    return _classifier(nn.Sequential(blocks, name="resnet"), sg.var("x", (None, 8)), 4)


def random_graph(size: int = 10_000, seed: int = 0):
    """``size`` nodes of random elementwise ops over a few parameters, each reading one or
    two earlier nodes (a recent one mostly, so the graph is both deep and wide)."""
    rng = np.random.default_rng(seed)
    x = sg.var("x", (None, 4))
    params = [sg.param(rng.normal(size=4), name=f"p{i}") for i in range(8)]
    nodes: list[sg.Node] = [x] + params
    unary = (sg.tanh, sg.sin, sg.sigmoid, sg.square)
    binary = (sg.add, sg.multiply, sg.subtract)
    while len(nodes) < size * 0.8:
        a = nodes[-1 - int(rng.integers(min(len(nodes), 20)))]
        if rng.random() < 0.5:
            nodes.append(unary[int(rng.integers(len(unary)))](a))
        else:
            b = nodes[int(rng.integers(len(nodes)))]
            nodes.append(binary[int(rng.integers(len(binary)))](a, b))
    # Every node counts: the values nothing reads yet are added into the output.
    read = {id(i) for n in nodes for i in n.inputs}
    out = nodes[-1]
    for n in nodes[9:-1]:
        if id(n) not in read:
            out = out + n
    return x, None, sg.sum(out), params


MODELS: dict[str, Callable] = {"deep_mlp": deep_mlp, "digits_cnn": digits_cnn,
                               "residual_net": residual_net, "random_graph": random_graph}


def drawings(name: str) -> dict[str, str]:
    """The default DOT text of model ``name``'s forward graph, gradient view and
    optimisation view (an SGD step compiled), keyed by view."""
    x, y, loss, params = MODELS[name]()
    inputs = [x] if y is None else [x, y]
    step = optim.step_function(inputs, loss, params, optim.SGD(0.1))
    return {"forward": sg.to_dot(loss),
            "gradient": sg.gradient_view(loss, params).dot,
            "optimization": sg.optimization_view(step).dot}
