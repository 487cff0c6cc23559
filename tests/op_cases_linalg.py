"""Op-table cases for linear algebra (symgraph/ops/linalg_*.py).

Inputs are chosen well conditioned: diagonally dominant matrices for inv/det/solve,
symmetric positive definite ones for cholesky, symmetric ones with eigenvalues spread far
apart for eigh, and random (full-rank) matrices for svd/qr/pinv.
"""
from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph import linalg as la
from symgraph.ops.registry import REGISTRY

from op_case import Case, Inputs, normal


def dominant(*shapes: tuple) -> Inputs:
    # I * n + noise: far from singular, determinant positive
    return lambda rng: [rng.standard_normal(s) + s[-1] * np.eye(s[-1]) for s in shapes]


def with_rhs(a_shape: tuple, b_shape: tuple) -> Inputs:
    return lambda rng: dominant(a_shape)(rng) + [rng.standard_normal(b_shape)]


def spd(shape: tuple) -> Inputs:
    def draw(rng):
        a = rng.standard_normal(shape)
        return [a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])]
    return draw


def spread_symmetric(shape: tuple) -> Inputs:
    # a small symmetric perturbation of diag(0, 3, 6, ...): eigenvalues at least ~2 apart
    def draw(rng):
        a = 0.3 * rng.standard_normal(shape)
        return [a + np.swapaxes(a, -1, -2) + np.diag(3.0 * np.arange(shape[-1]))]
    return draw


def nonsymmetric(shape: tuple) -> Inputs:
    # diag(0, 3, 6, ...) plus a rotation block and noise: distinct eigenvalues, one complex pair
    def draw(rng):
        a = 0.3 * rng.standard_normal(shape) + np.diag(3.0 * np.arange(shape[-1]))
        a[..., 0, 1] += 2.0
        a[..., 1, 0] -= 2.0
        return [a]
    return draw


def complex_spread(shape: tuple) -> Inputs:
    def draw(rng):
        noise = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        return [0.3 * noise + np.diag(3.0 * np.arange(shape[-1]))]
    return draw


def cnormal(*shapes: tuple) -> Inputs:
    return lambda rng: [rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in shapes]


def _negdet(rng):
    a = dominant((3, 3))(rng)[0]
    return [a[[1, 0, 2]]]


CASES: list[Case] = [
    Case("inv", "inv", dominant((3, 3)), la.inv, np.linalg.inv),
    Case("inv-batched", "inv", dominant((2, 3, 3)), la.inv, np.linalg.inv),
    Case("det", "det", dominant((3, 3)), la.det, np.linalg.det),
    Case("det-batched", "det", dominant((2, 3, 3)), la.det, np.linalg.det),
    Case("det-negative", "det", _negdet, la.det, np.linalg.det),
    Case("logabsdet", "logabsdet", _negdet, lambda a: la.slogdet(a).logabsdet,
         lambda a: np.linalg.slogdet(a).logabsdet),
    Case("logabsdet-batched", "logabsdet", dominant((2, 3, 3)),
         lambda a: la.slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a).logabsdet),
    Case("slogdet_sign", "slogdet_sign", _negdet, lambda a: la.slogdet(a).sign,
         lambda a: np.linalg.slogdet(a).sign, differentiable=False),
    Case("solve", "solve", with_rhs((3, 3), (3, 2)), la.solve, np.linalg.solve),
    Case("solve-vector", "solve", with_rhs((3, 3), (3,)), la.solve, np.linalg.solve),
    Case("solve-batched-vector", "solve", with_rhs((2, 3, 3), (3,)), la.solve, np.linalg.solve),
    Case("solve-broadcast-b", "solve", with_rhs((3, 3), (2, 3, 2)), la.solve, np.linalg.solve),
    Case("solve-none-dims", "solve", with_rhs((3, 3), (3, 4)), la.solve, np.linalg.solve,
         shapes=((3, 3), (3, None))),
    Case("solve_triangular-lower", "solve_triangular", with_rhs((3, 3), (3, 2)),
         lambda a, b: la.solve_triangular(a, b, lower=True),
         lambda a, b: np.linalg.solve(np.tril(a), b)),
    Case("solve_triangular-upper-trans-vector", "solve_triangular", with_rhs((3, 3), (3,)),
         lambda a, b: la.solve_triangular(a, b, trans="T"),
         lambda a, b: np.linalg.solve(np.triu(a).T, b)),
    Case("solve_triangular-unit-batched", "solve_triangular", with_rhs((2, 3, 3), (2, 3, 2)),
         lambda a, b: la.solve_triangular(a, b, lower=True, unit_diagonal=True),
         lambda a, b: np.linalg.solve(np.tril(a, -1) + np.eye(3), b)),
    Case("cholesky", "cholesky", spd((3, 3)), la.cholesky, np.linalg.cholesky),
    Case("cholesky-batched", "cholesky", spd((2, 4, 4)), la.cholesky, np.linalg.cholesky),
    Case("eigh_values", "eigh_values", spread_symmetric((3, 3)), lambda a: la.eigh(a).eigenvalues,
         lambda a: np.linalg.eigh(a).eigenvalues),
    Case("eigh_values-batched", "eigh_values", spread_symmetric((2, 4, 4)), la.eigvalsh,
         np.linalg.eigvalsh),
    Case("eigh_vectors", "eigh_vectors", spread_symmetric((3, 3)),
         lambda a: la.eigh(a).eigenvectors, lambda a: np.linalg.eigh(a).eigenvectors),
    Case("eigh_vectors-batched", "eigh_vectors", spread_symmetric((2, 3, 3)),
         lambda a: la.eigh(a).eigenvectors, lambda a: np.linalg.eigh(a).eigenvectors),
    Case("svd_s", "svd_s", normal((4, 3)), lambda a: la.svd(a, compute_uv=False),
         lambda a: np.linalg.svd(a, compute_uv=False)),
    Case("svd_s-wide-batched", "svd_s", normal((2, 3, 4)), la.svdvals,
         lambda a: np.linalg.svd(a, compute_uv=False)),
    Case("svd_u", "svd_u", normal((4, 3)), lambda a: la.svd(a, full_matrices=False).U,
         lambda a: np.linalg.svd(a, full_matrices=False).U),
    Case("svd_u-wide", "svd_u", normal((3, 4)), lambda a: la.svd(a, full_matrices=False).U,
         lambda a: np.linalg.svd(a, full_matrices=False).U),
    Case("svd_vh", "svd_vh", normal((4, 3)), lambda a: la.svd(a, full_matrices=False).Vh,
         lambda a: np.linalg.svd(a, full_matrices=False).Vh),
    Case("svd_vh-square-batched", "svd_vh", normal((2, 3, 3)), lambda a: la.svd(a).Vh,
         lambda a: np.linalg.svd(a).Vh),
    Case("qr_q", "qr_q", normal((4, 3)), lambda a: la.qr(a).Q, lambda a: np.linalg.qr(a).Q),
    Case("qr_q-square-batched", "qr_q", normal((2, 3, 3)), lambda a: la.qr(a).Q,
         lambda a: np.linalg.qr(a).Q),
    Case("qr_r", "qr_r", normal((4, 3)), lambda a: la.qr(a).R, lambda a: np.linalg.qr(a).R),
    Case("qr_r-mode-r", "qr_r", normal((3, 3)), lambda a: la.qr(a, mode="r"),
         lambda a: np.linalg.qr(a, mode="r")),
    Case("pinv", "pinv", normal((4, 3)), la.pinv, np.linalg.pinv),
    Case("pinv-wide-batched", "pinv", normal((2, 2, 3)), la.pinv, np.linalg.pinv),
    Case("matrix_rank", "matrix_rank", normal((4, 3)), la.matrix_rank, np.linalg.matrix_rank,
         differentiable=False, keeps_dtype=False),
    Case("vector_norm", "vector_norm", normal((2, 3)), la.norm, np.linalg.norm),
    Case("vector_norm-axis-keepdims", "vector_norm", normal((2, 3)),
         lambda a: la.norm(a, axis=1, keepdims=True),
         lambda a: np.linalg.norm(a, axis=1, keepdims=True)),
    Case("vector_norm-ord1", "vector_norm", normal((4,)), lambda a: la.norm(a, 1),
         lambda a: np.linalg.norm(a, 1)),
    Case("vector_norm-ord3-axis0", "vector_norm", normal((3, 2)), lambda a: la.norm(a, 3, 0),
         lambda a: np.linalg.norm(a, 3, 0)),
    Case("vector_norm-ord-half", "vector_norm", normal((4,)), lambda a: la.norm(a, 0.5),
         lambda a: np.linalg.norm(a, 0.5)),
    Case("vector_norm-ord-minus1.5", "vector_norm", normal((4,)), lambda a: la.norm(a, -1.5),
         lambda a: np.linalg.norm(a, -1.5)),
    Case("vector_norm-inf", "vector_norm", normal((2, 4)), lambda a: la.norm(a, np.inf, axis=-1),
         lambda a: np.linalg.norm(a, np.inf, axis=-1)),
    Case("vector_norm-minus-inf", "vector_norm", normal((4,)), lambda a: la.norm(a, -np.inf),
         lambda a: np.linalg.norm(a, -np.inf)),
    Case("vector_norm-fro", "vector_norm", normal((3, 2)), lambda a: la.norm(a, "fro"),
         lambda a: np.linalg.norm(a, "fro")),
    Case("vector_norm-ord0", "vector_norm", normal((4,)), lambda a: la.norm(a, 0),
         lambda a: np.linalg.norm(a, 0), differentiable=False),
]

# Complex inputs need the complex convention's check_grads and the complex parts (real,
# imag, conj), which arrive with complex support (np-elementwise); eig exists only then.
if "real" in REGISTRY:
    CASES += [
        Case("vector_norm-complex", "vector_norm", cnormal((2, 3)), lambda a: la.norm(a, axis=1),
             lambda a: np.linalg.norm(a, axis=1), keeps_dtype=False),
        Case("vector_norm-complex-ord3", "vector_norm", cnormal((4,)), lambda a: la.norm(a, 3),
             lambda a: np.linalg.norm(a, 3), keeps_dtype=False),
        Case("vector_norm-complex-inf", "vector_norm", cnormal((4,)), lambda a: la.norm(a, np.inf),
             lambda a: np.linalg.norm(a, np.inf), keeps_dtype=False),
    ]
if "eig_values" in REGISTRY:
    CASES += [
        # eig: always complex; inputs with well-separated eigenvalues (a complex pair among
        # them for the nonsymmetric draw), checked with the complex convention
        Case("eig_values", "eig_values", nonsymmetric((3, 3)), lambda a: la.eig(a).eigenvalues,
             lambda a: np.linalg.eig(a).eigenvalues, keeps_dtype=False),
        Case("eig_values-complex-batched", "eig_values", complex_spread((2, 3, 3)), la.eigvals,
             np.linalg.eigvals, keeps_dtype=False),
        Case("eig_vectors", "eig_vectors", nonsymmetric((3, 3)), lambda a: la.eig(a).eigenvectors,
             lambda a: np.linalg.eig(a).eigenvectors, keeps_dtype=False),
        Case("eig_vectors-complex", "eig_vectors", complex_spread((3, 3)),
             lambda a: la.eig(a).eigenvectors, lambda a: np.linalg.eig(a).eigenvectors,
             keeps_dtype=False),
    ]
