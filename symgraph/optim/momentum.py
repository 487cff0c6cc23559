"""Momentum and Nesterov accelerated gradient.

Momentum: v <- alpha v - lr g(w); w <- w + v.

Nesterov evaluates the gradient at the look-ahead point w + alpha v. A compiled step can
only take the gradient where the parameter is, so the parameter stores the look-ahead
point u = w + alpha v itself. Substituting gives
    v' = alpha v - lr g(u),   u' = u + alpha v' - lr g(u)
and w = u - alpha v recovers the textbook iterate at any step (tests check both agree).
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.optim.base import Optimizer


class Momentum(Optimizer):
    """Heavy-ball momentum with velocity ``v`` (starts at zero)."""

    def __init__(self, lr: Any, alpha: float = 0.9) -> None:
        super().__init__(lr)
        self.alpha = float(alpha)

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        v = self.state(p, "velocity")
        v_new = self.alpha * v - lr * g
        return {v: v_new, p: p + v_new}


class Nesterov(Momentum):
    """Nesterov accelerated gradient; the parameter holds the look-ahead point."""

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        v = self.state(p, "velocity")
        step = lr * g
        v_new = self.alpha * v - step
        return {v: v_new, p: p + self.alpha * v_new - step}
