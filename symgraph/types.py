"""Static tensor types: shape (``None`` for a size known only at call time) and dtype.

Holds NumPy's broadcasting and type-promotion rules as they apply to static types.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from symgraph.errors import DTypeError, ShapeError

Dim = Optional[int]
Shape = tuple[Dim, ...]

# A Python scalar in an expression is "weak": it takes the dtype of the array beside it,
# as NumPy 2 does (NEP 50), so ``x32 * 2.0`` stays float32.
_WEAK_EXAMPLE = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


@dataclass(frozen=True)
class TensorType:
    """The static type of a node: shape, dtype and whether it is a weak Python scalar."""

    shape: Shape
    dtype: np.dtype
    weak: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return f"{self.dtype.name}{format_shape(self.shape)}"


def format_shape(shape: Shape) -> str:
    """``(None, 3)`` -> ``(?, 3)``: how shapes appear in messages and drawings."""
    inner = ", ".join("?" if d is None else str(d) for d in shape)
    if len(shape) == 1:
        inner += ","
    return f"({inner})"


def as_dtype(dtype: object) -> np.dtype:
    """Normalise a dtype-like value, with a clear error for nonsense."""
    try:
        out = np.dtype(dtype)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"not a dtype: {dtype!r}") from exc
    if out.kind not in "biufc":
        raise DTypeError(f"{out} is not a numeric dtype: symgraph computes with bool, "
                         f"integer, floating-point and complex numbers")
    return out


def is_float(dtype: np.dtype) -> bool:
    """True for dtypes that carry derivatives (real and complex floating point)."""
    return dtype.kind in "fc"


def as_shape(shape: Sequence[Dim]) -> Shape:
    """Validate a user-given static shape: non-negative ints or ``None``."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ShapeError(f"a shape is a tuple of non-negative ints or None, got {shape!r}"
                         + (f"; write ({shape},) for one axis" if isinstance(shape, int) else ""))
    out = []
    for d in tuple(shape):
        if d is not None and (isinstance(d, (bool, np.bool_)) or
                              not isinstance(d, (int, np.integer)) or d < 0):
            raise ShapeError(f"a shape holds non-negative ints or None, got {tuple(shape)!r}")
        out.append(None if d is None else int(d))
    return tuple(out)


def int_tuple(fn: str, what: str, value: object) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ints) as a tuple of ints; a ShapeError naming
    ``fn`` for anything else (floats, strings, None, bools), never a silent ``int()``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return (int(value),)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ShapeError(f"{fn}: {what} must be an int or a tuple of ints, got {value!r}")
    out = []
    for d in tuple(value):
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise ShapeError(f"{fn}: {what} must hold ints, got {tuple(value)!r}"
                             + ("; None (a size unknown until run time) is not allowed here"
                                if d is None else ""))
        out.append(int(d))
    return tuple(out)


def as_size(fn: str, what: str, value: object, least: int = 0) -> int:
    """A size argument: an int >= ``least`` (not a float, a bool or None)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < least:
        raise ShapeError(f"{fn}: {what} must be an int >= {least}, got {value!r}")
    return int(value)


def broadcast_shapes(op: str, shapes: Sequence[Shape], where: str = "") -> Shape:
    """NumPy broadcasting of static shapes; ``None`` broadcasts with anything."""
    first = shapes[0] if shapes else ()
    if all(s == first for s in shapes) and None not in first:
        return tuple(first)
    ndim = max((len(s) for s in shapes), default=0)
    out: list[Dim] = []
    for axis in range(-ndim, 0):
        dims = [s[axis] for s in shapes if len(s) >= -axis]
        known = [d for d in dims if d is not None and d != 1]
        if len(set(known)) > 1:
            listed = " and ".join(format_shape(s) for s in shapes)
            raise ShapeError(
                f"{op}: cannot broadcast shapes {listed}: axis {axis} has sizes "
                f"{' vs '.join(str(d) for d in dims)}{where}"
            )
        if known:
            out.append(known[0])
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def promote(op: str, types: Sequence[TensorType], where: str = "") -> TensorType:
    """Result dtype of an elementwise op: NumPy's promotion with weak Python scalars."""
    args = [_WEAK_EXAMPLE[t.dtype.kind] if t.weak else t.dtype for t in types]
    try:
        dtype = np.result_type(*args)
    except TypeError as exc:
        listed = ", ".join(t.dtype.name for t in types)
        raise DTypeError(f"{op}: no common dtype for {listed}{where}") from exc
    return TensorType((), dtype, weak=all(t.weak for t in types))


def normalize_axes(op: str, axis: object, ndim: int, where: str = "") -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (``None`` means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:
        axes = (axis,)
    out = []
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise ShapeError(f"{op}: an axis is an int, got {axis!r}{where}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for {ndim}-d input{where}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}{where}")
    return tuple(sorted(out))
