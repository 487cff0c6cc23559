"""``sg.linalg``: NumPy's ``numpy.linalg`` on nodes (and SciPy's ``solve_triangular``).

Names and signatures are NumPy's, so ``symgraph.numpy.linalg`` can map onto them. Every
function is a registered op (``symgraph/ops/linalg_*.py``, where the derivative rules and
their math live) or a composition of ops. Functions with several results return NumPy's
named tuples (``eigh(a).eigenvalues``) whose fields are nodes. See docs/linalg.md.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node, _user_location
import math

from symgraph.ops.elementwise import divide, multiply, subtract
from symgraph.ops.linalg import matmul
from symgraph.ops.linalg_decomp import (eigh_values, eigh_vectors, matrix_rank, pinv, qr_q,
                                        qr_r, svd_s, svd_u, svd_vh)
from symgraph.ops.linalg_eig import eig_values, eig_vectors
from symgraph.ops.linalg_norm import matrix_norm, norm, vector_norm
from symgraph.ops.linalg_solve import cholesky, det, inv, logabsdet, slogdet_sign, solve
from symgraph.ops.linalg_solve import solve_triangular
from symgraph.ops.reduce import max as _amax, min as _amin, sum
from symgraph.ops.registry import as_node, const
from symgraph.ops.shape import broadcast_like, expand_dims, reshape, squeeze

__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "LstsqResult", "cholesky",
           "det", "eigh", "eigvalsh", "inv", "lstsq", "matrix_norm", "matrix_power",
           "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "svdvals", "vector_norm", "cond", "tensorinv",
           "tensorsolve", "eig", "eigvals", "EigResult"]


class EighResult(NamedTuple):
    eigenvalues: Node
    eigenvectors: Node


class EigResult(NamedTuple):
    eigenvalues: Node
    eigenvectors: Node


class QRResult(NamedTuple):
    Q: Node
    R: Node


class SVDResult(NamedTuple):
    U: Node
    S: Node
    Vh: Node


class SlogdetResult(NamedTuple):
    sign: Node
    logabsdet: Node


class LstsqResult(NamedTuple):
    x: Node
    residuals: Node
    rank: Node
    s: Node


def _where() -> str:
    location = _user_location()
    return f" (built at {location})" if location else ""


def slogdet(a: Any) -> SlogdetResult:
    """NumPy's ``linalg.slogdet``: (sign, log|det|); only ``logabsdet`` has a derivative."""
    a = as_node(a)
    return SlogdetResult(slogdet_sign(a), logabsdet(a))


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """NumPy's ``linalg.eigh`` for symmetric matrices: ascending eigenvalues and the
    eigenvectors as columns. Only ``UPLO="L"`` (the lower triangle is read)."""
    if UPLO != "L":
        raise ArgumentError(f"eigh: only UPLO='L' is supported, got {UPLO!r}")
    a = as_node(a)
    return EighResult(eigh_values(a), eigh_vectors(a))


def eig(a: Any) -> EigResult:
    """NumPy's ``linalg.eig``: eigenvalues and unit eigenvectors (columns) of square
    matrices, always complex; derivatives where the eigenvalues are distinct."""
    a = as_node(a)
    return EigResult(eig_values(a), eig_vectors(a))


def eigvals(a: Any) -> Node:
    """NumPy's ``linalg.eigvals``, always complex."""
    return eig_values(as_node(a))


def eigvalsh(a: Any, UPLO: str = "L") -> Node:
    """NumPy's ``linalg.eigvalsh``: the eigenvalues of symmetric matrices, ascending."""
    return eigh(a, UPLO).eigenvalues


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> SVDResult | Node:
    """NumPy's ``linalg.svd``. Derivatives are defined for the reduced SVD, so a
    non-square matrix needs ``full_matrices=False``; ``compute_uv=False`` gives the
    singular values alone."""
    a = as_node(a)
    if not compute_uv:
        return svd_s(a)
    m, n = a.shape[-2:] if a.ndim >= 2 else (None, None)
    if full_matrices and (m is None or n is None or m != n):
        raise ShapeError(f"svd: full_matrices=True is defined only for square matrices of "
                         f"known size here (the extra columns have no derivative); got "
                         f"shape {a.shape}: pass full_matrices=False{_where()}")
    return SVDResult(svd_u(a), svd_s(a), svd_vh(a))


def svdvals(x: Any) -> Node:
    """NumPy's ``linalg.svdvals``: the singular values, descending."""
    return svd_s(as_node(x))


def qr(a: Any, mode: str = "reduced") -> QRResult | Node:
    """NumPy's ``linalg.qr`` (``mode`` "reduced" or "r"); derivatives need m >= n."""
    a = as_node(a)
    if mode == "r":
        return qr_r(a)
    if mode != "reduced":
        raise ArgumentError(f"qr: mode must be 'reduced' or 'r', got {mode!r}")
    return QRResult(qr_q(a), qr_r(a))


def lstsq(a: Any, b: Any, rcond: Optional[float] = None) -> LstsqResult:
    """NumPy's ``linalg.lstsq``: x = pinv(a) b minimising ||a x - b||, with the residual
    sums of squares, the rank and the singular values of ``a``.

    ``residuals`` is computed whenever a is tall (m > n), assuming full rank (NumPy
    returns an empty array for a rank-deficient a, known only at run time).
    """
    a, b = as_node(a), as_node(b)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise ShapeError(f"lstsq: a must be a matrix and b a vector or matrix, got shapes "
                         f"{a.shape} and {b.shape}{_where()}")
    m, n = a.shape
    if rcond is None:   # NumPy's default: machine precision times max(m, n)
        dtype = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
        rcond = float(np.finfo(dtype).eps) * max(m or 1, n or 1)
    x = matmul(pinv(a, rcond=rcond), b)
    if m is not None and n is not None and m > n:
        r = subtract(matmul(a, x), b)
        residuals = sum(multiply(r, r), axis=0)
        if b.ndim == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = const(np.zeros((0,), x.dtype))
    return LstsqResult(x, residuals, matrix_rank(a, tol=None), svd_s(a))


def matrix_power(a: Any, n: int) -> Node:
    """NumPy's ``linalg.matrix_power``: a multiplied by itself n times by repeated
    squaring (n < 0 inverts first; n = 0 gives the identity)."""
    a = as_node(a)
    if not isinstance(n, (int, np.integer)):
        raise ArgumentError(f"matrix_power: the exponent must be an int, got {n!r}")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"matrix_power: needs square matrices, got shape {a.shape}{_where()}")
    if n == 0:
        size = a.shape[-1]
        if size is None:
            raise ShapeError(f"matrix_power: n=0 needs a known size, got shape {a.shape}{_where()}")
        return broadcast_like(const(np.eye(size, dtype=a.dtype)), a)
    if n < 0:
        a, n = inv(a), -int(n)
    result: Optional[Node] = None
    square = a
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return result


def _chain_order(dims: Sequence[int]) -> list:
    # The textbook matrix-chain dynamic programme: split[i][j] is where the product of
    # matrices i..j is best cut.
    k = len(dims) - 1
    cost = [[0.0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = float("inf")
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s
    return split


def multi_dot(arrays: Sequence[Any]) -> Node:
    """NumPy's ``linalg.multi_dot``: the product of a chain of matrices in the cheapest
    order (the first and last may be vectors)."""
    nodes = [as_node(x) for x in arrays]
    if len(nodes) < 2:
        raise ArgumentError("multi_dot: needs at least two arrays")
    first_vec, last_vec = nodes[0].ndim == 1, nodes[-1].ndim == 1
    if first_vec:
        nodes[0] = expand_dims(nodes[0], 0)
    if last_vec:
        nodes[-1] = expand_dims(nodes[-1], 1)
    for x in nodes:
        if x.ndim != 2:
            raise ShapeError(f"multi_dot: needs matrices (vectors at the ends), got shape "
                             f"{x.shape}{_where()}")
    dims = [nodes[0].shape[0]] + [x.shape[1] for x in nodes]
    split = _chain_order([16 if d is None else d for d in dims])
    # an explicit stack instead of recursion: (i, j) pairs to build, results by span
    built: dict = {}
    todo = [(0, len(nodes) - 1, False)]
    while todo:
        i, j, ready = todo.pop()
        if i == j:
            built[(i, j)] = nodes[i]
        elif ready:
            s = split[i][j]
            built[(i, j)] = matmul(built[(i, s)], built[(s + 1, j)])
        else:
            s = split[i][j]
            todo += [(i, j, True), (i, s, False), (s + 1, j, False)]
    out = built[(0, len(nodes) - 1)]
    if first_vec:
        out = squeeze(out, 0)
    if last_vec:
        out = squeeze(out, out.ndim - 1)
    return out


def cond(x: Any, p: Any = None) -> Node:
    """NumPy's ``linalg.cond``: the condition number, s_max / s_min for p = None, 2 or -2,
    else norm(x, p) norm(inv(x), p)."""
    x = as_node(x)
    if p in (None, 2, -2):
        s = svd_s(x)
        big, small = _amax(s, -1), _amin(s, -1)
        return divide(big, small) if p != -2 else divide(small, big)
    return multiply(matrix_norm(x, ord=p), matrix_norm(inv(x), ord=p))


def tensorinv(a: Any, ind: int = 2) -> Node:
    """NumPy's ``linalg.tensorinv``: the inverse of ``a`` read as a matrix of its first
    ``ind`` axes by the rest."""
    a = as_node(a)
    if None in a.shape:
        raise ShapeError(f"tensorinv: needs a known shape, got {a.shape}{_where()}")
    rows, cols = a.shape[:ind], a.shape[ind:]
    if math.prod(rows) != math.prod(cols):
        raise ShapeError(f"tensorinv: {a.shape} split at {ind} is not square{_where()}")
    flat = reshape(a, (math.prod(rows), math.prod(cols)))
    return reshape(inv(flat), cols + rows)


def tensorsolve(a: Any, b: Any, axes: Optional[Sequence[int]] = None) -> Node:
    """NumPy's ``linalg.tensorsolve``: x with tensordot(a, x, x.ndim) = b."""
    a, b = as_node(a), as_node(b)
    if axes is not None:
        from symgraph.ops.shape import transpose
        moved = [k % a.ndim for k in axes]
        a = transpose(a, [k for k in range(a.ndim) if k not in moved] + moved)
    if None in a.shape or None in b.shape:
        raise ShapeError(f"tensorsolve: needs known shapes, got {a.shape} and {b.shape}{_where()}")
    solution_shape = a.shape[b.ndim:]
    n = math.prod(solution_shape)
    if math.prod(a.shape[:b.ndim]) != n:
        raise ShapeError(f"tensorsolve: {a.shape} and {b.shape} do not make a square system{_where()}")
    x = solve(reshape(a, (n, n)), reshape(b, (n,)))
    return reshape(x, solution_shape)
