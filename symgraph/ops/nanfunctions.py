"""NumPy's NaN-ignoring reductions and scans, as compositions of the ops in reduce.py and
scan.py: each replaces the NaNs by the neutral element of its reduction (0 for sums, 1 for
products, -inf for max, +inf for min) and counts only the present elements. No derivative
flows to a NaN; a slice of NaNs only gives NaN, as NumPy does (nanargmax/nanargmin give 0
there, where NumPy raises).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.graph import Node
from symgraph.ops.elementwise import abs, cast, divide, logical_not, square, subtract, where
from symgraph.ops.elementwise_math import isnan
from symgraph.ops.reduce import (_user_axes, all, argmax, argmin, float_input, max, min, prod,
                                 sqrt_of_variance, sum)
from symgraph.ops.registry import as_node, no_out
from symgraph.ops.scan import cumprod, cumsum


def _filled(a: Node, value: float) -> Node:
    """``a`` with its NaNs replaced by ``value`` (integers have none)."""
    return where(isnan(a), value, a) if a.dtype.kind in "fc" else a


def _start(fn: str, a: Any, dtype: Any, out: Any) -> Node:
    no_out(fn, out)
    a = as_node(a)
    return a if dtype is None else cast(a, dtype)


def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False) -> Node:
    """``sum`` with NaNs counted as zero."""
    return sum(_filled(_start("nansum", a, dtype, out), 0), axis, keepdims)


def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Node:
    """``prod`` with NaNs counted as one."""
    return prod(_filled(_start("nanprod", a, dtype, out), 1), axis, keepdims=keepdims)


def nancumsum(a: Any, axis: Optional[int] = None, dtype: Any = None, out: Any = None) -> Node:
    """``cumsum`` with NaNs counted as zero."""
    return cumsum(_filled(_start("nancumsum", a, dtype, out), 0), axis)


def nancumprod(a: Any, axis: Optional[int] = None, dtype: Any = None, out: Any = None) -> Node:
    """``cumprod`` with NaNs counted as one."""
    return cumprod(_filled(_start("nancumprod", a, dtype, out), 1), axis)


def _present_count(a: Node, axis: Any, keepdims: bool) -> Node:
    # the count in a's real precision (float32 for complex64)
    return sum(cast(logical_not(isnan(a)), np.finfo(a.dtype).dtype), axis, keepdims)


def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False) -> Node:
    """``mean`` of the elements that are not NaN (NaN where all of them are)."""
    no_out("nanmean", out)
    a = float_input("nanmean", a, dtype)
    return divide(sum(_filled(a, 0), axis, keepdims), _present_count(a, axis, keepdims))


def nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
           keepdims: bool = False) -> Node:
    """``variance`` of the elements that are not NaN, divided by (their count - ddof)."""
    no_out("nanvar", out)
    a = float_input("nanvar", a, dtype)
    axes = _user_axes("nanvar", axis, a.ndim)
    mean = divide(sum(_filled(a, 0), axes, True), _present_count(a, axes, True))
    d = where(isnan(a), 0, subtract(a, mean))
    sq = square(abs(d)) if a.dtype.kind == "c" else square(d)
    return divide(sum(sq, axes, keepdims), subtract(_present_count(a, axes, keepdims), ddof))


def nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
           keepdims: bool = False) -> Node:
    """``std`` of the elements that are not NaN (derivative 0 where their variance is 0)."""
    no_out("nanstd", out)
    return sqrt_of_variance(nanvar(a, axis, dtype, None, ddof, keepdims))


def _nan_extremum(fn: str, reduce, fill: float):
    def extremum(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Node:
        no_out(fn, out)
        a = as_node(a)
        found = reduce(_filled(a, fill), axis, keepdims)
        if a.dtype.kind not in "fc":
            return found
        return where(all(isnan(a), axis, keepdims=keepdims), np.nan, found)
    extremum.__name__ = extremum.__qualname__ = fn
    extremum.__doc__ = (f"``{fn[3:]}`` of the elements that are not NaN (NaN where all are); "
                        f"ties share the derivative as in ``{fn[3:]}``.")
    return extremum


nanmax = _nan_extremum("nanmax", max, -np.inf)
nanmin = _nan_extremum("nanmin", min, np.inf)


def nanargmax(a: Any, axis: Optional[int] = None, out: Any = None, *,
              keepdims: bool = False) -> Node:
    """``argmax`` ignoring NaNs (0 for a slice of NaNs only; no derivative)."""
    return argmax(_filled(as_node(a), -np.inf), axis, out, keepdims=keepdims)


def nanargmin(a: Any, axis: Optional[int] = None, out: Any = None, *,
              keepdims: bool = False) -> Node:
    """``argmin`` ignoring NaNs (0 for a slice of NaNs only; no derivative)."""
    return argmin(_filled(as_node(a), np.inf), axis, out, keepdims=keepdims)
