"""NumPy's array-creation functions as constants: zeros, ones, full, eye, identity, arange,
linspace, tri, and the ``*_like`` family that reads another node's run-time shape.

A created array has no inputs, so it has no derivative; the ``*_like`` functions broadcast
a scalar to their reference's shape (``broadcast_like`` reads the reference only for its
shape, and no derivative flows to it).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.ops.registry import as_node, const
from symgraph.ops.shape import broadcast_like
from symgraph.types import as_dtype


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def full(shape: int | Sequence[int], fill_value: Any, dtype: Any = None) -> Node:
    """A constant of ``shape`` holding ``fill_value`` everywhere."""
    return const(np.full(_shape(shape), fill_value, None if dtype is None else as_dtype(dtype)))


def zeros(shape: int | Sequence[int], dtype: Any = float) -> Node:
    """A constant of zeros."""
    return full(shape, 0, as_dtype(dtype))


def ones(shape: int | Sequence[int], dtype: Any = float) -> Node:
    """A constant of ones."""
    return full(shape, 1, as_dtype(dtype))


def empty(shape: int | Sequence[int], dtype: Any = float) -> Node:
    """Zeros: a graph has no uninitialised memory to hand out."""
    return zeros(shape, dtype)


def eye(N: int, M: Optional[int] = None, k: int = 0, dtype: Any = float) -> Node:
    """A constant ``N`` x ``M`` matrix with ones on the ``k`` diagonal."""
    return const(np.eye(N, M, k, dtype=as_dtype(dtype)))


def identity(n: int, dtype: Any = float) -> Node:
    """The ``n`` x ``n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N: int, M: Optional[int] = None, k: int = 0, dtype: Any = float) -> Node:
    """A constant with ones at and below the ``k`` diagonal."""
    return const(np.tri(N, M, k, dtype=as_dtype(dtype)))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> Node:
    """NumPy's ``arange`` as a constant (``sg.arange(n)`` is the same for one argument)."""
    args = (start,) if stop is None and step is None else (start, stop, 1 if step is None else step)
    return const(np.arange(*args, dtype=None if dtype is None else as_dtype(dtype)))


def linspace(start: float, stop: float, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced numbers from ``start`` to ``stop`` as a constant."""
    values = np.linspace(start, stop, num, endpoint, retstep, None if dtype is None else as_dtype(dtype), axis)
    if retstep:
        return const(values[0]), values[1]
    return const(values)


def logspace(start: float, stop: float, num: int = 50, endpoint: bool = True, base: float = 10.0,
             dtype: Any = None, axis: int = 0) -> Node:
    """``base ** linspace(start, stop, num)`` as a constant."""
    return const(np.logspace(start, stop, num, endpoint, base, None if dtype is None else as_dtype(dtype), axis))


def geomspace(start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Node:
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop`` as a constant."""
    return const(np.geomspace(start, stop, num, endpoint, None if dtype is None else as_dtype(dtype), axis))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Node:
    """``fill_value`` in the shape of ``x`` (its dtype unless ``dtype`` is given)."""
    x = as_node(x)
    return broadcast_like(const(np.asarray(fill_value, dtype=as_dtype(dtype or x.dtype))), x)


def ones_like(x: Any, dtype: Any = None) -> Node:
    """Ones in the shape and dtype of ``x``."""
    return full_like(x, 1, dtype)


def empty_like(x: Any, dtype: Any = None) -> Node:
    """Zeros in the shape of ``x`` (a graph has no uninitialised memory to hand out)."""
    return full_like(x, 0, dtype)
