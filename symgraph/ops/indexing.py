"""Gathering, scattering and picking: take, take_along_axis, index_add (and ``x.at[i]``),
diagonals, triangles and trace, select and choose, isin.

No new op: all are compositions of ``getitem`` (whose transpose ``getitem_grad`` adds
repeated positions up), ``where`` and arithmetic, so every derivative here differentiates
again. Sorting, quantiles and searching are in ``ops/ordering.py``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError, UnsupportedError
from symgraph.graph import Node
from symgraph.ops.elementwise import add, cast, multiply, where
from symgraph.ops.rearrange import _axis, _static, _where, moveaxis, ravel
from symgraph.ops.reduce import sum as _sum
from symgraph.ops.registry import apply, as_node, const
from symgraph.ops.shape import (_distinct_positions, _encode_index, broadcast_like,
                                broadcast_to, expand_dims, getitem)
from symgraph.types import format_shape


# --- take -----------------------------------------------------------------------------------
def take(x: Any, indices: Any, axis: Optional[int] = None, out: Any = None,
         mode: str = "raise") -> Node:
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` if None).

    ``mode`` "wrap" and "clip" apply to indices known when the graph is built.
    """
    if out is not None:
        raise UnsupportedError("take: out= cannot hold a symbolic result; use the returned node")
    x = as_node(x)
    if axis is None:
        x, axis = ravel(x), 0
    a = _axis("take", axis, x.ndim)
    if mode != "raise":
        if mode not in ("wrap", "clip") or isinstance(indices, Node):
            raise ArgumentError(f"take: mode {mode!r} needs indices known when the graph is built "
                             f"and is one of 'raise', 'wrap', 'clip'{_where()}")
        _static("take", x, [a])
        n = x.shape[a]
        indices = np.mod(indices, n) if mode == "wrap" else np.clip(indices, 0, n - 1)
    if isinstance(indices, (int, np.integer)):
        return getitem(x, (slice(None),) * a + (int(indices),))
    return getitem(x, (slice(None),) * a + (indices,))


def _grid(shape: Sequence[int], axis: int) -> list[np.ndarray]:
    # arange(n_k) shaped to broadcast along axis k only
    return [np.arange(n).reshape((1,) * k + (n,) + (1,) * (len(shape) - k - 1))
            for k, n in enumerate(shape) if k != axis]


def take_along_axis(x: Any, indices: Any, axis: Optional[int]) -> Node:
    """``x`` picked along ``axis`` by ``indices`` of the same number of axes."""
    x = as_node(x)
    if axis is None:
        return take_along_axis(ravel(x), indices, 0)
    idx = as_node(indices)
    a = _axis("take_along_axis", axis, x.ndim)
    if idx.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices {format_shape(idx.shape)} need as many axes "
                         f"as x {format_shape(x.shape)}{_where()}")
    if idx.dtype.kind not in "iu":
        raise ShapeError(f"take_along_axis: indices must be integers, got {idx.dtype}{_where()}")
    _static("take_along_axis", x, [k for k in range(x.ndim) if k != a])
    grid = _grid(x.shape, a)
    return getitem(x, tuple(grid[:a]) + (idx,) + tuple(grid[a:]))


# --- scatter-add ----------------------------------------------------------------------------
def index_add(x: Any, index: Any, values: Any) -> Node:
    """``x`` with ``values`` added at ``x[index]``; repeated positions add up (``np.add.at``).

    The same as JAX's ``x.at[index].add(values)``, which ``Node.at`` also offers.
    """
    x = as_node(x)
    spec, arrays = _encode_index(index)
    picked = apply("getitem", [x, *arrays], index=spec)
    v = cast(as_node(values), x.dtype)
    if v.shape != picked.shape:
        v = (broadcast_to(v, picked.shape) if None not in picked.shape
             else broadcast_like(v, picked))
    # getitem_grad places a picked-shape array into zeros of x's shape; its rules exist
    scatter = apply("getitem_grad", [v, x, *arrays], index=spec,
                    distinct=_distinct_positions(x, spec, arrays))
    return add(x, scatter)


class IndexUpdate:
    """``x.at[index]``: ``.add(v)`` (index_add), ``.set(v)``, ``.get()`` in JAX's style."""

    __slots__ = ("_x", "_index")

    def __init__(self, x: Node, index: Any) -> None:
        self._x, self._index = x, index

    def get(self) -> Node:
        return getitem(self._x, self._index)

    def add(self, values: Any) -> Node:
        return index_add(self._x, self._index, values)

    def subtract(self, values: Any) -> Node:
        return index_add(self._x, self._index, multiply(as_node(values), -1))

    def set(self, values: Any) -> Node:
        """``x`` with ``values`` at ``x[index]``; values aimed at one position add up (JAX
        leaves that case unspecified)."""
        x = self._x
        zeros = broadcast_like(const(np.zeros((), x.dtype)), x)
        hit = index_add(zeros, self._index, 1.0)      # > 0 exactly at the indexed positions
        from symgraph.ops.elementwise import greater
        return where(greater(hit, 0.0), index_add(zeros, self._index, values), x)


class IndexUpdateHelper:
    """What ``node.at`` returns: index it to pick the positions to update."""

    __slots__ = ("_x",)

    def __init__(self, x: Node) -> None:
        self._x = x

    def __getitem__(self, index: Any) -> IndexUpdate:
        return IndexUpdate(self._x, index)


# --- diagonals, triangles, trace ------------------------------------------------------------
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """The ``offset`` diagonal of the matrices in axes ``axis1``, ``axis2``, as the last axis."""
    x = as_node(x)
    a, b = _axis("diagonal", axis1, x.ndim), _axis("diagonal", axis2, x.ndim)
    if a == b:
        raise ShapeError(f"diagonal: axis1 and axis2 must differ, got {a}{_where()}")
    _static("diagonal", x, [a, b])
    offset = int(offset)
    rows, cols = x.shape[a], x.shape[b]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = np.arange(n) + max(-offset, 0)
    j = np.arange(n) + max(offset, 0)
    moved = moveaxis(x, (a, b), (x.ndim - 2, x.ndim - 1))
    return getitem(moved, (Ellipsis, i, j))


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Node:
    """The sum of the ``offset`` diagonal."""
    if out is not None:
        raise UnsupportedError("trace: out= cannot hold a symbolic result; use the returned node")
    d = diagonal(x, offset, axis1, axis2)
    return _sum(d if dtype is None else cast(d, dtype), -1)


def diag(v: Any, k: int = 0) -> Node:
    """A vector's entries on the ``k`` diagonal of a square matrix, or a matrix's ``k`` diagonal."""
    v = as_node(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError(f"diag: takes a vector or a matrix, got {format_shape(v.shape)}{_where()}")
    _static("diag", v, [0])
    n, k = v.shape[0], int(k)
    m = n + abs(k)
    i = np.arange(n) + max(-k, 0)
    j = np.arange(n) + max(k, 0)
    zeros = const(np.zeros((m, m), dtype=v.dtype))
    return index_add(zeros, (i, j), v)


def _triangle(op: str, x: Any, k: int, lower: bool) -> Node:
    x = as_node(x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 axes, got {format_shape(x.shape)}{_where()}")
    _static(op, x, [x.ndim - 2, x.ndim - 1])
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, k, dtype=bool)
    mask = keep if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
    return where(const(mask), x, const(np.zeros((), x.dtype)))


def tril(x: Any, k: int = 0) -> Node:
    """``x`` with the entries above the ``k`` diagonal set to zero."""
    return _triangle("tril", x, int(k), lower=True)


def triu(x: Any, k: int = 0) -> Node:
    """``x`` with the entries below the ``k`` diagonal set to zero."""
    return _triangle("triu", x, int(k), lower=False)


# --- choosing between values ----------------------------------------------------------------
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Node:
    """The first choice whose condition holds, elementwise, else ``default``."""
    if len(condlist) != len(choicelist):
        raise ArgumentError(f"select: {len(condlist)} conditions for {len(choicelist)} choices{_where()}")
    if not condlist:
        raise ArgumentError("select: needs at least one condition")
    out = as_node(default)
    # the last condition first, so that earlier ones win: where(c0, v0, where(c1, v1, ...))
    for cond, value in zip(reversed(condlist), reversed(choicelist)):
        out = where(cond, value, out)
    return out


def choose(a: Any, choices: Sequence[Any], out: Any = None, mode: str = "raise") -> Node:
    """``choices[a[i]][i]`` elementwise, for integer ``a``."""
    if out is not None or mode != "raise":
        raise ArgumentError(f"choose: out= and mode= other than 'raise' are not supported{_where()}")
    from symgraph.ops.elementwise import equal
    a = as_node(a)
    return select([equal(a, k) for k in range(len(choices))], list(choices), 0)


def tril_indices_from(x: Any, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The row and column indices of the lower triangle of ``x`` (they depend on its shape only)."""
    x = as_node(x)
    _static("tril_indices_from", x, range(x.ndim))
    return np.tril_indices(x.shape[-2], k, x.shape[-1])


def triu_indices_from(x: Any, k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The row and column indices of the upper triangle of ``x`` (they depend on its shape only)."""
    x = as_node(x)
    _static("triu_indices_from", x, range(x.ndim))
    return np.triu_indices(x.shape[-2], k, x.shape[-1])


def diag_indices_from(x: Any) -> tuple[np.ndarray, ...]:
    """The indices of the main diagonal of the square ``x`` (they depend on its shape only)."""
    x = as_node(x)
    _static("diag_indices_from", x, range(x.ndim))
    if x.ndim < 2 or len(set(x.shape)) != 1:
        raise ShapeError(f"diag_indices_from: needs a square array, got "
                         f"{format_shape(x.shape)}{_where()}")
    return np.diag_indices(x.shape[0], x.ndim)


def diagflat(v: Any, k: int = 0) -> Node:
    """The flattened ``v`` on the ``k`` diagonal of a square matrix."""
    return diag(ravel(v), k)


def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False,
         *, kind: Optional[str] = None) -> Node:
    """Whether each entry of ``element`` occurs in ``test_elements`` (no derivative)."""
    from symgraph.ops.elementwise import equal, greater, logical_not
    e = as_node(element)
    hits = _sum(cast(equal(expand_dims(e, -1), ravel(test_elements)), "int64"), -1)
    found = greater(hits, 0)
    return logical_not(found) if invert else found
