"""``sg.special``: SciPy's ``scipy.special`` functions on nodes, with derivatives.

The kernels are SciPy's (the optional extra ``symgraph[special]``, imported lazily by
``symgraph/ops/special.py``); building one of these functions without SciPy raises
``MissingExtraError`` naming ``pip install symgraph[special]``. ``expit``, ``logsumexp``,
``softmax`` and ``log_softmax`` are symgraph's own ops and need no SciPy.
"""
from __future__ import annotations

from typing import Any, Optional

from symgraph.graph import Node
from symgraph.ops.elementwise import sigmoid as expit
from symgraph.ops.reduce import logsumexp as _logsumexp
from symgraph.ops.reduce import log_softmax as _log_softmax
from symgraph.ops.reduce import softmax as _softmax
from symgraph.ops.registry import as_node
from symgraph.ops.shape import reshape
from symgraph.ops.special import (MissingExtraError, betaln, digamma, erf, erfc, erfinv, gamma,
                                  gammaln, log_ndtr, logit, ndtr, ndtri, polygamma, xlog1py,
                                  xlogy)

__all__ = ["MissingExtraError", "betaln", "digamma", "erf", "erfc", "erfinv", "expit", "gamma",
           "gammaln", "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri",
           "polygamma", "softmax", "xlog1py", "xlogy"]


def logsumexp(a: Any, axis: Any = None, keepdims: bool = False,
              name_: Optional[str] = None) -> Node:
    """SciPy's ``special.logsumexp`` (without ``b`` and ``return_sign``): log(sum(exp(a)))
    over ``axis``, computed without overflow; the same op as ``sg.logsumexp``."""
    return _logsumexp(a, axis, keepdims, name_)


def _over(fn, x: Any, axis: Any) -> Node:
    # SciPy's softmax family normalises over every axis by default (axis=None)
    x = as_node(x)
    if axis is not None:
        return fn(x, axis)
    return reshape(fn(reshape(x, (-1,)), -1), x.shape) if x.ndim != 1 else fn(x, -1)


def softmax(x: Any, axis: Any = None) -> Node:
    """SciPy's ``special.softmax``: exp(x) / sum(exp(x)) over ``axis`` (all axes by
    default, unlike ``sg.softmax``); symgraph's own op, no SciPy needed."""
    return _over(_softmax, x, axis)


def log_softmax(x: Any, axis: Any = None) -> Node:
    """SciPy's ``special.log_softmax`` over ``axis`` (all axes by default)."""
    return _over(_log_softmax, x, axis)
