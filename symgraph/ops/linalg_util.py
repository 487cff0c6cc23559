"""Helpers the linear-algebra families share: type rules for (stacks of) matrices, the
matrix transpose, and the triangle masks that say which entries a LAPACK kernel reads.

NumPy's ``cholesky`` and ``eigh`` read only the lower triangle of their input, so their
derivatives with respect to the upper triangle are zero: a rule first finds the gradient
``G`` of a symmetric argument and then hands it to the lower triangle (``to_lower``).
"""
from __future__ import annotations

import numpy as np

from symgraph.errors import DTypeError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import add, multiply
from symgraph.ops.registry import Op, const
from symgraph.ops.shape import expand_dims, swapaxes_last
from symgraph.types import TensorType, format_shape


# Ops whose rules are right for complex operands too (holomorphic, plain transposes, the
# convention of docs/higher-order.md) say so with this flag (a field np-elementwise adds).
COMPLEX_OK = {"complex_ok": True} if "complex_ok" in Op.__dataclass_fields__ else {}


def mT(x: Node) -> Node:
    """The matrix transpose of a (stack of) matrices."""
    return swapaxes_last(x)


def float_dtype(op: str, t: TensorType, where: str) -> np.dtype:
    """NumPy's linalg result dtype: float32 stays, integers become float64."""
    if t.dtype.kind == "b":
        raise DTypeError(f"{op}: boolean input {t}{where}")
    if t.dtype.kind in "fc":
        return t.dtype
    return np.dtype(np.float64)


def square_infer(op: str, t: TensorType, where: str) -> tuple:
    """The shape of a stack of square matrices, checked."""
    if t.ndim < 2:
        raise ShapeError(f"{op}: needs a matrix or a stack of matrices, got shape "
                         f"{format_shape(t.shape)}{where}")
    m, n = t.shape[-2:]
    if m is not None and n is not None and m != n:
        raise ShapeError(f"{op}: needs square matrices, got shape {format_shape(t.shape)}{where}")
    return t.shape


def matrix_infer(op: str, t: TensorType, where: str) -> tuple:
    if t.ndim < 2:
        raise ShapeError(f"{op}: needs a matrix or a stack of matrices, got shape "
                         f"{format_shape(t.shape)}{where}")
    return t.shape


def known(x: Node, axis: int, what: str) -> int:
    size = x.shape[axis]
    if size is None:
        raise ShapeError(f"{what}: the derivative needs the matrix size, unknown in "
                         f"{format_shape(x.shape)}{x.where()}")
    return size


def mask(x: Node, kind: str) -> Node:
    """A constant (n, n) mask of x's dtype: "lower" (tril), "strict" (tril, -1),
    "upper_strict" (triu, 1), "eye", "phi" (tril with the diagonal halved), "off" (1 - I)."""
    n = known(x, -1, x.op)
    ones = np.ones((n, n))
    table = {"lower": np.tril(ones), "strict": np.tril(ones, -1), "upper": np.triu(ones),
             "upper_strict": np.triu(ones, 1), "eye": np.eye(n),
             "phi": np.tril(ones) - 0.5 * np.eye(n), "off": ones - np.eye(n)}
    return const(table[kind].astype(x.dtype))


def sym_from_lower(t: Node) -> Node:
    """The symmetric matrix a lower-triangle-reading kernel sees for the tangent ``t``:
    tril(t) + tril(t, -1)^T."""
    return add(multiply(t, mask(t, "lower")), mT(multiply(t, mask(t, "strict"))))


def to_lower(s: Node) -> Node:
    """The cotangent of a lower-triangle-reading kernel's input from ``s``, a gradient for
    its symmetric argument M (<s, dM> is the change for every symmetric dM): entry (i, j)
    below the diagonal moves M_ij and M_ji, so it gets s_ij + s_ji; a diagonal entry gets
    s_ii; the upper triangle, never read, gets 0."""
    return multiply(add(s, mT(s)), mask(s, "phi"))


def as_row(v: Node) -> Node:
    """v[..., None, :]: ``X * as_row(v)`` is X diag(v)."""
    return expand_dims(v, v.ndim - 1)


def as_col(v: Node) -> Node:
    """v[..., :, None]: ``as_col(v) * X`` is diag(v) X."""
    return expand_dims(v, v.ndim)
