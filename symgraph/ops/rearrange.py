"""NumPy's functions that reorder axes or elements: swapaxes, moveaxis, ravel, flip, roll,
rot90, repeat, tile and pad.

Each is a composition of registered ops (transpose, reshape, getitem, concatenate,
broadcast_to) except ``pad``, one op whose transpose is a slice. A composition needs no
derivative rules of its own: its parts' rules differentiate it, to any order.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node, _user_location
from symgraph.ops.registry import Op, apply, as_node, register
from symgraph.ops.shape import broadcast_to, concatenate, expand_dims, getitem, reshape, transpose
from symgraph.types import TensorType, format_shape, normalize_axes


def _where() -> str:
    location = _user_location()
    return f" (built at {location})" if location else ""


def _axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    return normalize_axes(op, axis, ndim, _where())


def _axis(op: str, axis: int, ndim: int) -> int:
    return _axes(op, int(axis), ndim)[0]


def _static(op: str, x: Node, axes: Sequence[int]) -> None:
    """Raise when one of ``axes`` of ``x`` has a size known only at run time."""
    for a in axes:
        if x.shape[a] is None:
            raise ShapeError(f"{op}: needs the size of axis {a} of {format_shape(x.shape)} "
                             f"when the graph is built{_where()}")


# --- reordering axes ------------------------------------------------------------------------
def swapaxes(x: Any, axis1: int, axis2: int) -> Node:
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    x = as_node(x)
    a, b = _axis("swapaxes", axis1, x.ndim), _axis("swapaxes", axis2, x.ndim)
    perm = list(range(x.ndim))
    perm[a], perm[b] = b, a
    return transpose(x, perm)


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Node:
    """``x`` with axes ``source`` moved to positions ``destination``, the rest in order."""
    x = as_node(x)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} differ in "
                         f"length{_where()}")
    src = [_axis("moveaxis", a, x.ndim) for a in src]
    dst = [_axis("moveaxis", a, x.ndim) for a in dst]
    rest = [a for a in range(x.ndim) if a not in src]
    perm: list[Optional[int]] = [None] * x.ndim
    for s, d in zip(src, dst):
        perm[d] = s
    fill = iter(rest)
    return transpose(x, [p if p is not None else next(fill) for p in perm])


def ravel(x: Any) -> Node:
    """``x`` as one axis, in row-major order."""
    return reshape(x, (-1,))


flatten = ravel


# --- reordering elements --------------------------------------------------------------------
def flip(x: Any, axis: Any = None) -> Node:
    """``x`` with the order of elements along ``axis`` (every axis by default) reversed."""
    x = as_node(x)
    axes = _axes("flip", axis, x.ndim)
    return getitem(x, tuple(slice(None, None, -1) if a in axes else slice(None)
                            for a in range(x.ndim)))


def roll(x: Any, shift: int | Sequence[int], axis: Any = None) -> Node:
    """``x`` with elements shifted by ``shift`` along ``axis``; those past the end wrap."""
    x = as_node(x)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), _shape_target(x))
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    shifts = [shift] * len(axes) if isinstance(shift, (int, np.integer)) else list(shift)
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: {len(shifts)} shifts for {len(axes)} axes{_where()}")
    out = x
    for s, a in zip(shifts, axes):
        a = _axis("roll", a, x.ndim)
        _static("roll", x, [a])
        k = int(s) % x.shape[a] if x.shape[a] else 0
        if k:
            # roll by k: the last k elements, then the first n - k
            lead = (slice(None),) * a
            out = concatenate([getitem(out, lead + (slice(-k, None),)),
                               getitem(out, lead + (slice(None, -k),))], axis=a)
    return out


def _shape_target(x: Node) -> tuple[int, ...]:
    if sum(1 for d in x.shape if d is None) > 1:
        raise ShapeError(f"more than one unknown size in {format_shape(x.shape)}{_where()}")
    return tuple(-1 if d is None else d for d in x.shape)


def rot90(x: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Node:
    """``x`` rotated by 90 degrees ``k`` times in the plane of ``axes`` (first towards second)."""
    x = as_node(x)
    a, b = (_axis("rot90", ax, x.ndim) for ax in axes)
    if a == b:
        raise ShapeError(f"rot90: axes {tuple(axes)} must differ{_where()}")
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a), b)
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    if k == 1:
        return transpose(flip(x, b), perm)
    return flip(transpose(x, perm), b)


# --- repeating ------------------------------------------------------------------------------
def repeat(x: Any, repeats: int | Sequence[int], axis: Optional[int] = None) -> Node:
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (flattened if None)."""
    x = as_node(x)
    if axis is None:
        x, axis = ravel(x), 0
    a = _axis("repeat", axis, x.ndim)
    _static("repeat", x, [a])
    n = x.shape[a]
    counts = np.asarray(repeats)
    if counts.ndim == 0 or counts.size == 1:
        # (.., n, ..) -> (.., n, r, ..) by broadcasting -> (.., n * r, ..)
        r = int(counts.reshape(()))
        _static("repeat", x, range(x.ndim))
        wide = broadcast_to(expand_dims(x, a + 1), x.shape[:a + 1] + (r,) + x.shape[a + 1:])
        return reshape(wide, x.shape[:a] + (n * r,) + x.shape[a + 1:])
    if counts.shape != (n,) or np.any(counts < 0):
        raise ShapeError(f"repeat: repeats {counts.tolist()} do not fit axis {a} of "
                         f"{format_shape(x.shape)}{_where()}")
    return getitem(x, (slice(None),) * a + (np.repeat(np.arange(n), counts),))


def tile(x: Any, reps: int | Sequence[int]) -> Node:
    """``x`` repeated ``reps`` times as a whole along each axis."""
    x = as_node(x)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    d = max(x.ndim, len(reps))
    _static("tile", x, range(x.ndim))
    shape = (1,) * (d - x.ndim) + tuple(x.shape)
    reps = (1,) * (d - len(reps)) + reps
    # (s0, s1, ..) -> (1, s0, 1, s1, ..) -> (r0, s0, r1, s1, ..) -> (r0 s0, r1 s1, ..)
    spread = reshape(x, tuple(v for s in shape for v in (1, s)))
    wide = broadcast_to(spread, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return reshape(wide, tuple(r * s for r, s in zip(reps, shape)))


# --- pad ------------------------------------------------------------------------------------
def _pad_infer(types, attrs, where):
    x = types[0]
    width = attrs["pad_width"]
    shape = tuple(None if d is None else d + lo + hi for d, (lo, hi) in zip(x.shape, width))
    return TensorType(shape, x.dtype)


def _pad_kernel(x, pad_width=(), value=0):
    return np.pad(x, pad_width, mode="constant", constant_values=value)


# pad is linear in x: its transpose cuts the padding off again, d pad(x) = pad(dx, 0)
def _pad_vjp(node, g):
    return (getitem(g, tuple(slice(lo, -hi if hi else None) for lo, hi in node.attr("pad_width"))),)


def _pad_jvp(node, t):
    return apply("pad", [t[0]], pad_width=node.attr("pad_width"), value=0)


register(Op("pad", _pad_infer, _pad_kernel, _pad_vjp, _pad_jvp,
            doc="constant padding; NumPy's other modes gather x's own elements"))


def _pad_widths(width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    w = np.asarray(width, dtype=np.int64)
    if w.ndim == 0:
        w = np.full((ndim, 2), int(w))
    elif w.shape in ((1,), (2,)) and w.ndim == 1:
        w = np.broadcast_to(w if w.size == 2 else np.repeat(w, 2), (ndim, 2))
    elif w.shape == (1, 2):
        w = np.broadcast_to(w, (ndim, 2))
    if w.shape != (ndim, 2) or np.any(w < 0):
        raise ShapeError(f"pad: pad_width {np.asarray(width).tolist()} does not fit a "
                         f"{ndim}-d input{_where()}")
    return tuple((int(lo), int(hi)) for lo, hi in w)


_GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Node:
    """NumPy's ``pad`` in modes constant, edge, reflect, symmetric and wrap."""
    x = as_node(x)
    width = _pad_widths(pad_width, x.ndim)
    if mode == "constant":
        if np.ndim(constant_values) != 0:
            raise ShapeError(f"pad: constant_values must be one number, got "
                             f"{constant_values!r}{_where()}")
        return apply("pad", [x], pad_width=width, value=np.asarray(constant_values).item())
    if mode not in _GATHER_MODES:
        raise ArgumentError(f"pad: mode {mode!r} is not supported; use one of "
                         f"{('constant',) + _GATHER_MODES}{_where()}")
    out = x
    for a, (lo, hi) in enumerate(width):
        if lo or hi:
            _static("pad", x, [a])
            # NumPy pads the positions 0..n-1 the same way, which gives the gather index
            index = np.pad(np.arange(x.shape[a]), (lo, hi), mode=mode)
            out = getitem(out, (slice(None),) * a + (index,))
    return out


# --- NumPy's other rearrangements ------------------------------------------------------------
def rollaxis(x: Any, axis: int, start: int = 0) -> Node:
    """NumPy's older ``rollaxis``: axis ``axis`` moved to lie before position ``start``."""
    x = as_node(x)
    a = _axis("rollaxis", axis, x.ndim)
    start = int(start) + (x.ndim if start < 0 else 0)
    if not 0 <= start <= x.ndim:
        raise ShapeError(f"rollaxis: start {start} is out of range for {x.ndim}-d input{_where()}")
    if a < start:
        start -= 1
    return x if a == start else moveaxis(x, a, start)


def unstack(x: Any, axis: int = 0) -> tuple[Node, ...]:
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``stack``)."""
    x = as_node(x)
    a = _axis("unstack", axis, x.ndim)
    _static("unstack", x, [a])
    return tuple(getitem(x, (slice(None),) * a + (i,)) for i in range(x.shape[a]))


def resize(x: Any, new_shape: int | Sequence[int]) -> Node:
    """``x``'s elements repeated in order to fill ``new_shape`` (NumPy's ``np.resize``)."""
    x = as_node(x)
    _static("resize", x, range(x.ndim))
    shape = (int(new_shape),) if isinstance(new_shape, (int, np.integer)) else tuple(int(d) for d in new_shape)
    n, size = int(np.prod(x.shape, dtype=np.int64)), int(np.prod(shape, dtype=np.int64))
    if n == 0:
        raise ShapeError(f"resize: cannot fill {shape} from an empty input{_where()}")
    return reshape(getitem(ravel(x), (np.arange(size) % n,)), shape)


def append(x: Any, values: Any, axis: Optional[int] = None) -> Node:
    """``x`` followed by ``values`` along ``axis`` (both flattened if None)."""
    x, values = as_node(x), as_node(values)
    if axis is None:
        return concatenate([ravel(x), ravel(values)], 0)
    return concatenate([x, values], axis)


def delete(x: Any, obj: Any, axis: Optional[int] = None) -> Node:
    """``x`` without the entries ``obj`` (an int, slice or list, known when built) along ``axis``."""
    x = as_node(x)
    if axis is None:
        x, axis = ravel(x), 0
    a = _axis("delete", axis, x.ndim)
    _static("delete", x, [a])
    if isinstance(obj, Node):
        raise ShapeError(f"delete: the positions must be known when the graph is built (the "
                         f"result's shape depends on them){_where()}")
    keep = np.delete(np.arange(x.shape[a]), obj)
    return getitem(x, (slice(None),) * a + (keep,))


def insert(x: Any, obj: Any, values: Any, axis: Optional[int] = None) -> Node:
    """``x`` with ``values`` inserted before the positions ``obj`` (known when built) along
    ``axis`` (of the flattened ``x`` if None)."""
    x = as_node(x)
    if axis is None:
        x, axis = ravel(x), 0
    a = _axis("insert", axis, x.ndim)
    _static("insert", x, range(x.ndim))
    if isinstance(obj, Node):
        raise ShapeError(f"insert: the positions must be known when the graph is built{_where()}")
    v = as_node(values)
    if v.ndim < x.ndim:
        v = reshape(v, (1,) * (x.ndim - v.ndim) + _shape_target(v))
    if np.ndim(obj) == 0 and not isinstance(obj, slice):
        v = moveaxis(v, 0, a)    # NumPy's rule for one position: values' first axis goes in
    n = x.shape[a]
    positions = np.arange(n)[obj] if isinstance(obj, slice) else obj
    count = v.shape[a] if np.ndim(positions) == 0 else len(np.atleast_1d(positions))
    if count is None:
        raise ShapeError(f"insert: the number of values must be known when built{_where()}")
    target = x.shape[:a] + (count,) + x.shape[a + 1:]
    if v.shape != target:
        v = broadcast_to(v, target)
    order = np.insert(np.arange(n), positions, np.arange(n, n + count))
    return getitem(concatenate([x, v], a), (slice(None),) * a + (order,))
