"""Name resolution for ``symgraph.numpy``: a NumPy name -> the symgraph function that does it.

Resolution order for a name in a namespace (``numpy``, ``linalg`` or ``fft``):
1. the signature table (``_names.SIGNATURES``) where NumPy's signature differs;
2. symgraph's public function of that name (after ``_names.ALIASES``), found at access time,
   so a function added to symgraph later appears in ``snp`` with no edit here;
3. NumPy's own object for constants, dtypes and dtype utilities (``snp.pi``, ``snp.float32``);
4. otherwise an error that names the function and says why it is missing.

Every function handed out is wrapped once to check NumPy's keyword arguments that mean
nothing for a node (``out=``, ``where=``, ``casting=``, ``order=``) and to apply ``dtype=``.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, Callable, Optional

import numpy as np

from symgraph.errors import UnsupportedError
from symgraph.graph import Node
from symgraph.numpy import _names

# Modules whose public functions compute on nodes (ops, and the NumPy-like namespaces).
_OP_MODULES = ("symgraph.ops", "symgraph.linalg", "symgraph.fft", "symgraph.special",
               "symgraph.numpy")
_NUMPY_SPACES = {"numpy": np, "linalg": np.linalg, "fft": np.fft}
_SYMGRAPH_SPACES = {"numpy": "symgraph", "linalg": "symgraph.linalg", "fft": "symgraph.fft"}

# argument -> (values that change nothing, why another value cannot mean anything for a node)
_MEANINGLESS: dict[str, tuple[tuple, str]] = {
    "out": ((None,), "a node has no value until it is evaluated; use the returned node"),
    "where": ((True,), "masked entries would be left undefined; use snp.where(cond, f(x), y)"),
    "casting": (("same_kind",), "symgraph promotes dtypes as NumPy does; cast with .astype"),
    "order": (("K", "C", "A", None), "a node has no memory layout"),
    "subok": ((True, False), "there are no ndarray subclasses in a graph"),
    "signature": ((None,), "symgraph chooses the loop from the dtypes"),
    "like": ((None,), "the result is always a node"),
    "device": ((None, "cpu"), "symgraph runs on the CPU"),
    "overwrite_input": ((False,), "nodes are immutable"),
    "copy": ((None, True, False), ""),
    "initial": ((None, getattr(np, "_NoValue", None)), "combine with snp.maximum/snp.add after reducing"),
}

_cache: dict[tuple[str, str], Any] = {}
_MISSING = object()


def lookup(space: str, name: str) -> Any:
    """What ``snp.<name>`` (or ``snp.linalg.<name>``) is; AttributeError when missing."""
    key = (space, name)
    if key not in _cache:
        found = _find(space, name)
        if found is _MISSING:
            raise AttributeError(missing_message(space, name))
        _cache[key] = found
    return _cache[key]


def _find(space: str, name: str) -> Any:
    numpy_space = _NUMPY_SPACES[space]
    if name.startswith("_") or not hasattr(numpy_space, name):
        return _MISSING
    table = _names.SIGNATURES if space == "numpy" else _names.LINALG_SIGNATURES if space == "linalg" else {}
    if name in table:
        return _numpy_call(table[name], _qualname(space, name))
    if space == "numpy" and name in _names.OBJECTS:
        return _names.OBJECTS[name]
    # symgraph's name for it first (sg.variance for var), then NumPy's own name
    names = [name] if space != "numpy" else [_names.ALIASES.get(name, name)] + (
        [] if name in _names.NOT_BY_NAME else [name])
    for candidate in names:
        fn = symgraph_function(space, candidate)
        if fn is not None:
            return _numpy_call(fn, _qualname(space, name))
    if space == "linalg" and name in ("matmul", "outer", "tensordot", "vecdot", "cross"):
        return _find("numpy", name)   # the same function in both namespaces
    obj = getattr(numpy_space, name)
    if name in _names.NUMPY_OWN or isinstance(obj, type) or not callable(obj):
        return obj
    return _MISSING


def symgraph_function(space: str, name: str) -> Optional[Callable]:
    """symgraph's public function ``name`` in ``space``, if one computes on nodes."""
    try:
        module = importlib.import_module(_SYMGRAPH_SPACES[space])
    except ModuleNotFoundError:
        return None
    candidates = [getattr(module, name, None)]
    if space == "numpy":   # a top-level name may be something else (sg.diff draws two graphs)
        candidates.append(getattr(importlib.import_module("symgraph.ops"), name, None))
    for fn in candidates:
        if callable(fn) and not isinstance(fn, type) and \
                (getattr(fn, "__module__", "") or "").startswith(_OP_MODULES):
            return fn
    return None


def _qualname(space: str, name: str) -> str:
    return f"snp.{name}" if space == "numpy" else f"snp.{space}.{name}"


def missing_message(space: str, name: str) -> str:
    numpy_name = ("numpy." if space == "numpy" else f"numpy.{space}.") + name
    numpy_space = _NUMPY_SPACES[space]
    if not hasattr(numpy_space, name):
        return f"{numpy_name} does not exist, so symgraph.numpy has no {name!r} either"
    reason = _names.LEFT_OUT.get(name) if space == "numpy" else None
    if reason:
        return f"symgraph leaves {numpy_name} out on purpose: {reason}"
    if space != "numpy":
        try:
            importlib.import_module(_SYMGRAPH_SPACES[space])
        except ModuleNotFoundError:
            return (f"{numpy_name} has no symgraph version: symgraph.{space} is not in this "
                    f"installation")
    return (f"{numpy_name} has no symgraph version yet; symgraph.numpy (import "
            f"symgraph.numpy as snp) lists what works on nodes, see docs/numpy.md")


# --- NumPy's keyword arguments ----------------------------------------------------------------
def _numpy_call(fn: Callable, qualname: str) -> Callable:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    takes = set(params)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    # symgraph's trailing ``name_`` sits where NumPy's ufuncs take ``out`` positionally
    name_at = list(params).index("name_") if "name_" in params else None

    @functools.wraps(fn)
    def snp_function(*args: Any, **kwargs: Any) -> Any:
        if name_at is not None and len(args) > name_at and not isinstance(args[name_at], (str, type(None))):
            check_meaningless(qualname, "out", args[name_at])
            args = args[:name_at]
        dtype = None
        for key in list(kwargs):
            if key in takes or (takes_any and key not in _MEANINGLESS):
                continue
            value = kwargs.pop(key)
            if key == "dtype":
                dtype = value
            elif key in _MEANINGLESS:
                check_meaningless(qualname, key, value)
            elif key == "axis" and value is None:
                continue
            else:
                raise UnsupportedError(f"{qualname}: symgraph's version takes no argument "
                                       f"{key}={value!r}")
        if "axis" in kwargs and isinstance(kwargs["axis"], list):
            kwargs["axis"] = tuple(kwargs["axis"])
        if dtype is not None and args:
            # dtype= sets the dtype the computation runs in: cast the array arguments first
            from symgraph.ops import cast
            args = tuple(cast(a, dtype) if _is_array(a) else a for a in args)
        return fn(*args, **kwargs)

    snp_function.__symgraph_numpy__ = qualname
    return snp_function


def check_meaningless(qualname: str, key: str, value: Any) -> None:
    """Accept ``key=value`` when it changes nothing; raise a clear error when it would."""
    harmless, why = _MEANINGLESS[key]
    if key == "out" and isinstance(value, tuple) and all(v is None for v in value):
        return
    if any(value is h or (not isinstance(value, (np.ndarray, Node)) and value == h)
           for h in harmless):
        return
    raise UnsupportedError(f"{qualname}: {key}= is not supported on symbolic nodes ({why})")


def _is_array(value: Any) -> bool:
    return isinstance(value, (Node, np.ndarray, np.generic, list, float, int)) and not isinstance(value, bool)
