"""Lanczos estimates of a symmetric operator's extreme eigenvalues from matrix-vector
products alone; applied to the Hessian, they tell a minimum (all eigenvalues >= 0) from a
saddle point (some negative).

k steps build an orthonormal Krylov basis Q and a tridiagonal T = Q^T H Q; T's eigenvalues
(Ritz values) approach H's extreme eigenvalues first. The basis is fully re-orthogonalised,
which costs O(n k^2) and keeps small problems exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

import symgraph as sg
from symgraph.optim.hessian import FlatModel


@dataclass(frozen=True)
class Spectrum:
    """Ritz values (ascending) of a k-step Lanczos run."""

    ritz: np.ndarray

    @property
    def min(self) -> float:
        return float(self.ritz[0])

    @property
    def max(self) -> float:
        return float(self.ritz[-1])

    def has_negative_curvature(self, rel_tol: float = 1e-3) -> bool:
        """True when lambda_min < -rel_tol * |lambda_max|: clearly negative curvature, not
        the round-off (or the unfinished convergence) of a minimum's zero eigenvalues."""
        return self.min < -rel_tol * abs(self.max)

    @property
    def is_saddle(self) -> bool:
        """``has_negative_curvature()`` at the default tolerance."""
        return self.has_negative_curvature()


def lanczos(matvec: Callable[[np.ndarray], np.ndarray], n: int, k: int = 20,
            seed: int = 0) -> Spectrum:
    """k-step Lanczos on the n x n symmetric operator ``matvec``."""
    k = min(k, n)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(n)
    q /= np.linalg.norm(q)
    Q = np.zeros((k, n))
    alphas, betas = [], []
    for j in range(k):
        Q[j] = q
        w = matvec(q)
        a = float(q @ w)
        w = w - a * q - (betas[-1] * Q[j - 1] if j else 0.0)
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)   # full re-orthogonalisation
        alphas.append(a)
        b = float(np.linalg.norm(w))
        if j == k - 1 or b < 1e-12:   # the Krylov space is exhausted: T is exact
            break
        betas.append(b)
        q = w / b
    T = np.diag(alphas) + np.diag(betas[: len(alphas) - 1], 1) + np.diag(betas[: len(alphas) - 1], -1)
    return Spectrum(np.linalg.eigvalsh(T))


def hessian_spectrum(loss: sg.Node, params: Sequence[sg.Node], inputs: Sequence[sg.Node],
                     data: Sequence[Any], k: int = 20, seed: int = 0) -> Spectrum:
    """Lanczos on the Hessian of ``loss`` at the current parameter values."""
    model = FlatModel(loss, params, inputs)
    model.set_data(*data)
    return lanczos(model.hvp, model.size, k, seed)
