"""Adam: decaying averages of the gradient (G) and its square (M), bias-corrected.

With t = k + 1 the number of this step (counting from 1):
    G <- b1 G + (1 - b1) g;   M <- b2 M + (1 - b2) g^2
    w <- w - lr * (G / (1 - b1^t)) / (sqrt(M / (1 - b2^t)) + eps)
The correction divides by 1 - b^t, which is what makes the first steps full-sized (the
notes' exponent t - 1 would divide by zero on the first step when counting from 1).
"""
from __future__ import annotations

from typing import Any

import symgraph as sg
from symgraph.optim.base import Optimizer, like


class Adam(Optimizer):
    """Adam: bias-corrected decaying averages of the gradient and its square."""

    def __init__(self, lr: Any = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def rule(self, p: sg.Node, g: sg.Node, lr: Any, k: sg.Node) -> dict:
        G = self.state(p, "mean")
        M = self.state(p, "mean_sq")
        t = k + 1.0
        G_new = self.beta1 * G + (1.0 - self.beta1) * g
        M_new = self.beta2 * M + (1.0 - self.beta2) * sg.square(g)
        G_hat = G_new / like(1.0 - self.beta1 ** t, p)
        M_hat = M_new / like(1.0 - self.beta2 ** t, p)
        return {G: G_new, M: M_new, p: p - lr * G_hat / (sg.sqrt(M_hat) + self.eps)}
