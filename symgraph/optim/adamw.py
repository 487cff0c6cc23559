"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    w <- w - lr * (G_hat / (sqrt(M_hat) + eps) + weight_decay * w)

The decay acts on the weights directly instead of entering the gradient (where Adam's
per-coordinate scaling would shrink it for coordinates with large gradients): an L2
penalty added to the loss is not the same thing under Adam.
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.optim.adam import Adam
from symgraph.errors import ArgumentError


class AdamW(Adam):
    """Adam whose weight decay is applied to the weights, not added to the gradient."""

    def __init__(self, lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(lr, beta1, beta2, eps)
        if weight_decay < 0:
            raise ArgumentError(f"AdamW: weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        out = super().rule(p, g, lr, k)
        # Adam's step for p, minus the decoupled decay lr * wd * p (p's old value)
        out[p] = out[p] - lr * self.weight_decay * p
        return out
