"""AdaGrad: each weight's rate shrinks with the sum of its squared gradients.

M <- M + g^2;  w <- w - lr g / (sqrt(M) + eps).
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.optim.base import Optimizer


class AdaGrad(Optimizer):
    """AdaGrad: per-weight rates that shrink with the sum of squared gradients."""

    def __init__(self, lr: Any, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.eps = float(eps)

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        m = self.state(p, "sum_sq")
        m_new = m + sg.square(g)
        return {m: m_new, p: p - lr * g / (sg.sqrt(m_new) + self.eps)}
