"""Gathering, scattering and ordering: take, take_along_axis, index_add (and ``x.at[i]``),
argsort and sort, median and percentiles, diagonals, triangles and trace.

One new op, ``argsort`` (integer positions, no derivative). The rest are compositions of
``getitem`` (whose transpose ``getitem_grad`` adds repeated positions up), ``where`` and
arithmetic, so every derivative here differentiates again.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ShapeError, UnsupportedError
from symgraph.graph import Node
from symgraph.ops.elementwise import add, cast, multiply, subtract, where
from symgraph.ops.rearrange import _axis, _static, _where, moveaxis, ravel
from symgraph.ops.reduce import sum as _sum
from symgraph.ops.registry import Op, apply, as_node, const, register
from symgraph.ops.shape import (_distinct_positions, _encode_index, broadcast_like,
                                broadcast_to, expand_dims, getitem, reshape)
from symgraph.types import TensorType, format_shape


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
            raise ValueError(f"take: mode {mode!r} needs indices known when the graph is built "
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
    """``x.at[index]``: ``.add(v)`` (index_add), ``.get()`` (x[index]) in JAX's style."""

    __slots__ = ("_x", "_index")

    def __init__(self, x: Node, index: Any) -> None:
        self._x, self._index = x, index

    def get(self) -> Node:
        return getitem(self._x, self._index)

    def add(self, values: Any) -> Node:
        return index_add(self._x, self._index, values)

    def subtract(self, values: Any) -> Node:
        return index_add(self._x, self._index, multiply(as_node(values), -1))


class IndexUpdateHelper:
    """What ``node.at`` returns: index it to pick the positions to update."""

    __slots__ = ("_x",)

    def __init__(self, x: Node) -> None:
        self._x = x

    def __getitem__(self, index: Any) -> IndexUpdate:
        return IndexUpdate(self._x, index)


# --- ordering -------------------------------------------------------------------------------
def _argsort_infer(types, attrs, where):
    x = types[0]
    if x.dtype.kind == "c":
        raise ShapeError(f"argsort: complex values have no order{where}")
    return TensorType(x.shape, np.dtype(np.int64))


def _argsort_kernel(x, axis=-1):
    # stable, so equal values keep their order (and sort's derivative picks one of them)
    return np.argsort(x, axis=axis, kind="stable")


register(Op("argsort", _argsort_infer, _argsort_kernel, differentiable=False,
            doc="positions that sort x along axis (stable)"))


def argsort(x: Any, axis: Optional[int] = -1, kind: Optional[str] = None,
            order: Any = None, *, stable: Optional[bool] = None) -> Node:
    """Positions that sort ``x`` along ``axis`` (of the flattened ``x`` if None); stable."""
    x = as_node(x)
    if order is not None:
        raise ValueError(f"argsort: order= sorts structured arrays, which symgraph has not{_where()}")
    if axis is None:
        x, axis = ravel(x), 0
    return apply("argsort", [x], axis=_axis("argsort", axis, x.ndim))


def sort(x: Any, axis: Optional[int] = -1, kind: Optional[str] = None,
         order: Any = None, *, stable: Optional[bool] = None) -> Node:
    """``x`` sorted along ``axis``; the derivative follows each element to its place."""
    x = as_node(x)
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, argsort(x, axis, order=order), axis)


def quantile(x: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False) -> Node:
    """NumPy's ``quantile`` (``q`` in [0, 1]) with linear interpolation between sorted values.

    The derivative is the interpolation weights of the two neighbours (ties share nothing:
    the stable sort gives each element its own place).
    """
    if out is not None:
        raise UnsupportedError("quantile: out= cannot hold a symbolic result; use the returned node")
    if method != "linear":
        raise ValueError(f"quantile: only method='linear' (NumPy's default) is supported, "
                         f"got {method!r}{_where()}")
    x = as_node(x)
    qs = np.asarray(q, dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"quantile: q must lie in [0, 1], got {qs.tolist()}{_where()}")
    ndim = x.ndim
    if axis is None:
        flat, a = ravel(x), 0
        axes: tuple[int, ...] = tuple(range(ndim))
    else:
        axes = tuple(sorted({_axis("quantile", ax, ndim) for ax in
                             ((axis,) if isinstance(axis, (int, np.integer)) else axis)}))
        # the reduced axes moved last and merged into one
        flat = moveaxis(x, axes, tuple(range(ndim - len(axes), ndim)))
        if len(axes) > 1:
            _static("quantile", x, range(ndim))
            keep = flat.shape[:ndim - len(axes)]
            flat = reshape(flat, keep + (-1,))
        a = flat.ndim - 1
    _static("quantile", flat, [a])
    n = flat.shape[a]
    s = sort(flat, axis=a)
    pos = qs.ravel() * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    # gather the neighbours as a new leading axis of length len(q)
    lead = (slice(None),) * a
    low, high = moveaxis(getitem(s, lead + (lo,)), a, 0), moveaxis(getitem(s, lead + (hi,)), a, 0)
    rest = low.ndim - 1
    dtype = _quantile_dtype(x, q)
    w = const(frac.reshape((-1,) + (1,) * rest).astype(dtype))
    out_ = add(low, multiply(subtract(high, low), w))   # low + (high - low) * frac
    if keepdims:
        out_ = expand_dims(out_, tuple(1 + ax for ax in (axes if axis is not None else range(ndim))))
    if qs.ndim == 0:
        return getitem(out_, 0)
    return out_ if qs.ndim == 1 else reshape(out_, qs.shape + _static_shape(out_)[1:])


def _static_shape(x: Node) -> tuple[int, ...]:
    _static("quantile", x, range(x.ndim))
    return tuple(x.shape)


def _quantile_dtype(x: Node, q: Any) -> np.dtype:
    # NumPy's result dtype: x's float type, promoted by q when q is an array
    if isinstance(q, (int, float)):
        return _float(x)
    return np.result_type(_float(x), np.asarray(q).dtype, np.float16)


def _float(x: Node) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def percentile(x: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False) -> Node:
    """NumPy's ``percentile``: ``quantile`` with ``q`` in percent."""
    return quantile(x, _percent(q), axis, out, overwrite_input, method, keepdims)


def _percent(q: Any) -> Any:
    # a Python number stays one (weak, as NumPy treats it); arrays keep their float dtype
    if isinstance(q, (int, float)):
        return q / 100
    return np.asarray(q, dtype=np.result_type(np.asarray(q).dtype, np.float16)) / 100


def median(x: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Node:
    """The middle value along ``axis`` (the mean of the two middle ones for even sizes)."""
    return quantile(x, 0.5, axis, out, overwrite_input, "linear", keepdims)


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
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices{_where()}")
    if not condlist:
        raise ValueError("select: needs at least one condition")
    out = as_node(default)
    # the last condition first, so that earlier ones win: where(c0, v0, where(c1, v1, ...))
    for cond, value in zip(reversed(condlist), reversed(choicelist)):
        out = where(cond, value, out)
    return out


def choose(a: Any, choices: Sequence[Any], out: Any = None, mode: str = "raise") -> Node:
    """``choices[a[i]][i]`` elementwise, for integer ``a``."""
    if out is not None or mode != "raise":
        raise ValueError(f"choose: out= and mode= other than 'raise' are not supported{_where()}")
    from symgraph.ops.elementwise import equal
    a = as_node(a)
    return select([equal(a, k) for k in range(len(choices))], list(choices), 0)


def partition(x: Any, kth: Any, axis: Optional[int] = -1, kind: str = "introselect",
              order: Any = None) -> Node:
    """A valid partition of ``x`` around ``kth``: the fully sorted ``x`` (NumPy leaves the order
    within each side unspecified, so its output may differ element by element)."""
    return sort(x, axis, order=order)


def argpartition(x: Any, kth: Any, axis: Optional[int] = -1, kind: str = "introselect",
                 order: Any = None) -> Node:
    """Positions of a valid partition of ``x`` around ``kth``: those that sort ``x``."""
    return argsort(x, axis, order=order)


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


def diagflat(v: Any, k: int = 0) -> Node:
    """The flattened ``v`` on the ``k`` diagonal of a square matrix."""
    return diag(ravel(v), k)


# --- searching ------------------------------------------------------------------------------
def _searchsorted_infer(types, attrs, where):
    a, v = types
    if a.ndim != 1:
        raise ShapeError(f"searchsorted: the sorted array must be a vector, got "
                         f"{format_shape(a.shape)}{where}")
    return TensorType(v.shape, np.dtype(np.int64))


def _searchsorted_kernel(a, v, side="left"):
    return np.asarray(np.searchsorted(a, v, side=side), dtype=np.int64)


register(Op("searchsorted", _searchsorted_infer, _searchsorted_kernel, differentiable=False,
            doc="where v's entries would go in the sorted vector a"))


def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Node:
    """Positions where ``v``'s entries would be inserted to keep the vector ``a`` sorted."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side is 'left' or 'right', got {side!r}{_where()}")
    a = as_node(a)
    if sorter is not None:
        a = take(a, sorter)
    return apply("searchsorted", [a, as_node(v)], side=side)


def digitize(x: Any, bins: Any, right: bool = False) -> Node:
    """The index of the bin each entry of ``x`` falls in (increasing ``bins``)."""
    bins = as_node(bins)
    if bins.op == "const" and np.ndim(bins.value) == 1 and bins.value.size > 1 \
            and np.all(np.diff(bins.value) <= 0):
        # decreasing bins, as NumPy counts them: from the other end of the reversed bins
        n = bins.value.size
        flipped = const(np.ascontiguousarray(bins.value[::-1]))
        return subtract(n, searchsorted(flipped, x, "left" if right else "right"))
    return searchsorted(bins, x, "left" if right else "right")


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Node:
    """NumPy's piecewise-linear ``interp``; differentiable in ``x``, ``xp`` and ``fp``
    (between the points; at a point the derivative is the right-hand slope)."""
    if period is not None:
        raise ValueError(f"interp: period= is not supported{_where()}")
    x, xp, fp = as_node(x), as_node(xp), as_node(fp)
    if xp.ndim != 1 or fp.ndim != 1:
        raise ShapeError(f"interp: xp and fp must be vectors, got {format_shape(xp.shape)} and "
                         f"{format_shape(fp.shape)}{_where()}")
    _static("interp", xp, [0])
    n = xp.shape[0]
    if n < 2:
        raise ShapeError(f"interp: needs at least two points{_where()}")
    # segment i holds x when xp[i] <= x < xp[i+1]; the outer segments extend to the ends
    from symgraph.ops.elementwise import clip, divide, greater, less
    i = clip(subtract(searchsorted(xp, x, "right"), 1), 0, n - 2)
    x0, x1 = getitem(xp, (i,)), getitem(xp, (add(i, 1),))
    y0, y1 = getitem(fp, (i,)), getitem(fp, (add(i, 1),))
    line = add(y0, multiply(divide(subtract(x, x0), subtract(x1, x0)), subtract(y1, y0)))
    below = getitem(fp, (0,)) if left is None else as_node(left)
    above = getitem(fp, (n - 1,)) if right is None else as_node(right)
    return where(less(x, getitem(xp, (0,))), below,
                 where(greater(x, getitem(xp, (n - 1,))), above, line))


def lexsort(keys: Sequence[Any], axis: int = -1) -> Node:
    """Positions that sort by the last key, ties broken by the one before, and so on."""
    if len(keys) == 0:
        raise ValueError("lexsort: needs at least one key")
    nodes = [as_node(k) for k in keys]
    if nodes[0].ndim != 1 or any(k.shape != nodes[0].shape for k in nodes):
        raise ShapeError(f"lexsort: keys must be vectors of one length, got "
                         f"{', '.join(format_shape(k.shape) for k in nodes)}{_where()}")
    # stable sorts from the least significant key (the first) to the most (the last)
    order = argsort(nodes[0])
    for key in nodes[1:]:
        order = getitem(order, (argsort(getitem(key, (order,))),))
    return order


def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False,
         *, kind: Optional[str] = None) -> Node:
    """Whether each entry of ``element`` occurs in ``test_elements`` (no derivative)."""
    from symgraph.ops.elementwise import equal, greater, logical_not
    e = as_node(element)
    hits = _sum(cast(equal(expand_dims(e, -1), ravel(test_elements)), "int64"), -1)
    found = greater(hits, 0)
    return logical_not(found) if invert else found


# --- quantiles that skip NaN ----------------------------------------------------------------
def nanquantile(x: Any, q: Any, axis: Optional[int] = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False) -> Node:
    """``quantile`` of the entries that are not NaN (NaN where a slice has none)."""
    if out is not None:
        raise UnsupportedError("nanquantile: out= cannot hold a symbolic result; use the returned node")
    if method != "linear":
        raise ValueError(f"nanquantile: only method='linear' is supported, got {method!r}{_where()}")
    from symgraph.ops.elementwise import equal, maximum, minimum
    x = as_node(x)
    if axis is None:
        flat, a = ravel(x), 0
    else:
        a = _axis("nanquantile", axis, x.ndim)
        flat = x
    _static("nanquantile", flat, [a])
    n = flat.shape[a]
    qs = np.asarray(q, dtype=np.float64)
    if qs.ndim > 1 or np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"nanquantile: q must be a number or a list in [0, 1]{_where()}")
    s = sort(flat, axis=a)                       # NaN sorts last
    dtype = _quantile_dtype(x, q)
    count = _sum(cast(equal(flat, flat), "int64"), a, keepdims=True)    # NaN != NaN
    last = maximum(subtract(count, 1), 0)                # the last entry that is not NaN
    results = []
    for qk in np.atleast_1d(qs):
        pos = multiply(subtract(cast(count, dtype), 1), float(qk))   # data-dependent: no derivative
        lo = cast(maximum(pos, 0.0), "int64")            # floor, as pos >= 0
        hi = minimum(add(lo, 1), last)
        frac = subtract(pos, cast(lo, dtype))
        low, high = take_along_axis(s, lo, a), take_along_axis(s, hi, a)
        # all-NaN slices: pos < 0 gathers the NaN at position 0, as NumPy returns NaN
        value = add(low, multiply(subtract(high, low), frac))
        results.append(value if keepdims and axis is not None else _squeeze_axis(value, a))
    if qs.ndim == 0:
        out_ = results[0]
    else:
        from symgraph.ops.shape import stack
        out_ = stack(results, 0)
    if keepdims and axis is None:
        out_ = reshape(out_, qs.shape + (1,) * x.ndim)
    return out_


def _squeeze_axis(x: Node, axis: int) -> Node:
    from symgraph.ops.shape import squeeze
    return squeeze(x, axis)


def nanpercentile(x: Any, q: Any, axis: Optional[int] = None, out: Any = None,
                  overwrite_input: bool = False, method: str = "linear",
                  keepdims: bool = False) -> Node:
    """``percentile`` of the entries that are not NaN."""
    return nanquantile(x, _percent(q), axis, out, overwrite_input, method, keepdims)


def nanmedian(x: Any, axis: Optional[int] = None, out: Any = None,
              overwrite_input: bool = False, keepdims: bool = False) -> Node:
    """The median of the entries that are not NaN."""
    return nanquantile(x, 0.5, axis, out, overwrite_input, "linear", keepdims)
