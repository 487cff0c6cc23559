"""Newton-CG (truncated Newton, "Hessian-free"): solve H d = -g approximately by conjugate
gradients that only ever touch H through Hessian-vector products, then take the step
with a backtracking line search.

CG stops early when the residual is small, after ``cg_iters`` iterations, or when it meets
a direction of non-positive curvature (p^T H p <= 0: H is not positive definite there);
on the first iteration that leaves the steepest-descent direction.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import symgraph as sg
from symgraph.optim.hessian import FlatModel


def conjugate_gradient(matvec: Callable[[np.ndarray], np.ndarray], b: np.ndarray,
                       iters: int = 50, tol: float = 1e-10) -> tuple[np.ndarray, int]:
    """x with A x ~= b for symmetric A given as ``matvec``; returns (x, iterations used).

    Truncates at negative curvature, returning the last iterate (or b itself if the very
    first direction already has non-positive curvature).
    """
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    for k in range(iters):
        if np.sqrt(rr) <= tol * max(1.0, float(np.linalg.norm(b))):
            return x, k
        Ap = matvec(p)
        curvature = float(p @ Ap)
        if curvature <= 0.0:
            return (b.copy() if k == 0 else x), k
        alpha = rr / curvature
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, iters


class NewtonCG:
    """``step(*data)`` takes one Newton-CG step and returns the loss before it."""

    def __init__(self, loss: sg.Node, params: Sequence[sg.Node], inputs: Sequence[sg.Node] = (),
                 cg_iters: int = 20, damping: float = 0.0, line_search: bool = True) -> None:
        self.model = FlatModel(loss, params, inputs)
        self.cg_iters, self.damping, self.line_search = int(cg_iters), float(damping), line_search
        self.last_cg_iters = 0

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        return self.model.hvp(v) + self.damping * v

    def step(self, *data: Any) -> float:
        m = self.model
        m.set_data(*data)
        value, g = m.loss_grad()
        d, self.last_cg_iters = conjugate_gradient(self._matvec, -g, self.cg_iters)
        w = m.get()
        rate = 1.0
        if self.line_search:
            slope = float(g @ d)
            if slope >= 0.0:   # not a descent direction: fall back to the gradient
                d, slope = -g, -float(g @ g)
            for _ in range(30):  # Armijo backtracking
                m.set(w + rate * d)
                if m.loss() <= value + 1e-4 * rate * slope:
                    return value
                rate *= 0.5
            m.set(w)
            return value
        m.set(w + d)
        return value
