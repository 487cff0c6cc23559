"""The textbook's figures as symgraph drawings (Goodfellow et al., ch. 6: figures 6.2, 6.8,
6.10, 6.11), used by the golden-file tests and by docs/img/make_figures.py.

Every builder takes no arguments and returns a ``Drawing`` without source locations, so
the DOT text is the same on every machine. They also work from the command line:
``python -m symgraph render tests/render_figures.py:xor_units -o xor.svg``.
"""
from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph.passes.cse import cse
from symgraph.render import Drawing

FIXED = {"locations": False}


def _xor():
    # The textbook's ReLU solution of XOR: W = [[1, 1], [1, 1]], c = [0, -1], w = [1, -2].
    x = sg.var("x", shape=(None, 2))
    W = sg.param(np.ones((2, 2)), name="W")
    c = sg.param(np.array([0.0, -1.0]), name="c")
    w = sg.param(np.array([1.0, -2.0]), name="w")
    b = sg.param(0.0, name="b")
    h = sg.relu(x @ W + c)
    y = h @ w + b
    return y, {h: "h", y: "y"}


def xor_layers() -> Drawing:
    """Figure 6.2 (right): one node per layer, weights on the edges."""
    y, names = _xor()
    return sg.draw(y, style="layers", names=names, **FIXED)


def xor_units() -> Drawing:
    """Figure 6.2 (left): one node per unit."""
    y, names = _xor()
    return sg.draw(y, style="units", names=names, **FIXED)


def z_xy() -> Drawing:
    """Figure 6.8 (a): z = x y."""
    x, y = sg.var("x"), sg.var("y")
    z = x * y
    return sg.draw(z, style="expr", names={z: "z"}, **FIXED)


def logistic_regression() -> Drawing:
    """Figure 6.8 (b): y-hat = sigmoid(x . w + b), intermediates u(1), u(2)."""
    x = sg.var("x", shape=(3,))
    w = sg.param(np.zeros(3), name="w")
    b = sg.param(0.0, name="b")
    y_hat = sg.sigmoid(sg.dot(x, w) + b)
    return sg.draw(y_hat, style="expr", names={y_hat: "ŷ"}, **FIXED)


def relu_layer() -> Drawing:
    """Figure 6.8 (c): H = max(0, X W + b) on a minibatch X."""
    X = sg.var("X", shape=(None, 3))
    W = sg.param(np.zeros((3, 4)), name="W")
    b = sg.param(np.zeros(4), name="b")
    H = sg.maximum(0.0, X @ W + b)
    return sg.draw(H, style="expr", names={H: "H"}, **FIXED)


def fff_gradient() -> Drawing:
    """Figure 6.10: z = f(f(f(w))) with f = sin, and the nodes of dz/dw appended to it."""
    w = sg.var("w")
    x = sg.sin(w)
    y = sg.sin(x)
    z = sg.sin(y)
    return sg.gradient_view(z, w, style="expr", names={x: "x", y: "y", z: "z"}, **FIXED)


def _mlp_cost():
    X = sg.var("X", shape=(None, 3))
    labels = sg.var("y", shape=(None,), dtype="int64")
    with sg.scope("layer1"):
        W1 = sg.param(np.zeros((3, 4)), name="W1")
        H = sg.relu(X @ W1)
    with sg.scope("layer2"):
        W2 = sg.param(np.zeros((4, 2)), name="W2")
        U2 = H @ W2
    with sg.scope("cost"):
        J_mle = -sg.mean(sg.sum(sg.one_hot(labels, 2) * sg.log_softmax(U2), axis=1))
        decay = 0.01 * (sg.sum(sg.square(W1)) + sg.sum(sg.square(W2)))
        J = J_mle + decay
    return J, [W1, W2], {H: "H", U2: "U2", J_mle: "J_MLE", J: "J"}


def mlp_cost() -> Drawing:
    """Figure 6.11: the cost of a one-hidden-layer MLP, cross-entropy plus weight decay."""
    J, _, names = _mlp_cost()
    return sg.draw(J, style="ops", names=names, **FIXED)


def mlp_cost_gradient() -> Drawing:
    """Figure 6.11 with the gradient nodes back-propagation appends for W1 and W2."""
    J, params, names = _mlp_cost()
    return sg.gradient_view(J, params, style="ops", names=names, **FIXED)


def optimization() -> Drawing:
    """CSE on a graph that computes tanh(x W) twice: the copies are merged into one."""
    x = sg.var("x", shape=(None, 2))
    W = sg.param(np.ones((2, 2)), name="W")
    a = sg.tanh(x @ W)
    b = sg.tanh(x @ W)
    out = sg.sum(a * b + a)
    return sg.optimization_view(([out], cse([out])), names={out: "out"}, **FIXED)


def _classifier():
    from symgraph import nn
    model = nn.MLP([4, 3, 2], name="mlp")
    x, labels = sg.var("x", shape=(None, 4)), sg.var("labels", shape=(None,), dtype="int64")
    return nn.softmax_cross_entropy(model(x), labels)


def mlp_layers() -> Drawing:
    """An nn.MLP's loss in the layers style: both layers (the logits kept) and the loss."""
    return sg.draw(_classifier(), style="layers", **FIXED)


def mlp_units() -> Drawing:
    """The same unit by unit: layer1[1], layer1[2], ... never read as another layer."""
    return sg.draw(_classifier(), style="units", **FIXED)


FIGURES = {
    "xor_layers": xor_layers, "xor_units": xor_units, "z_xy": z_xy,
    "logistic_regression": logistic_regression, "relu_layer": relu_layer,
    "fff_gradient": fff_gradient, "mlp_cost": mlp_cost,
    "mlp_cost_gradient": mlp_cost_gradient, "optimization": optimization,
    "mlp_layers": mlp_layers, "mlp_units": mlp_units,
}
