"""Activation functions by name, for layers that take ``activation="relu"`` and the like.

Each is a symgraph op or a short composition of ops (so every derivative differentiates
again); this file only names them the way the textbook and the frameworks do.
"""
from __future__ import annotations

from typing import Callable, Optional

import math

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


def leaky_relu(x: sg.Node, negative_slope: float = 0.01) -> sg.Node:
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""
    return sg.where(sg.greater(x, 0.0), x, x * float(negative_slope))


def elu(x: sg.Node, alpha: float = 1.0) -> sg.Node:
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise (expm1: accurate near 0)."""
    # the exp branch sees min(x, 0) so it never overflows where where() discards it
    return sg.where(sg.greater(x, 0.0), x, float(alpha) * sg.expm1(sg.minimum(x, 0.0)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: sg.Node) -> sg.Node:
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def silu(x: sg.Node) -> sg.Node:
    """``x * sigmoid(x)`` (also called swish)."""
    return x * sg.sigmoid(x)


swish = silu


def mish(x: sg.Node) -> sg.Node:
    """``x * tanh(softplus(x))``."""
    return x * sg.tanh(sg.softplus(x))


def softsign(x: sg.Node) -> sg.Node:
    """``x / (1 + |x|)``."""
    return x / (1.0 + sg.abs(x))


def hard_tanh(x: sg.Node, lo: float = -1.0, hi: float = 1.0) -> sg.Node:
    """``x`` clipped to ``[lo, hi]``."""
    return sg.clip(x, lo, hi)


def gelu(x: sg.Node, approximate: str = "none") -> sg.Node:
    """Gaussian error linear unit ``x * Phi(x)``.

    ``approximate="none"`` is exact, ``0.5 x (1 + erf(x / sqrt 2))`` (needs
    ``sg.special.erf``: ``pip install symgraph[special]``); ``"tanh"`` is the tanh
    approximation ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, core only.
    """
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + sg.tanh(inner))
    if approximate != "none":
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    from symgraph import special
    return 0.5 * x * (1.0 + special.erf(x * (1.0 / math.sqrt(2.0))))


def gelu_tanh(x: sg.Node) -> sg.Node:
    """``gelu(x, approximate="tanh")``."""
    return gelu(x, "tanh")


ACTIVATIONS: dict[str, Activation] = {
    "linear": identity, "sigmoid": sg.sigmoid, "tanh": sg.tanh, "relu": sg.relu,
    "abs": abs_rectify, "softmax": softmax, "sign": sg.sign, "softplus": sg.softplus,
    "leaky_relu": leaky_relu, "elu": elu, "selu": selu, "silu": silu, "swish": swish,
    "mish": mish, "softsign": softsign, "hard_tanh": hard_tanh, "gelu": gelu,
    "gelu_tanh": gelu_tanh,
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
