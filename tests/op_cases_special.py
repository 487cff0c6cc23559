"""Op-table cases for the special functions (symgraph/ops/special.py, SciPy's kernels).

SciPy is an optional extra of symgraph; its ops are registered either way, so the table
needs their cases. Each case says it needs SciPy, so the core suite skips them where the
extra is missing (the project's setup installs it, so CI runs them); the references use
SciPy lazily.
"""
from __future__ import annotations

import dataclasses

import symgraph as sg
from symgraph import special as sp

from op_case import Case, normal, positive


def _scipy(name: str):
    def ref(*args):
        import scipy.special
        return getattr(scipy.special, name)(*args)
    return ref


def _uniform(lo: float, hi: float, *shapes: tuple):
    return lambda rng: [rng.uniform(lo, hi, s) for s in shapes]


_CASES: list[Case] = [
    Case("erf", "erf", normal((2, 3)), sp.erf, _scipy("erf")),
    Case("erfc", "erfc", normal((2, 3)), sp.erfc, _scipy("erfc")),
    Case("erfinv", "erfinv", _uniform(-0.8, 0.8, (2, 3)), sp.erfinv, _scipy("erfinv")),
    Case("gammaln", "gammaln", positive((2, 3), lo=0.5, hi=4.0), sp.gammaln, _scipy("gammaln")),
    Case("digamma", "digamma", positive((2, 3), lo=0.5, hi=4.0), sp.digamma, _scipy("digamma")),
    Case("polygamma", "polygamma", positive((2, 3), lo=0.5, hi=4.0),
         lambda x: sp.polygamma(1, x), lambda x: _scipy("polygamma")(1, x)),
    Case("logit", "logit", _uniform(0.1, 0.9, (2, 3)), sp.logit, _scipy("logit")),
    Case("log_ndtr", "log_ndtr", _uniform(-6.0, 4.0, (2, 4)), sp.log_ndtr, _scipy("log_ndtr")),
    Case("xlogy", "xlogy", lambda rng: normal((2, 3))(rng) + positive((3,))(rng), sp.xlogy,
         _scipy("xlogy")),
    Case("xlog1py", "xlog1py", lambda rng: normal((2, 3))(rng) + positive((2, 3), lo=-0.5)(rng),
         sp.xlog1py, _scipy("xlog1py")),
    Case("ndtr", "ndtr", normal((2, 3)), sp.ndtr, _scipy("ndtr")),
    Case("ndtri", "ndtri", _uniform(0.05, 0.95, (2, 3)), sp.ndtri, _scipy("ndtri")),
    Case("gamma", "gamma", positive((2, 3), lo=0.5, hi=3.0), sp.gamma, _scipy("gamma")),
    Case("betaln", "betaln", lambda rng: positive((2, 3))(rng) + positive((3,), lo=0.5, hi=3.0)(rng),
         sp.betaln, _scipy("betaln")),
    Case("expit-is-sigmoid", "sigmoid", normal((3,)), sp.expit, _scipy("expit")),
]

# SciPy's kernels: the special functions' cases run where the extra is installed.
CASES: list[Case] = [dataclasses.replace(c, needs=("scipy",)) for c in _CASES]
