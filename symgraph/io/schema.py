"""The file format's schema, in one place: the version, the limits, the member names and
the typed encoding of values (attributes, weak constants, object fields) as JSON.

A saved file is a zip archive holding ``graph.json`` and one ``arrays/<k>.npy`` member per
array (written with ``allow_pickle=False``). JSON has no tuples, dtypes or exact floats, so
values that are not ``null``, ``true``/``false``, an int, a string or a list are written as
a one-key object whose key says the type:

    {"$f": "0.1"}            float (its repr, which round-trips exactly; "nan", "inf" too)
    {"$c": ["1.0", "-2.0"]}  complex
    {"$t": [...]}            tuple
    {"$d": [[k, v], ...]}    dict (keys are strings or ints)
    {"$dt": "float32"}       NumPy dtype (numeric dtypes only)
    {"$np": ["float32", v]}  NumPy scalar
    {"$s": [start, stop, step]}, {"$e": 0}   slice, Ellipsis
    {"$a": k}                the array in member ``arrays/<k>.npy``
    {"$n": i}                node ``i`` of the node table
    {"$o": k}                object ``k`` of the object table
    {"$fn": "module.name"}   one of symgraph's own functions (an activation, an op)

Reading checks every value's type and range as it decodes it, so whatever a file holds,
the reader builds nothing but these types.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

from symgraph.errors import FormatError

MAGIC = "symgraph"
VERSION = 1
GRAPH_MEMBER = "graph.json"
ARRAY_MEMBER = re.compile(r"arrays/(0|[1-9][0-9]{0,8})\.npy")

# Default allocation limit of the reader: no array, node or member may need more bytes.
MAX_BYTES = 1 << 30
MAX_NDIM = 64            # NumPy's own limit
MAX_DEPTH = 32           # nesting of values (tuples in tuples ...)
MAX_STR = 1 << 16        # characters in one string
INT_RANGE = (-(1 << 63), (1 << 64) - 1)

# Numeric dtypes only: nothing that holds Python objects, bytes or structured records.
DTYPES = {np.dtype(t).name: np.dtype(t) for t in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}


_NAMES = {dtype: name for name, dtype in DTYPES.items()}


def dtype_name(dtype: np.dtype) -> str:
    """The name a dtype is written under; a dtype outside ``DTYPES`` cannot be saved."""
    name = _NAMES.get(dtype)
    if name is None:
        raise TypeError(f"cannot save dtype {dtype!r}: the format holds {', '.join(DTYPES)}")
    return name


# --- writing -------------------------------------------------------------------------------
class Ref:
    """A reference (to a node, object or array) the writer resolves when it dumps JSON."""

    __slots__ = ("kind", "target")

    def __init__(self, kind: str, target: Any) -> None:
        self.kind, self.target = kind, target


def encode(value: Any, refer: Callable[[Any, str], Any], path: str, depth: int = 0) -> Any:
    """``value`` as tagged JSON data. ``refer(value, path)`` handles what is not plain data
    (nodes, arrays, objects, functions) and returns a ``Ref`` (or raises TypeError)."""
    if depth > MAX_DEPTH:
        raise TypeError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise TypeError(f"{path}: integer {value} does not fit in 64 bits")
        return value
    if isinstance(value, float):
        return {"$f": repr(value)}
    if isinstance(value, complex):
        return {"$c": [repr(value.real), repr(value.imag)]}
    if isinstance(value, np.dtype):
        return {"$dt": dtype_name(value)}
    if isinstance(value, np.generic):
        return {"$np": [dtype_name(value.dtype), encode(value.item(), refer, path, depth + 1)]}
    if isinstance(value, tuple):
        return {"$t": [encode(v, refer, f"{path}[{k}]", depth + 1) for k, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode(v, refer, f"{path}[{k}]", depth + 1) for k, v in enumerate(value)]
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                return refer(value, path)    # a dict keyed by nodes and the like
            items.append([k, encode(v, refer, f"{path}[{k!r}]", depth + 1)])
        return {"$d": items}
    if isinstance(value, slice):
        return {"$s": [encode(p, refer, path, depth + 1) for p in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"$e": 0}
    return refer(value, path)


# --- reading -------------------------------------------------------------------------------
class Decoder:
    """Decodes tagged JSON values; ``resolve(tag, payload, where)`` handles references."""

    def __init__(self, resolve: Callable[[str, Any, str], Any], source: str) -> None:
        self.resolve = resolve
        self.source = source

    def fail(self, where: str, what: str) -> FormatError:
        return FormatError(f"{self.source}: {where}: {what}")

    def integer(self, value: Any, where: str, lo: int = INT_RANGE[0], hi: int = INT_RANGE[1]) -> int:
        if type(value) is not int or not lo <= value <= hi:
            raise self.fail(where, f"expected an integer in [{lo}, {hi}], got {_show(value)}")
        return value

    def string(self, value: Any, where: str) -> str:
        if type(value) is not str or len(value) > MAX_STR:
            raise self.fail(where, f"expected a string (at most {MAX_STR} characters), "
                                   f"got {_show(value)}")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if type(value) is not bool:
            raise self.fail(where, f"expected true or false, got {_show(value)}")
        return value

    def listing(self, value: Any, where: str) -> list:
        if type(value) is not list:
            raise self.fail(where, f"expected a list, got {_show(value)}")
        return value

    def mapping(self, value: Any, where: str, required: tuple = (), optional: tuple = ()) -> dict:
        if type(value) is not dict:
            raise self.fail(where, f"expected an object, got {_show(value)}")
        missing = [k for k in required if k not in value]
        if missing:
            raise self.fail(where, f"missing field {missing[0]!r}")
        extra = sorted(k for k in value if k not in required and k not in optional)
        if extra:
            raise self.fail(where, f"unknown field {extra[0][:80]!r}")
        return value

    def dtype(self, value: Any, where: str) -> np.dtype:
        if type(value) is not str or value not in DTYPES:
            raise self.fail(where, f"expected a numeric dtype name, got {_show(value)}")
        return DTYPES[value]

    def real(self, text: Any, where: str) -> float:
        if type(text) is not str or len(text) > 64:
            raise self.fail(where, f"expected a float written as a string, got {_show(text)}")
        try:
            return float(text)
        except ValueError:
            raise self.fail(where, f"not a float: {_show(text)}") from None

    def value(self, data: Any, where: str, depth: int = 0) -> Any:
        """One tagged JSON value back as the Python value it was."""
        if depth > MAX_DEPTH:
            raise self.fail(where, f"values nested deeper than {MAX_DEPTH} levels")
        if data is None or type(data) is bool:
            return data
        if type(data) is int:
            return self.integer(data, where)
        if type(data) is str:
            return self.string(data, where)
        if type(data) is float:
            raise self.fail(where, "a bare JSON number with a fraction (floats are tagged)")
        if type(data) is list:
            return [self.value(v, f"{where}[{k}]", depth + 1) for k, v in enumerate(data)]
        if type(data) is not dict or len(data) != 1:
            raise self.fail(where, f"expected a tagged value, got {_show(data)}")
        (tag, payload), = data.items()
        if tag == "$f":
            return self.real(payload, where)
        if tag == "$c":
            parts = self.listing(payload, where)
            if len(parts) != 2:
                raise self.fail(where, "a complex number has two parts")
            return complex(self.real(parts[0], where), self.real(parts[1], where))
        if tag == "$t":
            return tuple(self.value(v, f"{where}[{k}]", depth + 1)
                         for k, v in enumerate(self.listing(payload, where)))
        if tag == "$d":
            out = {}
            for k, pair in enumerate(self.listing(payload, where)):
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                    raise self.fail(f"{where}[{k}]", "a dict entry is [key, value]")
                out[pair[0]] = self.value(pair[1], f"{where}[{pair[0]!r}]", depth + 1)
            return out
        if tag == "$dt":
            return self.dtype(payload, where)
        if tag == "$np":
            parts = self.listing(payload, where)
            if len(parts) != 2:
                raise self.fail(where, "a NumPy scalar is [dtype, value]")
            dtype = self.dtype(parts[0], where)
            item = self.value(parts[1], where, depth + 1)
            if type(item) not in (bool, int, float, complex):
                raise self.fail(where, f"a NumPy scalar holds a number, got {_show(item)}")
            try:
                return np.array(item).astype(dtype)[()]
            except (OverflowError, ValueError, TypeError) as exc:
                raise self.fail(where, f"{item!r} is not a {dtype}: {exc}") from None
        if tag == "$s":
            parts = self.listing(payload, where)
            if len(parts) != 3 or any(p is not None and type(p) is not int for p in parts):
                raise self.fail(where, "a slice is [start, stop, step] of ints or null")
            return slice(*[None if p is None else self.integer(p, where) for p in parts])
        if tag == "$e":
            return Ellipsis
        if tag in ("$a", "$n", "$o", "$fn"):
            return self.resolve(tag, payload, where)
        raise self.fail(where, f"unknown value tag {tag[:40]!r}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def finite_size(shape: tuple, itemsize: int) -> float:
    """Bytes an array of ``shape`` (known sizes only) and ``itemsize`` takes."""
    return float(itemsize) * math.prod(float(d) for d in shape if d is not None)
