"""NumPy's functions that join, split and align arrays: the stacks, split, atleast_nd,
broadcast_arrays, meshgrid and kron.

All are compositions of registered ops (concatenate, getitem, reshape, broadcasting,
multiply), so their derivatives are their parts' rules.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import add, multiply, power, subtract
from symgraph.ops.linalg import matmul
from symgraph.ops.registry import apply, as_node, const
from symgraph.ops.rearrange import _axis, _static, _where, moveaxis
from symgraph.ops.shape import (broadcast_like, broadcast_to, concatenate, expand_dims,
                                getitem, reshape, zeros_like)
from symgraph.types import broadcast_shapes, format_shape


# --- at least n axes ------------------------------------------------------------------------
def _one_or_all(nodes: list[Node]) -> Node | tuple[Node, ...]:
    return nodes[0] if len(nodes) == 1 else tuple(nodes)


def atleast_1d(*xs: Any) -> Node | tuple[Node, ...]:
    """Each input with at least one axis (a scalar becomes shape (1,))."""
    return _one_or_all([_at_least(as_node(x), 1) for x in xs])


def atleast_2d(*xs: Any) -> Node | tuple[Node, ...]:
    """Each input with at least two axes: (n,) becomes (1, n)."""
    return _one_or_all([_at_least(as_node(x), 2) for x in xs])


def atleast_3d(*xs: Any) -> Node | tuple[Node, ...]:
    """Each input with at least three axes: (n,) becomes (1, n, 1), (r, c) becomes (r, c, 1)."""
    return _one_or_all([_at_least(as_node(x), 3) for x in xs])


def _at_least(x: Node, n: int) -> Node:
    if x.ndim >= n:
        return x
    if n == 3 and x.ndim == 1:
        return expand_dims(x, (0, 2))
    if n == 3 and x.ndim == 2:
        return expand_dims(x, 2)
    return expand_dims(x, tuple(range(n - x.ndim)))


# --- stacks ---------------------------------------------------------------------------------
def _items(xs: Any) -> list:
    """The arrays of a sequence; a node (or array) passed whole is the sequence of its rows."""
    if isinstance(xs, Node):
        from symgraph.ops.rearrange import unstack
        return list(unstack(xs, 0))
    return list(xs)


def hstack(xs: Sequence[Any]) -> Node:
    """``xs`` joined column-wise (along axis 0 for vectors, 1 otherwise)."""
    parts = [_at_least(as_node(x), 1) for x in _items(xs)]
    return concatenate(parts, axis=0 if all(p.ndim == 1 for p in parts) else 1)


def vstack(xs: Sequence[Any]) -> Node:
    """``xs`` joined row-wise; vectors become rows."""
    return concatenate([_at_least(as_node(x), 2) for x in _items(xs)], axis=0)


def dstack(xs: Sequence[Any]) -> Node:
    """``xs`` joined along the third axis."""
    return concatenate([_at_least(as_node(x), 3) for x in _items(xs)], axis=2)


def column_stack(xs: Sequence[Any]) -> Node:
    """Vectors as the columns of a matrix (matrices joined along axis 1)."""
    parts = []
    for x in _items(xs):
        x = as_node(x)
        parts.append(expand_dims(x, 1) if x.ndim == 1 else _at_least(x, 2))
    return concatenate(parts, axis=1)


# --- split ----------------------------------------------------------------------------------
def _split(op: str, x: Any, sections: Any, axis: int, equal: bool) -> list[Node]:
    x = as_node(x)
    a = _axis(op, axis, x.ndim)
    _static(op, x, [a])
    n = x.shape[a]
    if isinstance(sections, (int, np.integer)):
        k = int(sections)
        if k <= 0:
            raise ArgumentError(f"{op}: number of sections must be positive, got {k}{_where()}")
        if equal and n % k:
            raise ShapeError(f"{op}: axis {a} of size {n} does not split into {k} equal "
                             f"parts (array_split allows unequal ones){_where()}")
        # NumPy's array_split: the first n % k parts get one element more
        size, extra = divmod(n, k)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (k - extra)).tolist()
    else:
        bounds = [0] + [int(i) for i in sections] + [n]
    lead = (slice(None),) * a
    return [getitem(x, lead + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Node]:
    """``x`` cut along ``axis`` into equal sections or at the given indices."""
    return _split("split", x, indices_or_sections, axis, equal=True)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Node]:
    """``split`` that allows sections of unequal size."""
    return _split("array_split", x, indices_or_sections, axis, equal=False)


def hsplit(x: Any, indices_or_sections: Any) -> list[Node]:
    """``split`` along axis 1 (axis 0 for vectors)."""
    return split(x, indices_or_sections, axis=0 if as_node(x).ndim == 1 else 1)


def vsplit(x: Any, indices_or_sections: Any) -> list[Node]:
    """``split`` along axis 0."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x: Any, indices_or_sections: Any) -> list[Node]:
    """``split`` along axis 2."""
    return split(x, indices_or_sections, axis=2)


# --- broadcasting together ------------------------------------------------------------------
def broadcast_arrays(*xs: Any) -> tuple[Node, ...]:
    """The inputs broadcast against each other to one shape."""
    nodes = [as_node(x) for x in xs]
    shape = broadcast_shapes("broadcast_arrays", [n.shape for n in nodes], _where())
    if None not in shape:
        return tuple(n if n.shape == shape else broadcast_to(n, shape) for n in nodes)
    # sizes known only at run time: broadcast to the shape of the zeros of all of them
    ref = zeros_like(nodes[0])
    for n in nodes[1:]:
        ref = add(ref, zeros_like(n))
    return tuple(n if n.shape == shape else broadcast_like(n, ref) for n in nodes)


def meshgrid(*xs: Any, indexing: str = "xy", sparse: bool = False, copy: bool = True) -> tuple[Node, ...]:
    """Coordinate grids from 1-d coordinate vectors (``indexing='xy'`` or ``'ij'``)."""
    if indexing not in ("xy", "ij"):
        raise ArgumentError(f"meshgrid: indexing is 'xy' or 'ij', got {indexing!r}{_where()}")
    nodes = [reshape(as_node(x), (-1,)) for x in xs]
    for x in nodes:
        _static("meshgrid", x, [0])
    n = len(nodes)
    order = list(range(n))
    if indexing == "xy" and n > 1:
        order[0], order[1] = 1, 0   # x varies along columns, y along rows
    full = [0] * n
    for i, x in enumerate(nodes):
        full[order[i]] = x.shape[0]
    out = []
    for i, x in enumerate(nodes):
        shape = [1] * n
        shape[order[i]] = x.shape[0]
        g = reshape(x, tuple(shape))
        out.append(g if sparse else broadcast_to(g, tuple(full)))
    return tuple(out)


# --- kron -----------------------------------------------------------------------------------
def kron(a: Any, b: Any) -> Node:
    """The Kronecker product: blocks ``a[i, j] * b``."""
    a, b = as_node(a), as_node(b)
    _static("kron", a, range(a.ndim))
    _static("kron", b, range(b.ndim))
    d = max(a.ndim, b.ndim)
    sa = (1,) * (d - a.ndim) + a.shape
    sb = (1,) * (d - b.ndim) + b.shape
    # a as (a0, 1, a1, 1, ..) times b as (1, b0, 1, b1, ..), merged pairwise
    wa = reshape(a, tuple(v for s in sa for v in (s, 1)))
    wb = reshape(b, tuple(v for s in sb for v in (1, s)))
    return reshape(multiply(wa, wb), tuple(x * y for x, y in zip(sa, sb)))


def block(arrays: Any) -> Node:
    """NumPy's ``block``: nested lists joined along the last axis at the innermost depth, the
    second to last one level up, and so on."""
    # the nesting depth: lists all the way down the first items
    depth, probe = 0, arrays
    while isinstance(probe, list):
        if not probe:
            raise ArgumentError(f"block: empty list{_where()}")
        depth, probe = depth + 1, probe[0]
    leaves = _block_leaves(arrays, depth)
    ndim = max([depth] + [n.ndim for n in leaves])
    return _block_join(arrays, depth, ndim)


def _block_leaves(arrays: Any, depth: int) -> list[Node]:
    out, stack = [], [(arrays, 0)]
    while stack:
        item, level = stack.pop()
        if level == depth:
            if isinstance(item, list):
                raise ArgumentError(f"block: lists are nested to different depths{_where()}")
            out.append(as_node(item))
        else:
            if not isinstance(item, list):
                raise ArgumentError(f"block: lists are nested to different depths{_where()}")
            stack.extend((v, level + 1) for v in item)
    return out


def _block_join(arrays: Any, depth: int, ndim: int) -> Node:
    def lift(x: Any) -> Node:
        x = as_node(x)
        return x if x.ndim == ndim else reshape(x, (1,) * (ndim - x.ndim) + tuple(-1 if d is None else d for d in x.shape))

    def join(item: Any, level: int) -> Node:
        if level == depth:
            return lift(item)
        # recursion over the user's nested lists (a few levels), never over a graph
        parts = [join(v, level + 1) for v in item]
        return concatenate(parts, axis=ndim - depth + level)
    return join(arrays, 0)


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: Any = None) -> Node:
    """The cross product of 3-vectors (or the z component for 2-vectors) along the last axis."""
    a, b = as_node(a), as_node(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _to_last(a, axisa)
    b = _to_last(b, axisb)
    if a.shape[-1] != b.shape[-1] or a.shape[-1] not in (2, 3):
        raise ShapeError(f"cross: needs 2- or 3-vectors on both sides, got "
                         f"{format_shape(a.shape)} and {format_shape(b.shape)}{_where()}")
    if a.shape[-1] == 2:    # a x b = a0 b1 - a1 b0
        return subtract(multiply(a[..., 0], b[..., 1]), multiply(a[..., 1], b[..., 0]))
    # (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)
    turn, back = np.array([1, 2, 0]), np.array([2, 0, 1])
    c = subtract(multiply(a[..., turn], b[..., back]), multiply(a[..., back], b[..., turn]))
    if c.ndim > 1 and _axis("cross", axisc, c.ndim) != c.ndim - 1:
        c = moveaxis(c, -1, axisc)
    return c


def _to_last(x: Node, axis: int) -> Node:
    a = _axis("cross", axis, x.ndim)
    return x if a == x.ndim - 1 else moveaxis(x, a, -1)


def vander(x: Any, N: Optional[int] = None, increasing: bool = False) -> Node:
    """The Vandermonde matrix of the vector ``x``: columns are powers of ``x``."""
    x = as_node(x)
    _static("vander", x, [0])
    n = x.shape[0] if N is None else int(N)
    powers = np.arange(n) if increasing else np.arange(n)[::-1]
    return power(expand_dims(x, 1), const(powers.astype(x.dtype if x.dtype.kind in "fc" else np.int64)))


def _correlate_valid(a: Node, v: Node) -> Node:
    # out[i] = sum_j a[i + j] v[j]: a gathered into windows, times v
    n, m = a.shape[0], v.shape[0]
    windows = getitem(a, (np.arange(n - m + 1)[:, None] + np.arange(m)[None, :],))
    return matmul(windows, v)


def _correlate(name: str, a: Any, v: Any, mode: str, flip_v: bool) -> Node:
    a, v = as_node(a), as_node(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ShapeError(f"{name}: takes two vectors, got {format_shape(a.shape)} and "
                         f"{format_shape(v.shape)}{_where()}")
    _static(name, a, [0])
    _static(name, v, [0])
    if mode not in ("full", "same", "valid"):
        raise ArgumentError(f"{name}: mode is 'full', 'same' or 'valid', got {mode!r}{_where()}")
    n, m = a.shape[0], v.shape[0]
    if m > n:
        # NumPy slides the shorter vector: convolution commutes, and correlation with the
        # roles exchanged is the same sequence reversed
        if name == "convolve":
            return _correlate(name, v, a, mode, flip_v)
        return getitem(_correlate(name, v, a, mode, flip_v), (slice(None, None, -1),))
    if flip_v:
        v = getitem(v, (slice(None, None, -1),))
    if mode == "valid":
        return _correlate_valid(a, v)
    full_pad = m - 1
    # full: m - 1 zeros on each side; same: NumPy's n outputs from offset (m - 1) // 2 of full
    lo = full_pad if mode == "full" else full_pad - full_pad // 2
    hi = full_pad if mode == "full" else full_pad - lo
    return _correlate_valid(apply("pad", [a], pad_width=((lo, hi),), value=0), v)


def convolve(a: Any, v: Any, mode: str = "full") -> Node:
    """The discrete linear convolution of two vectors (modes full, same, valid)."""
    return _correlate("convolve", a, v, mode, flip_v=True)


def correlate(a: Any, v: Any, mode: str = "valid") -> Node:
    """The cross-correlation of two vectors (modes valid, same, full)."""
    return _correlate("correlate", a, v, mode, flip_v=False)


# --- NumPy's index tricks r_ and c_ -----------------------------------------------------------
class _Concatenator:
    """``r_[a, b, 1:4]`` / ``c_[a, b]``: join arrays, numbers and slices (as ``arange``)."""

    def __init__(self, columns: bool) -> None:
        self._columns = columns

    def __getitem__(self, key: Any) -> Node:
        from symgraph.ops.creation import arange
        items = key if isinstance(key, tuple) else (key,)
        parts = []
        for item in items:
            if isinstance(item, str):
                raise ArgumentError(f"{'c_' if self._columns else 'r_'}: string directives are not "
                                 f"supported; use snp.concatenate or snp.stack{_where()}")
            if isinstance(item, slice):
                if isinstance(item.step, complex):
                    raise ArgumentError("r_: a complex step (linspace) is not supported; use snp.linspace")
                item = arange(0 if item.start is None else item.start, item.stop,
                              1 if item.step is None else item.step)
            parts.append(as_node(item))
        if self._columns:
            # vectors become columns, then everything is joined along the last axis
            parts = [expand_dims(p, 1) if p.ndim == 1 else _at_least(p, 2) for p in parts]
            return concatenate(parts, axis=-1)
        return concatenate([_at_least(p, 1) for p in parts], axis=0)


r_ = _Concatenator(columns=False)
c_ = _Concatenator(columns=True)
