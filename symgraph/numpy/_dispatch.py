"""NumPy's protocols on nodes: ``np.exp(node)`` (NEP 13) and ``np.sum(node)`` (NEP 18).

NumPy calls ``Node.__array_ufunc__`` / ``Node.__array_function__`` whenever a node is among
a ufunc's or a NumPy function's arguments (``ndarray + node`` included); both look the
function up in ``symgraph.numpy`` by its NumPy name, so they build the same nodes ``snp``
does and hold no rules of their own.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.errors import UnsupportedError
from symgraph.numpy._resolve import check_meaningless, lookup, missing_message

# ufunc.reduce / ufunc.accumulate -> the NumPy function that does the same
_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
           "logical_and": "all", "logical_or": "any"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}
_SPACES = {"numpy": "numpy", "numpy.linalg": "linalg", "numpy.fft": "fft"}


def _resolve(space: str, name: str, numpy_name: str) -> Any:
    try:
        return lookup(space, name)
    except AttributeError:
        raise UnsupportedError(f"{numpy_name} was called on a symgraph node: "
                               f"{missing_message(space, name)}") from None


def _foreign(values: Any) -> bool:
    """True when another library's array type takes part (it gets its own turn first)."""
    from symgraph.graph import Node
    return any(hasattr(type(v), "__array_ufunc__") and not isinstance(v, (Node, np.ndarray, np.generic))
               for v in values)


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``ufunc.method(*inputs, **kwargs)`` with a node among the inputs, as graph nodes."""
    if _foreign(inputs):
        return NotImplemented     # NEP 13: let the other type handle (or refuse) the mix
    name = ufunc.__name__
    outs = kwargs.get("out") or ()
    if any(o is i for o in outs for i in inputs if isinstance(o, np.ndarray)):
        # ``array += node``: NumPy asks to write the symbolic result into the array
        raise UnsupportedError(f"numpy.{name} in place (array op= node) cannot store a symbolic "
                               f"result in a NumPy array; write total = total + node instead")
    if method == "__call__":
        return _resolve("numpy", name, f"numpy.{name}")(*inputs, **kwargs)
    if method == "reduce" and name in _REDUCE:
        # ufunc.reduce reduces axis 0 by default, the functions every axis
        kwargs.setdefault("axis", 0)
        return _resolve("numpy", _REDUCE[name], f"numpy.{name}.reduce")(*inputs, **kwargs)
    if method == "accumulate" and name in _ACCUMULATE:
        kwargs.setdefault("axis", 0)
        return _resolve("numpy", _ACCUMULATE[name], f"numpy.{name}.accumulate")(*inputs, **kwargs)
    if method == "outer" and len(inputs) == 2:
        from symgraph.ops import as_node, reshape
        a, b = as_node(inputs[0]), as_node(inputs[1])
        for key, value in list(kwargs.items()):
            check_meaningless(f"numpy.{name}.outer", key, kwargs.pop(key))
        a = reshape(a, tuple(-1 if d is None else d for d in a.shape) + (1,) * b.ndim)
        return _resolve("numpy", name, f"numpy.{name}.outer")(a, b)
    raise UnsupportedError(f"numpy.{name}.{method} on a symgraph node is not supported; "
                           f"symgraph.numpy offers the functions that build graph nodes "
                           f"(import symgraph.numpy as snp)")


def array_function(func: Any, types: tuple, args: tuple, kwargs: dict) -> Any:
    """A NumPy function called with a node among its arguments, as graph nodes."""
    from symgraph.graph import Node
    if any(not issubclass(t, (Node, np.ndarray)) for t in types):
        return NotImplemented     # NEP 18: another array library's type takes part
    module = getattr(func, "__module__", "") or "numpy"
    name = func.__name__
    if module not in _SPACES:
        raise UnsupportedError(f"{module}.{name} was called on a symgraph node: it has no "
                               f"symgraph version; symgraph.numpy (import symgraph.numpy as snp) "
                               f"lists what works on nodes, see docs/numpy.md")
    space = _SPACES[module]
    prefix = "numpy." if space == "numpy" else f"numpy.{space}."
    return _resolve(space, name, prefix + name)(*args, **kwargs)
