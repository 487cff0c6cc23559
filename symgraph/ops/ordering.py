"""Ordering: argsort and sort, lexsort, partition, median and quantiles (NaN-skipping too),
searchsorted, digitize and interp.

Two ops without derivative, ``argsort`` and ``searchsorted``; the rest are compositions.
``sort`` is ``take_along_axis(x, argsort(x))``, so its derivative follows each element to
its sorted place, and the quantiles interpolate between sorted neighbours.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError, UnsupportedError
from symgraph.graph import Node
from symgraph.ops.elementwise import add, cast, multiply, subtract, where
from symgraph.ops.rearrange import _axis, _static, _where, moveaxis, ravel
from symgraph.ops.reduce import sum as _sum
from symgraph.ops.indexing import take, take_along_axis
from symgraph.ops.registry import Op, apply, as_node, const, register
from symgraph.ops.shape import expand_dims, getitem, reshape
from symgraph.types import TensorType, format_shape


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
        raise ArgumentError(f"argsort: order= sorts structured arrays, which symgraph has not{_where()}")
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
        raise ArgumentError(f"quantile: only method='linear' (NumPy's default) is supported, "
                         f"got {method!r}{_where()}")
    x = as_node(x)
    qs = np.asarray(q, dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        raise ArgumentError(f"quantile: q must lie in [0, 1], got {qs.tolist()}{_where()}")
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


def partition(x: Any, kth: Any, axis: Optional[int] = -1, kind: str = "introselect",
              order: Any = None) -> Node:
    """A valid partition of ``x`` around ``kth``: the fully sorted ``x`` (NumPy leaves the order
    within each side unspecified, so its output may differ element by element)."""
    return sort(x, axis, order=order)


def argpartition(x: Any, kth: Any, axis: Optional[int] = -1, kind: str = "introselect",
                 order: Any = None) -> Node:
    """Positions of a valid partition of ``x`` around ``kth``: those that sort ``x``."""
    return argsort(x, axis, order=order)


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
        raise ArgumentError(f"searchsorted: side is 'left' or 'right', got {side!r}{_where()}")
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
        raise ArgumentError(f"interp: period= is not supported{_where()}")
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
    if isinstance(keys, Node):      # a matrix of keys: its rows
        from symgraph.ops.rearrange import unstack
        keys = unstack(keys, 0)
    if len(keys) == 0:
        raise ArgumentError("lexsort: needs at least one key")
    nodes = [as_node(k) for k in keys]
    if nodes[0].ndim != 1 or any(k.shape != nodes[0].shape for k in nodes):
        raise ShapeError(f"lexsort: keys must be vectors of one length, got "
                         f"{', '.join(format_shape(k.shape) for k in nodes)}{_where()}")
    # stable sorts from the least significant key (the first) to the most (the last)
    order = argsort(nodes[0])
    for key in nodes[1:]:
        order = getitem(order, (argsort(getitem(key, (order,))),))
    return order


# --- quantiles that skip NaN ----------------------------------------------------------------
def nanquantile(x: Any, q: Any, axis: Optional[int] = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear",
                keepdims: bool = False) -> Node:
    """``quantile`` of the entries that are not NaN (NaN where a slice has none)."""
    if out is not None:
        raise UnsupportedError("nanquantile: out= cannot hold a symbolic result; use the returned node")
    if method != "linear":
        raise ArgumentError(f"nanquantile: only method='linear' is supported, got {method!r}{_where()}")
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
        raise ArgumentError(f"nanquantile: q must be a number or a list in [0, 1]{_where()}")
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
