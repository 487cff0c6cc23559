"""Decompositions with derivatives: eigh (symmetric), svd (reduced), qr (reduced), pinv,
and matrix_rank (no derivative).

A decomposition with several outputs is one op per output (``eigh_values``,
``eigh_vectors``); each rule builds the sibling outputs it needs as nodes, which the
compiler's CSE shares. Every rule states its math first.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import (add, divide, equal, multiply, negative, reciprocal,
                                      subtract, where)
from symgraph.ops.linalg import matmul
from symgraph.ops.linalg_solve import _solve_tri
from symgraph.ops.linalg_util import (as_col, as_row, float_dtype, mT, mask, matrix_infer,
                                      square_infer, sym_from_lower, to_lower)
from symgraph.ops.reduce import sum
from symgraph.ops.registry import Op, apply, as_node, register
from symgraph.types import TensorType


def _gaps(values: Node) -> Node:
    """F_ij = 1 / (v_j - v_i) off the diagonal and 0 where v_j == v_i exactly (the diagonal,
    and degenerate pairs: see docs/linalg.md)."""
    d = subtract(as_row(values), as_col(values))
    tie = equal(d, 0.0)
    return where(tie, 0.0, reciprocal(where(tie, 1.0, d)))


# --- eigh -------------------------------------------------------------------------------------
def _eigh_infer(which: str):
    def infer(types, attrs, where):
        shape = square_infer("eigh", types[0], where)
        dtype = float_dtype("eigh", types[0], where)
        return TensorType(shape[:-1] if which == "values" else shape, dtype)
    return infer


# A = V diag(lam) V^T (symmetric M read from A's lower triangle, as NumPy's UPLO='L'):
#   d lam = diag(V^T dM V);  lam_bar -> S = V diag(lam_bar) V^T.
def _eigh_values_vjp(node, g):
    v = eigh_vectors(node.inputs[0])
    return (to_lower(matmul(multiply(v, as_row(g)), mT(v))),)


def _eigh_values_jvp(node, t):
    v = eigh_vectors(node.inputs[0])
    return sum(multiply(v, matmul(sym_from_lower(t[0]), v)), axis=-2)


#   dV = V (F o (V^T dM V)), F_ij = 1/(lam_j - lam_i) (0 on the diagonal);
#   V_bar -> S = V (F o (V^T V_bar)) V^T.
def _eigh_vectors_vjp(node, g):
    f = _gaps(eigh_values(node.inputs[0]))
    return (to_lower(matmul(node, matmul(multiply(f, matmul(mT(node), g)), mT(node)))),)


def _eigh_vectors_jvp(node, t):
    f = _gaps(eigh_values(node.inputs[0]))
    inner = matmul(mT(node), matmul(sym_from_lower(t[0]), node))
    return matmul(node, multiply(f, inner))


# --- svd (full_matrices=False) ----------------------------------------------------------------
def _svd_infer(which: str):
    def infer(types, attrs, where):
        shape = matrix_infer("svd", types[0], where)
        m, n = shape[-2:]
        k = None if m is None or n is None else min(m, n)
        out = {"u": shape[:-1] + (k,), "s": shape[:-2] + (k,), "vh": shape[:-2] + (k, n)}[which]
        return TensorType(out, float_dtype("svd", types[0], where))
    return infer


def _svd_parts(node: Node):
    a = node.inputs[0]
    u, s, vh = svd_u(a), svd_s(a), svd_vh(a)
    return a, u, s, vh, _gaps(multiply(s, s))


# A = U diag(s) V^T with U (m, k), V (n, k), k = min(m, n); dP = U^T dA V and
# F_ij = 1/(s_j^2 - s_i^2) off the diagonal:
#   ds = diag(dP)
#   dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1
#   dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1
# and the VJPs are their transposes:
#   s_bar -> U diag(s_bar) V^T
#   U_bar -> U (F o (U^T U_bar - U_bar^T U)) S V^T + (I - U U^T) U_bar S^-1 V^T
#   V_bar -> U S (F o (V^T V_bar - V_bar^T V)) V^T + U S^-1 V_bar^T (I - V V^T)
def _svd_s_vjp(node, g):
    a, u, s, vh, f = _svd_parts(node)
    return (matmul(multiply(u, as_row(g)), vh),)


def _svd_s_jvp(node, t):
    a, u, s, vh, f = _svd_parts(node)
    return sum(multiply(u, matmul(t[0], mT(vh))), axis=-2)


def _svd_u_vjp(node, g):
    a, u, s, vh, f = _svd_parts(node)
    utg = matmul(mT(u), g)
    j = multiply(f, subtract(utg, mT(utg)))
    inside = matmul(multiply(j, as_row(s)), vh)
    outside = matmul(divide(subtract(g, matmul(u, utg)), as_row(s)), vh)
    return (add(matmul(u, inside), outside),)


def _svd_u_jvp(node, t):
    a, u, s, vh, f = _svd_parts(node)
    dav = matmul(t[0], mT(vh))
    dp = matmul(mT(u), dav)
    inside = multiply(f, add(multiply(dp, as_row(s)), multiply(as_col(s), mT(dp))))
    return add(matmul(u, inside), divide(subtract(dav, matmul(u, dp)), as_row(s)))


def _svd_vh_vjp(node, g):
    # g is the cotangent of V^T, so V_bar = g^T
    a, u, s, vh, f = _svd_parts(node)
    gv = matmul(g, mT(vh))                          # V_bar^T V
    k = multiply(f, subtract(mT(gv), gv))           # F o (V^T V_bar - V_bar^T V)
    inside = matmul(multiply(as_col(s), k), vh)
    outside = matmul(u, divide(subtract(g, matmul(gv, vh)), as_col(s)))
    return (add(matmul(u, inside), outside),)


def _svd_vh_jvp(node, t):
    a, u, s, vh, f = _svd_parts(node)
    dp = matmul(mT(u), matmul(t[0], mT(vh)))
    inside = multiply(f, add(multiply(as_col(s), dp), multiply(mT(dp), as_row(s))))
    datu = matmul(mT(t[0]), u)                      # dA^T U
    dv = add(matmul(mT(vh), inside),
             divide(subtract(datu, matmul(mT(vh), mT(dp))), as_row(s)))
    return mT(dv)


# --- qr (mode="reduced", m >= n) --------------------------------------------------------------
def _qr_infer(which: str):
    def infer(types, attrs, where):
        shape = matrix_infer("qr", types[0], where)
        m, n = shape[-2:]
        k = None if m is None or n is None else min(m, n)
        out = shape[:-1] + (k,) if which == "q" else shape[:-2] + (k, n)
        return TensorType(out, float_dtype("qr", types[0], where))
    return infer


def _qr_parts(node: Node):
    a = node.inputs[0]
    m, n = a.shape[-2:]
    if m is None or n is None or m < n:
        raise ShapeError(f"qr: derivatives need a tall or square matrix of known size, got "
                         f"{a.shape}{node.where()}")
    return a, qr_q(a), qr_r(a)


def _right_div_r(y: Node, r: Node) -> Node:
    """y R^-1 = (R^-T y^T)^T."""
    return mT(_solve_tri(r, mT(y), False, True))


def _right_div_rt(y: Node, r: Node) -> Node:
    """y R^-T = (R^-1 y^T)^T."""
    return mT(_solve_tri(r, mT(y), False, False))


def _copy_skew(h: Node) -> Node:
    """H - low(H) + low(H^T), low = strictly lower part: the adjoint of X -> X - Omega."""
    low = mask(h, "strict")
    return add(subtract(h, multiply(h, low)), multiply(mT(h), low))


# A = Q R:  C = dA R^-1,  X = Q^T C,  Omega = low(X) - low(X)^T (skew, Q^T dQ):
#   dR = (X - Omega) R,   dQ = C - Q (X - Omega)
# transposed:  R_bar -> Q Z R^-T with Z = copy_skew(R_bar R^T);
#              Q_bar -> (Q_bar - Q copy_skew(Q^T Q_bar)) R^-T
def _x_minus_omega(q: Node, r: Node, da: Node):
    c = _right_div_r(da, r)
    x = matmul(mT(q), c)
    low = multiply(x, mask(x, "strict"))
    return c, add(subtract(x, low), mT(low))


def _qr_q_vjp(node, g):
    a, q, r = _qr_parts(node)
    return (_right_div_rt(subtract(g, matmul(q, _copy_skew(matmul(mT(q), g)))), r),)


def _qr_q_jvp(node, t):
    a, q, r = _qr_parts(node)
    c, xo = _x_minus_omega(q, r, t[0])
    return subtract(c, matmul(q, xo))


def _qr_r_vjp(node, g):
    a, q, r = _qr_parts(node)
    return (_right_div_rt(matmul(q, _copy_skew(matmul(g, mT(r)))), r),)


def _qr_r_jvp(node, t):
    a, q, r = _qr_parts(node)
    c, xo = _x_minus_omega(q, r, t[0])
    return matmul(xo, r)


# --- pinv ------------------------------------------------------------------------------------
def _pinv_infer(types, attrs, where):
    shape = matrix_infer("pinv", types[0], where)
    return TensorType(shape[:-2] + (shape[-1], shape[-2]), float_dtype("pinv", types[0], where))


# Y = A^+ (full rank, away from rank changes):
#   dY = -Y dA Y + Y Y^T dA^T (I - A Y) + (I - Y A) dA^T Y^T Y
#   Y_bar -> -Y^T G Y^T + (I - A Y) G^T Y Y^T + Y^T Y G^T (I - Y A)
def _pinv_vjp(node, g):
    a, y = node.inputs[0], node
    gt = mT(g)
    t1 = negative(matmul(mT(y), matmul(g, mT(y))))
    t2 = matmul(subtract(gt, matmul(a, matmul(y, gt))), matmul(y, mT(y)))
    t3 = matmul(matmul(mT(y), y), subtract(gt, matmul(matmul(gt, y), a)))
    return (add(add(t1, t2), t3),)


def _pinv_jvp(node, t):
    a, y, dat = node.inputs[0], node, mT(t[0])
    t1 = negative(matmul(y, matmul(t[0], y)))
    t2 = matmul(matmul(y, mT(y)), subtract(dat, matmul(matmul(dat, a), y)))
    t3 = matmul(subtract(dat, matmul(y, matmul(a, dat))), matmul(mT(y), y))
    return add(add(t1, t2), t3)


def _rank_infer(types, attrs, where):
    shape = matrix_infer("matrix_rank", types[0], where)
    return TensorType(shape[:-2], np.dtype(np.int64))


def _eigh_kernel(which: int):
    return lambda a: np.linalg.eigh(a)[which]


def _svd_kernel(which: int):
    return lambda a: np.linalg.svd(a, full_matrices=False)[which]


register(Op("eigh_values", _eigh_infer("values"), _eigh_kernel(0), _eigh_values_vjp,
            _eigh_values_jvp))
register(Op("eigh_vectors", _eigh_infer("vectors"), _eigh_kernel(1), _eigh_vectors_vjp,
            _eigh_vectors_jvp))
register(Op("svd_u", _svd_infer("u"), _svd_kernel(0), _svd_u_vjp, _svd_u_jvp))
register(Op("svd_s", _svd_infer("s"), lambda a: np.linalg.svd(a, compute_uv=False),
            _svd_s_vjp, _svd_s_jvp))
register(Op("svd_vh", _svd_infer("vh"), _svd_kernel(2), _svd_vh_vjp, _svd_vh_jvp))
register(Op("qr_q", _qr_infer("q"), lambda a: np.linalg.qr(a)[0], _qr_q_vjp, _qr_q_jvp))
register(Op("qr_r", _qr_infer("r"), lambda a: np.linalg.qr(a)[1], _qr_r_vjp, _qr_r_jvp))
register(Op("pinv", _pinv_infer, lambda a, rcond=None: np.linalg.pinv(a, rcond=rcond),
            _pinv_vjp, _pinv_jvp))
register(Op("matrix_rank", _rank_infer, lambda a, tol=None: np.asarray(
    np.linalg.matrix_rank(a, tol=tol), dtype=np.int64), differentiable=False))


# --- the functions -----------------------------------------------------------------------------
def _one(name: str, summary: str):
    def fn(a: Any, name_: Optional[str] = None) -> Node:
        return apply(name, [as_node(a)], name_)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = summary
    return fn


eigh_values = _one("eigh_values", "The eigenvalues of each symmetric matrix, ascending "
                   "(``eigh(a).eigenvalues``; reads the lower triangle).")
eigh_vectors = _one("eigh_vectors", "The eigenvectors (columns) of each symmetric matrix "
                    "(``eigh(a).eigenvectors``; reads the lower triangle).")
svd_u = _one("svd_u", "U of the reduced SVD (``svd(a, full_matrices=False).U``).")
svd_s = _one("svd_s", "The singular values of each matrix, descending.")
svd_vh = _one("svd_vh", "V^T of the reduced SVD (``svd(a, full_matrices=False).Vh``).")
qr_q = _one("qr_q", "Q of the reduced QR decomposition.")
qr_r = _one("qr_r", "R of the reduced QR decomposition.")


def pinv(a: Any, rcond: Optional[float] = None, hermitian: bool = False,
         name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.pinv``: the Moore-Penrose pseudo-inverse (derivative where the rank
    is constant). ``hermitian`` is accepted for NumPy's signature; the SVD gives the same
    result for such input."""
    return apply("pinv", [as_node(a)], name_, rcond=None if rcond is None else float(rcond))


def matrix_rank(a: Any, tol: Optional[float] = None, name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.matrix_rank`` (an integer; no derivative)."""
    return apply("matrix_rank", [as_node(a)], name_, tol=None if tol is None else float(tol))
