"""Scans along one axis: cumsum (an op), cumprod and diff (compositions of ops), and the
"product of the others" along an axis that prod's derivative needs.

cumsum is linear, so its rules are cumsums too: the transpose of a running sum from the
front is a running sum from the back (``reverse=True``). cumprod is built as a scan of
ceil(log2 n) elementwise products (Hillis and Steele): every step is a multiply and a
shift, so its derivatives to any order are exact with zeros among the inputs, where the
textbook rule y / x divides by zero. prod's derivative uses the same scan from both ends.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import cast, multiply, subtract
from symgraph.ops.registry import Op, apply, as_node, const, no_out, register
from symgraph.ops.shape import broadcast_like, concatenate, getitem, reshape
from symgraph.types import TensorType, format_shape, normalize_axes


def accumulator_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype NumPy sums and multiplies ``dtype`` in: bools and small ints widen."""
    if dtype.kind in "bi":
        return np.dtype(np.int64)
    if dtype.kind == "u":
        return np.dtype(np.uint64)
    return dtype


# --- cumsum -------------------------------------------------------------------------------
def _cumsum_infer(types, attrs, where):
    x = types[0]
    normalize_axes("cumsum", attrs["axis"], x.ndim, where)
    return TensorType(x.shape, accumulator_dtype(x.dtype))


def _cumsum_kernel(x, axis=0, reverse=False):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
    return np.cumsum(x, axis)


# y_k = sum_{i <= k} x_i, so dL/dx_i = sum_{k >= i} g_k: the running sum from the back
def _cumsum_vjp(node, g):
    return (apply("cumsum", [g], axis=node.attr("axis"), reverse=not node.attr("reverse")),)


def _cumsum_jvp(node, t):
    return apply("cumsum", [t[0]], axis=node.attr("axis"), reverse=node.attr("reverse"))


register(Op("cumsum", _cumsum_infer, _cumsum_kernel, _cumsum_vjp, _cumsum_jvp, complex_ok=True))


# --- helpers along one axis -----------------------------------------------------------------
def _along(axis: int, part: slice) -> tuple:
    return (slice(None),) * axis + (part,)


def _flip(x: Node, axis: int) -> Node:
    return getitem(x, _along(axis, slice(None, None, -1)))


def _ones_like(x: Node) -> Node:
    return broadcast_like(const(np.ones((), x.dtype)), x)


def _known_size(x: Node, axis: int, fn: str) -> int:
    n = x.shape[axis]
    if n is None:
        raise ShapeError(f"{fn}: the size of axis {axis} of {x.label} "
                         f"{format_shape(x.shape)} must be known when the graph is built"
                         f"{x.where()}")
    return n


def _shift(x: Node, k: int, axis: int) -> Node:
    """``x`` moved ``k`` places along ``axis``, ones filling the front."""
    n = x.shape[axis]
    if k >= n:
        return _ones_like(x)
    front = _ones_like(getitem(x, _along(axis, slice(0, k))))
    return concatenate([front, getitem(x, _along(axis, slice(0, n - k)))], axis)


def _scan_product(x: Node, axis: int, fn: str) -> Node:
    # Hillis-Steele: after the step with shift k, y_i holds the product of x_{i-2k+1..i}.
    n = _known_size(x, axis, fn)
    y, k = x, 1
    while k < n:
        y = multiply(y, _shift(y, k, axis))
        k *= 2
    return y


def exclusive_product(x: Node, axis: int) -> Node:
    """prod_{j != i} x_j along ``axis`` for every i, exact with zeros (no division):
    the running product of the elements before i times the one of those after i."""
    before = _shift(_scan_product(x, axis, "prod"), 1, axis)
    after = _flip(_shift(_scan_product(_flip(x, axis), axis, "prod"), 1, axis), axis)
    return multiply(before, after)


def _axis(fn: str, x: Node, axis: Any) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise ArgumentError(f"{fn}: axis must be an int or None, got {axis!r}")
    return normalize_axes(fn, int(axis), x.ndim, x.where())[0]


def _prepare(fn: str, x: Any, axis: Any, dtype: Any) -> tuple[Node, int]:
    x = as_node(x)
    if dtype is not None:
        x = cast(x, dtype)
    elif accumulator_dtype(x.dtype) != x.dtype:
        x = cast(x, accumulator_dtype(x.dtype))
    if axis is None:             # NumPy scans the flattened array
        x = reshape(x, (-1,))
        axis = 0
    return x, _axis(fn, x, axis)


# --- the public functions ------------------------------------------------------------------
def cumsum(x: Any, axis: Optional[int] = None, dtype: Any = None, out: Any = None,
           name_: Optional[str] = None) -> Node:
    """Running sums along ``axis`` (of the flattened array by default), as ``np.cumsum``."""
    no_out("cumsum", out)
    x, axis = _prepare("cumsum", x, axis, dtype)
    return apply("cumsum", [x], name_, axis=axis, reverse=False)


def cumprod(x: Any, axis: Optional[int] = None, dtype: Any = None, out: Any = None) -> Node:
    """Running products along ``axis`` (of the flattened array by default), as
    ``np.cumprod``; its derivatives are exact where some elements are zero. The size of
    ``axis`` must be known when the graph is built."""
    no_out("cumprod", out)
    x, axis = _prepare("cumprod", x, axis, dtype)
    return _scan_product(x, axis, "cumprod")


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Node:
    """The ``n``-th differences along ``axis``, as ``np.diff`` (``prepend``/``append``
    values are joined first; a scalar is repeated across the other axes)."""
    a = as_node(a)
    if n < 0:
        raise ArgumentError(f"diff: order n must be non-negative, got {n}")
    axis = _axis("diff", a, axis)
    def edge(value: Any) -> Node:
        e = as_node(value)
        return broadcast_like(e, getitem(a, _along(axis, slice(0, 1)))) if e.ndim == 0 else e

    items = ([edge(prepend)] if prepend is not None else []) + [a] + (
        [edge(append)] if append is not None else [])
    if len(items) > 1:
        a = concatenate(items, axis)
    for _ in range(n):
        a = subtract(getitem(a, _along(axis, slice(1, None))),
                     getitem(a, _along(axis, slice(None, -1))))
    return a
