"""RMSProp: AdaGrad with a decaying average of squared gradients instead of their sum.

M <- beta M + (1 - beta) g^2;  w <- w - lr g / (sqrt(M) + eps).
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.optim.base import Optimizer


class RMSProp(Optimizer):
    """RMSProp: per-weight rates from a decaying average of squared gradients."""

    def __init__(self, lr: Any, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta, self.eps = float(beta), float(eps)

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        m = self.state(p, "mean_sq")
        m_new = self.beta * m + (1.0 - self.beta) * sg.square(g)
        return {m: m_new, p: p - lr * g / (sg.sqrt(m_new) + self.eps)}
