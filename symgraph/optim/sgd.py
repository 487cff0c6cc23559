"""Plain gradient descent: w <- w - lr * g.

Online, mini-batch and full-batch SGD are the same rule; they differ only in how many
examples each call of the step sees (see ``symgraph.train.fit``'s ``batch_size``).
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.optim.base import Optimizer


class SGD(Optimizer):
    """w <- w - lr g."""

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        return {p: p - lr * g}
