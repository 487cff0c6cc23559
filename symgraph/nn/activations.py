"""Activation functions by name, for layers that take ``activation="relu"`` and the like.

All are symgraph ops already; this file only names them the way the textbook does.
"""
from __future__ import annotations

from typing import Callable, Optional

import symgraph as sg
from symgraph.errors import ArgumentError

Activation = Callable[[sg.Node], sg.Node]


def identity(x: sg.Node) -> sg.Node:
    """The linear (no) activation."""
    return x


def abs_rectify(x: sg.Node) -> sg.Node:
    """Absolute-value rectification g(z) = |z| (a rectifier with slope -1 left of 0)."""
    return sg.abs(x)


def softmax(x: sg.Node) -> sg.Node:
    """Softmax over the last axis."""
    return sg.softmax(x, axis=-1)


ACTIVATIONS: dict[str, Activation] = {
    "linear": identity, "sigmoid": sg.sigmoid, "tanh": sg.tanh, "relu": sg.relu,
    "abs": abs_rectify, "softmax": softmax, "sign": sg.sign, "softplus": sg.softplus,
}


def get(activation: Optional[str | Activation]) -> Activation:
    """An activation by name (``None`` is linear), or the callable itself."""
    if activation is None:
        return identity
    if callable(activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except KeyError:
        raise ArgumentError(f"unknown activation {activation!r}; choose from "
                         f"{', '.join(sorted(ACTIVATIONS))}") from None
