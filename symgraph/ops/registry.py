"""The op record, the registry that holds every op once, and the helpers ops share.

An op is declared by one ``register(Op(...))`` call holding its name, type rule, NumPy
kernel, VJP rule and JVP rule. Derivative rules build symgraph nodes (never NumPy arrays),
so every derivative can be differentiated again.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.errors import (ArgumentError, DTypeError, IndexingError, SymgraphError,
                             UnsupportedError)
from symgraph.graph import Node, _user_location
from symgraph.types import TensorType, as_dtype

# type rule: (input types, attrs, " (built at f:l)") -> output type
InferFn = Callable[[Sequence[TensorType], dict, str], TensorType]
# VJP rule: (node, cotangent of node) -> one cotangent (or None for zero) per input
VjpFn = Callable[[Node, Node], Sequence[Optional[Node]]]
# JVP rule: (node, one tangent or None per input) -> tangent of node, or None for zero
JvpFn = Callable[[Node, Sequence[Optional[Node]]], Optional[Node]]


@dataclass(frozen=True)
class Op:
    """Everything symgraph knows about one operation."""

    name: str
    infer: InferFn
    kernel: Optional[Callable[..., Any]]
    vjp: Optional[VjpFn] = None
    jvp: Optional[JvpFn] = None
    # False: the derivative is zero everywhere (comparisons, sign, one_hot, ...).
    differentiable: bool = True
    commutative: bool = False
    elementwise: bool = False
    leaf: bool = False
    doc: str = ""
    # Inputs whose values the kernel reads only for their shape (``*_like`` ops).
    shape_only_inputs: tuple[int, ...] = field(default=())
    # True once the VJP/JVP rules follow the complex convention of docs/higher-order.md
    # (plain transposes of the JVP's linear map; see "Complex numbers" there). Without it,
    # differentiating the op with a complex operand is a clear error, never a wrong number.
    complex_ok: bool = False


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the registry; a name is declared once."""
    if op.name in REGISTRY:
        raise ArgumentError(f"op {op.name!r} is declared twice")
    if op.differentiable and not op.leaf and (op.vjp is None or op.jvp is None):
        raise ArgumentError(f"differentiable op {op.name!r} needs both a VJP and a JVP rule")
    REGISTRY[op.name] = op
    return op


def get_op(name: str) -> Op:
    """The registered op called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no op called {name!r}") from None


def _freeze(value: Any) -> Any:
    # Attributes must hash (CSE keys on them), so lists become tuples.
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.dtype):
        return value
    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    return value


def apply(name: str, inputs: Sequence[Node], name_: Optional[str] = None, **attrs: Any) -> Node:
    """Build a node applying op ``name`` to ``inputs``; checks types now, not at run time."""
    op = get_op(name)
    frozen = tuple(sorted((k, _freeze(v)) for k, v in attrs.items())) if attrs else ()
    location = _user_location()
    where = _where(location)
    try:
        type_ = op.infer([i.type for i in inputs], dict(frozen), where)
    except SymgraphError as exc:
        raise _with_inputs(exc, inputs) from None
    except (TypeError, ValueError, IndexError) as exc:
        # A type rule that asks NumPy (or reads an attribute) failed on what it was given.
        kind = IndexingError if name == "getitem" else DTypeError
        raise _with_inputs(kind(f"{name}: {exc}{where}"), inputs) from None
    return Node(name, inputs, frozen, type_, name=name_, location=location)


# id(location) -> (location, text); keyed by identity because Location's dataclass hash
# runs in Python, and the identity check guards against a recycled id.
_wheres: dict[int, tuple[Any, str]] = {}


def _where(location: Any) -> str:
    """`` (built at file:line)`` for error messages, formatted once per location."""
    if location is None:
        return ""
    hit = _wheres.get(id(location))
    if hit is not None and hit[0] is location:
        return hit[1]
    if len(_wheres) > 65536:
        _wheres.clear()
    text = f" (built at {location})"
    _wheres[id(location)] = (location, text)
    return text


def _with_inputs(exc: SymgraphError, inputs: Sequence[Node]) -> SymgraphError:
    """The same error, its message extended by the inputs' names, dtypes and shapes."""
    listed = ", ".join(f"{i.label}: {i.type}" for i in inputs)
    out = type(exc)(f"{exc}\n  inputs: {listed}")
    out.__traceback__ = exc.__traceback__
    return out


def const(value: Any, dtype: Any = None, name: Optional[str] = None) -> Node:
    """A constant node. A bare Python scalar stays "weak": it adopts its partner's dtype."""
    if isinstance(value, Node):
        raise DTypeError(f"const() takes a value, not a node: {value!r}")
    if dtype is None and isinstance(value, (bool, numbers.Number)) and not isinstance(value, np.generic):
        if isinstance(value, bool):
            arr_dtype = np.dtype(bool)
        elif isinstance(value, numbers.Integral):
            arr_dtype = np.dtype(np.int64)
        elif isinstance(value, numbers.Real):
            arr_dtype = np.dtype(np.float64)
        else:
            arr_dtype = np.dtype(np.complex128)
        return Node("const", (), (), TensorType((), arr_dtype, weak=True), name=name, payload=value)
    arr = numeric_array(value, None if dtype is None else as_dtype(dtype), "const")
    arr.setflags(write=False)
    return Node("const", (), (), TensorType(arr.shape, arr.dtype), name=name, payload=arr)


def numeric_array(value: Any, dtype: Any, fn: str) -> np.ndarray:
    """``value`` as a new NumPy array of numbers, or a DTypeError saying why not (ragged
    lists, strings, None, objects)."""
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{fn}: cannot make a numeric array from {_brief(value)}: "
                         f"{exc}") from None
    if arr.dtype.kind not in "biufc":
        raise DTypeError(f"{fn}: cannot make a numeric array from {_brief(value)} "
                         f"(dtype {arr.dtype})")
    return arr


def _brief(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def as_node(value: Any) -> Node:
    """Nodes pass through; Python scalars, lists and NumPy arrays become constants."""
    if isinstance(value, Node):
        return value
    return const(value)



def no_out(fn: str, out: Any) -> None:
    """NumPy's ``out=`` names a buffer to write into; nodes are never written."""
    if out is not None:
        raise UnsupportedError(f"{fn}: out= is not supported: nodes are immutable, so use the "
                        f"returned node")
