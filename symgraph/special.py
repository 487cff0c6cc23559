"""``sg.special``: SciPy's ``scipy.special`` functions on nodes, with derivatives.

The kernels are SciPy's (the optional extra ``symgraph[special]``, imported lazily by
``symgraph/ops/special.py``); building one of these functions without SciPy raises
``MissingExtraError`` naming ``pip install symgraph[special]``. ``expit`` and
``logsumexp`` are symgraph's own ``sigmoid`` and ``logsumexp`` and need no SciPy.
"""
from __future__ import annotations

from typing import Any, Optional

from symgraph.graph import Node
from symgraph.ops.elementwise import sigmoid as expit
from symgraph.ops.reduce import logsumexp as _logsumexp
from symgraph.ops.special import (MissingExtraError, digamma, erf, erfc, erfinv, gammaln,
                                  log_ndtr, logit, polygamma, xlog1py, xlogy)

__all__ = ["MissingExtraError", "digamma", "erf", "erfc", "erfinv", "expit", "gammaln",
           "log_ndtr", "logit", "logsumexp", "polygamma", "xlog1py", "xlogy"]


def logsumexp(a: Any, axis: Any = None, keepdims: bool = False,
              name_: Optional[str] = None) -> Node:
    """SciPy's ``special.logsumexp`` (without ``b`` and ``return_sign``): log(sum(exp(a)))
    over ``axis``, computed without overflow; the same op as ``sg.logsumexp``."""
    return _logsumexp(a, axis, keepdims, name_)
