"""Inverse, determinants, linear solves and the Cholesky factor, on (stacks of) matrices.

Every rule below states its math first; products are matmuls of stacks, ``^T`` is the
matrix transpose of the last two axes, and batch broadcasting is undone by the reverse pass.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import _sum_tangents, multiply, negative
from symgraph.ops.linalg import matmul
from symgraph.ops.linalg_util import (COMPLEX_OK, as_col, float_dtype, mT, mask, square_infer,
                                      sym_from_lower, to_lower)
from symgraph.ops.reduce import sum
from symgraph.ops.registry import Op, apply, as_node, register
from symgraph.ops.shape import expand_dims, squeeze
from symgraph.types import TensorType, broadcast_shapes, format_shape


def _square_same(op: str):
    def infer(types, attrs, where):
        return TensorType(square_infer(op, types[0], where), float_dtype(op, types[0], where))
    return infer


def _square_batch(op: str):
    def infer(types, attrs, where):
        shape = square_infer(op, types[0], where)
        return TensorType(shape[:-2], float_dtype(op, types[0], where))
    return infer


def _entries(x: Node) -> Node:
    """A batch of scalars as factors of a batch of matrices: x[..., None, None]."""
    return expand_dims(x, (x.ndim, x.ndim + 1))


def _trace_of_product(a: Node, b: Node) -> Node:
    """tr(a b) for stacks: sum_ij a_ji b_ij."""
    return sum(multiply(mT(a), b), axis=(-2, -1))


# --- inv ------------------------------------------------------------------------------------
# d A^-1 = -A^-1 dA A^-1, so with Y = A^-1: JVP -Y dA Y and VJP -Y^T g Y^T.
def _inv_vjp(node, g): return (negative(matmul(mT(node), matmul(g, mT(node)))),)
def _inv_jvp(node, t): return negative(matmul(node, matmul(t[0], node)))


# --- det and log|det| -----------------------------------------------------------------------
# d det(A) = det(A) tr(A^-1 dA), so the VJP is g det(A) A^-T.
def _det_vjp(node, g):
    return (multiply(_entries(multiply(g, node)), mT(inv(node.inputs[0]))),)


def _det_jvp(node, t):
    return multiply(node, _trace_of_product(inv(node.inputs[0]), t[0]))


# d log|det(A)| = tr(A^-1 dA), so the VJP is g A^-T (the sign has no derivative).
def _logabsdet_vjp(node, g): return (multiply(_entries(g), mT(inv(node.inputs[0]))),)
def _logabsdet_jvp(node, t): return _trace_of_product(inv(node.inputs[0]), t[0])


# --- solve ----------------------------------------------------------------------------------
def _solve_infer(types, attrs, where):
    a, b = types
    square_infer("solve", a, where)
    m = a.shape[-1]
    if b.ndim == 1:
        if None not in (m, b.shape[0]) and m != b.shape[0]:
            raise ShapeError(f"solve: a of shape {format_shape(a.shape)} and b of shape "
                             f"{format_shape(b.shape)} do not fit{where}")
        shape = a.shape[:-1]
    else:
        if None not in (m, b.shape[-2]) and m != b.shape[-2]:
            raise ShapeError(f"solve: a of shape {format_shape(a.shape)} and b of shape "
                             f"{format_shape(b.shape)} do not fit (b's axis -2 must be "
                             f"{m}; a vector b is 1-d){where}")
        shape = broadcast_shapes("solve", [a.shape[:-2], b.shape[:-2]], where) + (m, b.shape[-1])
    dtype = np.result_type(float_dtype("solve", a, where), float_dtype("solve", b, where))
    return TensorType(shape, dtype)


def _lift(b: Node, x: Node, *more: Node):
    """Vector right-hand sides as one-column matrices (NumPy 2 reads a 2-d b as matrices)."""
    if b.ndim == 1:
        return (as_col(x),) + tuple(as_col(m) for m in more)
    return (x,) + more


def _drop(b: Node, y: Node) -> Node:
    return squeeze(y, y.ndim - 1) if b.ndim == 1 else y


# X = A^-1 B:  dX = A^-1 (dB - dA X);  VJP: B_bar = A^-T g,  A_bar = -B_bar X^T.
def _solve_vjp(node, g):
    a, b = node.inputs
    G, X = _lift(b, g, node)
    gb = solve(mT(a), G)
    # the minus sign on B_bar (m x k), not on the m x m product
    return (matmul(negative(gb), mT(X)), _drop(b, gb))


def _solve_jvp(node, t):
    a, b = node.inputs
    (X,) = _lift(b, node)
    rhs = _sum_tangents(None if t[1] is None else _lift(b, t[1])[0],
                        None if t[0] is None else negative(matmul(t[0], X)))
    return _drop(b, solve(a, rhs))


# --- solve_triangular -----------------------------------------------------------------------
def _triangle(a, lower=True, unit_diagonal=False):
    t = np.tril(a, -1 if unit_diagonal else 0) if lower else np.triu(a, 1 if unit_diagonal else 0)
    if unit_diagonal:
        t = t + np.eye(a.shape[-1], dtype=t.dtype)
    return t


def _solve_triangular_kernel(a, b, lower=True, trans=False, unit_diagonal=False):
    t = _triangle(np.asarray(a), lower, unit_diagonal)
    return np.linalg.solve(np.swapaxes(t, -1, -2) if trans else t, b)


def _solve_triangular_infer(types, attrs, where):
    return _solve_infer(types, attrs, where.replace("solve", "solve_triangular"))


def _triangle_mask(node: Node, x: Node) -> Node:
    lower, unit = node.attr("lower"), node.attr("unit_diagonal")
    return mask(x, ("strict" if unit else "lower") if lower else ("upper_strict" if unit else "upper"))


# X = op(T)^-1 B with T the (unit-)triangle of A and op(T) = T or T^T:
#   dX = op(T)^-1 (dB - op(dT) X);  VJP: B_bar = op(T)^-T g,  op(T)_bar = -B_bar X^T,
#   masked to the triangle the kernel reads.
def _solve_triangular_vjp(node, g):
    a, b = node.inputs
    G, X = _lift(b, g, node)
    gb = _solve_tri(a, G, node.attr("lower"), not node.attr("trans"), node.attr("unit_diagonal"))
    gop = negative(matmul(gb, mT(X)))
    ga = mT(gop) if node.attr("trans") else gop
    return (multiply(ga, _triangle_mask(node, a)), _drop(b, gb))


def _solve_triangular_jvp(node, t):
    a, b = node.inputs
    (X,) = _lift(b, node)
    dop = None
    if t[0] is not None:
        dt = multiply(t[0], _triangle_mask(node, a))
        dop = mT(dt) if node.attr("trans") else dt
    rhs = _sum_tangents(None if t[1] is None else _lift(b, t[1])[0],
                        None if dop is None else negative(matmul(dop, X)))
    return _drop(b, _solve_tri(a, rhs, node.attr("lower"), node.attr("trans"),
                               node.attr("unit_diagonal")))


# --- cholesky -------------------------------------------------------------------------------
# A = L L^T, reading A's lower triangle (NumPy's UPLO='L'); M is the symmetric matrix read.
#   JVP: dL = L Phi(L^-1 dM L^-T), Phi = lower triangle with the diagonal halved.
#   VJP: S = L^-T Phi(L^T L_bar) L^-1 is the gradient for symmetric dM (<S, dM> = <L_bar, dL>);
#   handed to the lower triangle it is (S + S^T) there, with the diagonal halved.
# L^-1 is one inv node shared by both products: an inverse and two matmuls cost less than
# two triangular solves with n right-hand sides through LAPACK's general solver.
def _cholesky_jvp(node, t):
    li = inv(node)
    inner = matmul(li, matmul(sym_from_lower(t[0]), mT(li)))
    return matmul(node, multiply(inner, mask(node, "phi")))


def _cholesky_vjp(node, g):
    li = inv(node)
    p = multiply(matmul(mT(node), g), mask(node, "phi"))
    return (to_lower(matmul(mT(li), matmul(p, li))),)


# inv, det, solve and solve_triangular are holomorphic: their rules hold for complex input.
register(Op("inv", _square_same("inv"), np.linalg.inv, _inv_vjp, _inv_jvp, **COMPLEX_OK))
register(Op("det", _square_batch("det"), lambda a: np.asarray(np.linalg.det(a)), _det_vjp,
            _det_jvp, **COMPLEX_OK))
register(Op("logabsdet", _square_batch("logabsdet"),
            lambda a: np.asarray(np.linalg.slogdet(a)[1]), _logabsdet_vjp, _logabsdet_jvp))
register(Op("slogdet_sign", _square_batch("slogdet_sign"),
            lambda a: np.asarray(np.linalg.slogdet(a)[0]), differentiable=False))
register(Op("solve", _solve_infer, np.linalg.solve, _solve_vjp, _solve_jvp, **COMPLEX_OK))
register(Op("solve_triangular", _solve_triangular_infer, _solve_triangular_kernel,
            _solve_triangular_vjp, _solve_triangular_jvp, **COMPLEX_OK))
register(Op("cholesky", _square_same("cholesky"), np.linalg.cholesky, _cholesky_vjp, _cholesky_jvp))


# --- the functions ---------------------------------------------------------------------------
def inv(a: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.inv``: the inverse of each square matrix."""
    return apply("inv", [as_node(a)], name_)


def det(a: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.det``: the determinant of each square matrix."""
    return apply("det", [as_node(a)], name_)


def logabsdet(a: Any, name_: Optional[str] = None) -> Node:
    """log|det(a)| of each square matrix (``slogdet(a).logabsdet``)."""
    return apply("logabsdet", [as_node(a)], name_)


def slogdet_sign(a: Any, name_: Optional[str] = None) -> Node:
    """The sign of det(a) (``slogdet(a).sign``; no derivative)."""
    return apply("slogdet_sign", [as_node(a)], name_)


def solve(a: Any, b: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.solve``: x with a @ x = b; b is a vector (1-d) or a stack of matrices."""
    return apply("solve", [as_node(a), as_node(b)], name_)


def _solve_tri(a: Node, b: Node, lower: bool, trans: bool, unit_diagonal: bool = False,
               name_: Optional[str] = None) -> Node:
    return apply("solve_triangular", [a, b], name_, lower=bool(lower), trans=bool(trans),
                 unit_diagonal=bool(unit_diagonal))


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, name_: Optional[str] = None) -> Node:
    """SciPy's ``linalg.solve_triangular`` (on stacks too): x with op(T) @ x = b, T the
    lower or upper triangle of ``a`` (unit diagonal if asked), op(T) = T or T^T
    (``trans`` 0/'N' or 1/'T')."""
    if trans in (0, "N"):
        flag = False
    elif trans in (1, 2, "T", "C"):
        flag = True
    else:
        raise ArgumentError(f"solve_triangular: trans is 0, 1, 'N' or 'T', got {trans!r}")
    return _solve_tri(as_node(a), as_node(b), lower, flag, unit_diagonal, name_)


def cholesky(a: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.cholesky``: lower-triangular L with a = L L^T (reads a's lower
    triangle, as NumPy does)."""
    return apply("cholesky", [as_node(a)], name_)
