"""Rosenblatt's perceptron learning rule, compiled as one online step.

The input gets a constant bias element x0 = -1 (the notes' convention), the prediction is
sign(w . x), and a mistake moves the weights by lr * t * x, where t in {-1, +1} is the
label; a correct prediction leaves them alone. sign(0) = 0 counts as a mistake, so
training from w = 0 starts moving at once.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

import symgraph as sg


class Perceptron:
    """A linear threshold unit trained by the perceptron rule."""

    def __init__(self, n_features: int, lr: float = 1.0, dtype: str = "float64") -> None:
        self.n = int(n_features)
        with sg.scope("perceptron"):
            self.w = sg.param(np.zeros(self.n + 1, dtype), name="w")
            x = sg.var("x", (self.n,), dtype)
            t = sg.var("t", (), dtype)
            xb = sg.concatenate([sg.const(np.array([-1.0], dtype)), x])
            pred = sg.sign(sg.sum(self.w * xb))
            wrong = sg.cast(sg.not_equal(pred, t), dtype)
            self._step = sg.function([x, t], wrong, updates={self.w: self.w + lr * wrong * t * xb})
            xs = sg.var("X", (None, self.n), dtype)
            # x0 = -1 for every row: w . (-1, x) = x @ w[1:] - w[0]
            self._predict = sg.function([xs], sg.sign(xs @ self.w[1:] - self.w[0]))

    def step(self, x: np.ndarray, t: float) -> bool:
        """One online update; True when the example was misclassified."""
        return bool(self._step(x, t))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """+1 / -1 (0 exactly on the boundary) for each row of X."""
        return self._predict(X)

    def fit(self, X: np.ndarray, T: np.ndarray, epochs: int = 100,
            seed: Optional[int] = None) -> int:
        """Sweep the data until an epoch makes no mistake; returns the epochs used, or -1
        if ``epochs`` sweeps were not enough (data not linearly separable)."""
        order = np.arange(len(X))
        rng = np.random.default_rng(seed) if seed is not None else None
        for epoch in range(1, epochs + 1):
            if rng is not None:
                order = rng.permutation(len(X))
            mistakes = sum(self.step(X[i], T[i]) for i in order)
            if mistakes == 0:
                return epoch
        return -1
