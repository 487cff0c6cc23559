"""Newton's method with the full Hessian: w <- w - (H + damping I)^-1 g.

Each step forms H column by column from Hessian-vector products and solves the system
with NumPy, so it suits small models (a few hundred parameters). On a quadratic with
positive definite H one undamped step lands on the minimum. Near a saddle point H has
negative eigenvalues and Newton is attracted to it, as the textbook warns: ``damping``
(Levenberg-style) shifts the spectrum.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import symgraph as sg
from symgraph.optim.hessian import FlatModel


class Newton:
    """``step(*data)`` takes one Newton step and returns the loss before it."""

    def __init__(self, loss: sg.Node, params: Sequence[sg.Node], inputs: Sequence[sg.Node] = (),
                 damping: float = 0.0) -> None:
        self.model = FlatModel(loss, params, inputs)
        self.damping = float(damping)

    def step(self, *data: Any) -> float:
        self.model.set_data(*data)
        value, g = self.model.loss_grad()
        H = self.model.hessian() + self.damping * np.eye(self.model.size)
        self.model.set(self.model.get() - np.linalg.solve(H, g))
        return value
