"""Special functions with SciPy's kernels: erf, erfc, erfinv, gammaln, gamma, digamma,
polygamma, betaln, logit, ndtr, ndtri, log_ndtr, xlogy and xlog1py.

SciPy is the optional extra ``symgraph[special]``. This is the one module that imports it,
lazily, when a special function is first built; without it building one raises
``MissingExtraError`` naming ``pip install symgraph[special]``. The derivative rules are
symgraph ops (digamma's needs polygamma(1, x), declared here too).
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from symgraph.errors import ArgumentError, SymgraphError
from symgraph.graph import Node, _user_location
from symgraph.ops.elementwise import (_declare, _unary_rules, add, divide, exp, log, log1p,
                                      multiply, negative, reciprocal, square, subtract)
from symgraph.ops.registry import apply, as_node


class MissingExtraError(SymgraphError, ImportError):
    """An optional dependency (an extra of the symgraph package) is not installed."""


def scipy_special():
    """``scipy.special``, or a clear error naming the extra that installs it."""
    try:
        import scipy.special
    except ImportError:
        location = _user_location()
        where = f" (built at {location})" if location else ""
        raise MissingExtraError(
            "sg.special needs SciPy, an optional extra: pip install symgraph[special]"
            f"{where}") from None
    return scipy.special


def _kernel(name: str):
    # Looked up at call time, so importing symgraph never imports SciPy.
    def run(*args: Any, **attrs: Any) -> Any:
        return getattr(scipy_special(), name)(*args, **attrs)
    run.__name__ = name
    return run


def _polygamma_kernel(x: Any, n: int = 0) -> Any:
    # SciPy's polygamma computes in float64 whatever x is; float32 stays float32 here
    out = scipy_special().polygamma(n, x)
    return np.asarray(out).astype(np.result_type(np.asarray(x).dtype, np.float32), copy=False)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

# erf'(x) = 2/sqrt(pi) exp(-x^2);  erfc' = -erf'
_erf_vjp, _erf_jvp = _unary_rules(lambda y: multiply(_TWO_OVER_SQRT_PI, exp(negative(square(y.inputs[0])))))
_erfc_vjp, _erfc_jvp = _unary_rules(lambda y: multiply(-_TWO_OVER_SQRT_PI, exp(negative(square(y.inputs[0])))))
# erfinv'(x) = sqrt(pi)/2 exp(erfinv(x)^2)
_erfinv_vjp, _erfinv_jvp = _unary_rules(lambda y: divide(exp(square(y)), _TWO_OVER_SQRT_PI))
# gammaln'(x) = digamma(x);  digamma'(x) = polygamma(1, x);  polygamma(n)' = polygamma(n + 1)
_gammaln_vjp, _gammaln_jvp = _unary_rules(lambda y: digamma(y.inputs[0]))
_digamma_vjp, _digamma_jvp = _unary_rules(lambda y: polygamma(1, y.inputs[0]))
_polygamma_vjp, _polygamma_jvp = _unary_rules(lambda y: polygamma(y.attr("n") + 1, y.inputs[0]))
# logit'(p) = 1 / (p (1 - p))
_logit_vjp, _logit_jvp = _unary_rules(lambda y: reciprocal(multiply(y.inputs[0], subtract(1, y.inputs[0]))))
# log_ndtr'(x) = phi(x) / Phi(x) = exp(-x^2/2 - log(2 pi)/2 - log_ndtr(x)), stable in both tails
_log_ndtr_vjp, _log_ndtr_jvp = _unary_rules(lambda y: exp(subtract(
    subtract(multiply(-0.5, square(y.inputs[0])), _LOG_SQRT_2PI), y)))


# ndtr'(x) = phi(x) = exp(-x^2/2) / sqrt(2 pi);  ndtri'(p) = 1 / phi(ndtri(p))
_ndtr_vjp, _ndtr_jvp = _unary_rules(lambda y: exp(subtract(multiply(-0.5, square(y.inputs[0])),
                                                            _LOG_SQRT_2PI)))
_ndtri_vjp, _ndtri_jvp = _unary_rules(lambda y: exp(add(multiply(0.5, square(y)), _LOG_SQRT_2PI)))
# gamma'(x) = gamma(x) digamma(x)
_gamma_vjp, _gamma_jvp = _unary_rules(lambda y: multiply(y, digamma(y.inputs[0])))


# betaln(a, b) = gammaln(a) + gammaln(b) - gammaln(a + b):
#   d/da = digamma(a) - digamma(a + b),  d/db = digamma(b) - digamma(a + b)
def _betaln_vjp(node, g):
    a, b = node.inputs
    both = digamma(add(a, b))
    return (multiply(g, subtract(digamma(a), both)), multiply(g, subtract(digamma(b), both)))


def _betaln_jvp(node, t):
    a, b = node.inputs
    both = digamma(add(a, b))
    terms = [multiply(t[0], subtract(digamma(a), both)) if t[0] is not None else None,
             multiply(t[1], subtract(digamma(b), both)) if t[1] is not None else None]
    return _add_present(terms)


# xlogy(x, y) = x log y (0 where x = 0):  d/dx = log y,  d/dy = x / y
def _xlogy_vjp(node, g):
    x, y = node.inputs
    return (multiply(g, log(y)), multiply(g, divide(x, y)))


def _xlogy_jvp(node, t):
    x, y = node.inputs
    terms = [multiply(t[0], log(y)) if t[0] is not None else None,
             multiply(t[1], divide(x, y)) if t[1] is not None else None]
    return _add_present(terms)


# xlog1py(x, y) = x log(1 + y):  d/dx = log1p(y),  d/dy = x / (1 + y)
def _xlog1py_vjp(node, g):
    x, y = node.inputs
    return (multiply(g, log1p(y)), multiply(g, divide(x, add(y, 1))))


def _xlog1py_jvp(node, t):
    x, y = node.inputs
    terms = [multiply(t[0], log1p(y)) if t[0] is not None else None,
             multiply(t[1], divide(x, add(y, 1))) if t[1] is not None else None]
    return _add_present(terms)


def _add_present(terms: list) -> Optional[Node]:
    present = [t for t in terms if t is not None]
    return None if not present else (present[0] if len(present) == 1 else add(*present))


_declare("erf", _kernel("erf"), _erf_vjp, _erf_jvp)
_declare("erfc", _kernel("erfc"), _erfc_vjp, _erfc_jvp)
_declare("erfinv", _kernel("erfinv"), _erfinv_vjp, _erfinv_jvp)
_declare("gammaln", _kernel("gammaln"), _gammaln_vjp, _gammaln_jvp)
_declare("digamma", _kernel("digamma"), _digamma_vjp, _digamma_jvp)
_declare("polygamma", _polygamma_kernel, _polygamma_vjp, _polygamma_jvp)
_declare("logit", _kernel("logit"), _logit_vjp, _logit_jvp)
_declare("log_ndtr", _kernel("log_ndtr"), _log_ndtr_vjp, _log_ndtr_jvp)
_declare("ndtr", _kernel("ndtr"), _ndtr_vjp, _ndtr_jvp)
_declare("ndtri", _kernel("ndtri"), _ndtri_vjp, _ndtri_jvp)
_declare("gamma", _kernel("gamma"), _gamma_vjp, _gamma_jvp)
_declare("betaln", _kernel("betaln"), _betaln_vjp, _betaln_jvp)
_declare("xlogy", _kernel("xlogy"), _xlogy_vjp, _xlogy_jvp)
_declare("xlog1py", _kernel("xlog1py"), _xlog1py_vjp, _xlog1py_jvp)


# --- the functions ---------------------------------------------------------------------------
def _unary(name: str, summary: str):
    def fn(x: Any, name_: Optional[str] = None) -> Node:
        scipy_special()
        return apply(name, [as_node(x)], name_)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"SciPy's ``special.{name}``: {summary}, elementwise."
    return fn


def _binary(name: str, summary: str):
    def fn(x: Any, y: Any, name_: Optional[str] = None) -> Node:
        scipy_special()
        return apply(name, [as_node(x), as_node(y)], name_)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"SciPy's ``special.{name}``: {summary}, elementwise with broadcasting."
    return fn


erf = _unary("erf", "the error function")
erfc = _unary("erfc", "1 - erf(x), accurate for large x")
erfinv = _unary("erfinv", "the inverse of erf on (-1, 1)")
gammaln = _unary("gammaln", "log|Gamma(x)|")
digamma = _unary("digamma", "the derivative of gammaln")
logit = _unary("logit", "log(p / (1 - p)), the inverse of expit")
log_ndtr = _unary("log_ndtr", "the log of the standard normal CDF, accurate in both tails")
ndtr = _unary("ndtr", "the standard normal CDF")
ndtri = _unary("ndtri", "the inverse of ndtr on (0, 1)")
gamma = _unary("gamma", "the gamma function")
betaln = _binary("betaln", "log|B(a, b)|, the log of the beta function")
xlogy = _binary("xlogy", "x log(y), 0 where x = 0")
xlog1py = _binary("xlog1py", "x log(1 + y), 0 where x = 0")


def polygamma(n: int, x: Any, name_: Optional[str] = None) -> Node:
    """SciPy's ``special.polygamma``: the n-th derivative of digamma (n an int >= 0)."""
    scipy_special()
    if int(n) != n or n < 0:
        raise ArgumentError(f"polygamma: n is an int >= 0, got {n!r}")
    return apply("polygamma", [as_node(x)], name_, n=int(n))
