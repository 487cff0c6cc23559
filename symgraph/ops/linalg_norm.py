"""Norms: one ``vector_norm`` op (every ``ord`` NumPy takes, over any axes) and the matrix
norms composed from it, from sums of absolute values and from singular values.

At x = 0 every norm is a kink. The rules pick the finite subgradient 0 there (the centre of
the subdifferential, the unit ball of the dual norm), so ``grad(norm(x))`` at 0 is 0, never
NaN: see docs/linalg.md.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from symgraph.errors import ShapeError
from symgraph.graph import Node, _user_location
from symgraph.ops.elementwise import (abs, cast, divide, equal, multiply, power, sign,
                                      where)
from symgraph.ops.linalg_decomp import svd_s
from symgraph.ops.linalg_util import COMPLEX_OK
from symgraph.ops.reduce import max, min, sum
from symgraph.ops.registry import Op, apply, as_node, register
from symgraph.ops.shape import expand_dims, transpose
from symgraph.types import TensorType, normalize_axes


def _norm_infer(types, attrs, where):
    x = types[0]
    axes = normalize_axes("norm", attrs["axis"], x.ndim, where)
    if attrs["keepdims"]:
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    else:
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    dtype = x.dtype if x.dtype.kind == "f" else (
        np.dtype(np.float64) if x.dtype.kind != "c" else np.finfo(x.dtype).dtype)
    return TensorType(shape, dtype)


def _norm_kernel(x, ord=2.0, axis=(), keepdims=False):
    with np.errstate(divide="ignore"):   # negative ord at 0: NumPy's value, 0, silently
        return np.asarray(np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord))


def _keep(node: Node, y: Node) -> Node:
    if node.attr("keepdims"):
        return y
    return expand_dims(y, normalize_axes("norm", node.attr("axis"), node.inputs[0].ndim))


def _safe(y: Node) -> Node:
    return where(equal(y, 0.0), 1.0, y)


def _direction(x: Node) -> Node:
    """d|x|/dx in the complex convention: sign(x) for real x, conj(x)/|x| for complex x
    (0 at 0 either way)."""
    if x.dtype.kind != "c":
        return sign(x)
    size = abs(x)
    return divide(apply("conj", [x]), where(equal(size, 0.0), 1.0, size))


def _norm_weights(node: Node) -> Optional[Node]:
    """d ||x||_p / dx, broadcast against x; 0 wherever x = 0 (and everywhere at x = 0).

    ||x||_2:    x / ||x||
    ||x||_1:    sign(x)
    ||x||_inf:  sign(x) at the entries of largest |x| (ties share equally), -inf likewise
    ||x||_p:    sign(x) (|x| / ||x||)^(p-1)
    ||x||_0:    a count, no derivative
    For complex x, sign(x) is conj(x)/|x| (and x/||x|| is conj(x)/||x||).
    """
    x, p = node.inputs[0], node.attr("ord")
    y = _keep(node, node)
    if p == 0:
        return None
    if p == 2 and x.dtype.kind != "c":
        return divide(x, _safe(y))
    if p == 1:
        return _direction(x)
    if math.isinf(p):
        hit = cast(equal(abs(x), y), y.dtype)
        axes = normalize_axes("norm", node.attr("axis"), x.ndim)
        return multiply(_direction(x), divide(hit, sum(hit, axes, keepdims=True)))
    ratio = divide(abs(x), _safe(y))
    return multiply(_direction(x), power(where(equal(abs(x), 0.0), 1.0, ratio), p - 1))


def _norm_vjp(node, g):
    w = _norm_weights(node)
    return (None if w is None else multiply(_keep(node, g), w),)


def _norm_jvp(node, t):
    w = _norm_weights(node)
    if w is None:
        return None
    out = sum(multiply(t[0], w), node.attr("axis"), node.attr("keepdims"))
    return apply("real", [out]) if out.dtype.kind == "c" else out


# The rules hold for complex x too (the convention of docs/higher-order.md).
register(Op("vector_norm", _norm_infer, _norm_kernel, _norm_vjp, _norm_jvp, **COMPLEX_OK))


# --- the functions ---------------------------------------------------------------------------
def _where() -> str:
    location = _user_location()
    return f" (built at {location})" if location else ""


def vector_norm(x: Any, axis: Any = None, keepdims: bool = False, ord: Any = 2,
                name_: Optional[str] = None) -> Node:
    """NumPy's ``linalg.vector_norm``: (sum |x|^ord)^(1/ord) over ``axis`` (all by default);
    ord may be any number, ``inf`` or ``-inf``."""
    x = as_node(x)
    try:
        p = float(ord)
    except (TypeError, ValueError):
        raise ShapeError(f"vector_norm: ord must be a number, got {ord!r}{_where()}") from None
    axes = normalize_axes("vector_norm", axis, x.ndim, _where())
    return apply("vector_norm", [x], name_, ord=p, axis=axes, keepdims=bool(keepdims))


def matrix_norm(x: Any, keepdims: bool = False, ord: Any = "fro") -> Node:
    """NumPy's ``linalg.matrix_norm`` over the last two axes."""
    x = as_node(x)
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)


def _matrix_norm(x: Node, ord: Any, axes: tuple, keepdims: bool) -> Node:
    if x.ndim < 2:
        raise ShapeError(f"norm: a matrix norm needs 2 axes, got shape {x.shape}{_where()}")
    r, c = (a % x.ndim for a in axes)
    if r == c:
        raise ShapeError(f"norm: repeated axis in {axes!r}{_where()}")
    if ord in ("fro", None):
        return vector_norm(x, (r, c), keepdims, 2)
    if ord in ("nuc", 2, -2):
        rest = [a for a in range(x.ndim) if a not in (r, c)]
        s = svd_s(transpose(x, rest + [r, c]))
        out = sum(s, -1) if ord == "nuc" else (max(s, -1) if ord == 2 else min(s, -1))
    elif ord in (1, -1, math.inf, -math.inf):
        # ord=1: the largest column sum of |x|; inf: the largest row sum
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        sums = sum(abs(x), inner)
        outer -= outer > inner
        out = max(sums, outer) if ord > 0 else min(sums, outer)
    else:
        raise ShapeError(f"norm: invalid ord {ord!r} for a matrix (1, -1, 2, -2, inf, -inf, "
                         f"'fro', 'nuc'){_where()}")
    if keepdims:
        out = expand_dims(out, tuple(sorted((r, c))))
    return out


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Node:
    """NumPy's ``linalg.norm``: vector norms (any ``ord``) over one axis, matrix norms
    (1, -1, 2, -2, inf, -inf, 'fro', 'nuc') over two, the 2-norm of everything by default.
    The derivative at x = 0 is the subgradient 0 (see docs/linalg.md)."""
    x = as_node(x)
    if axis is None:
        if ord is None:
            return vector_norm(x, None, keepdims, 2)
        if x.ndim == 1:
            return vector_norm(x, None, keepdims, ord)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ShapeError(f"norm: ord={ord!r} needs a 1-d or 2-d input or an axis, got "
                         f"shape {x.shape}{_where()}")
    if isinstance(axis, (int, np.integer)) or len(tuple(axis)) == 1:
        if isinstance(ord, str):
            raise ShapeError(f"norm: ord={ord!r} is a matrix norm; give two axes{_where()}")
        return vector_norm(x, axis, keepdims, 2 if ord is None else ord)
    if len(tuple(axis)) == 2:
        return _matrix_norm(x, ord, tuple(axis), keepdims)
    raise ShapeError(f"norm: axis must be an int or a pair, got {axis!r}{_where()}")
