"""sg.special against SciPy (float32 and float64), derivatives beyond the op table, and
the clear error when the SciPy extra is missing (simulated)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import symgraph as sg
from symgraph.testing import check_grads

special = pytest.importorskip("scipy.special")

_UNARY = {"erf": (-3, 3), "erfc": (-3, 3), "erfinv": (-0.9, 0.9), "gammaln": (0.1, 8),
          "digamma": (0.2, 8), "logit": (0.05, 0.95), "log_ndtr": (-30, 8), "expit": (-20, 20)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_values_match_scipy(name, dtype, rng):
    lo, hi = _UNARY[name]
    x = rng.uniform(lo, hi, (3, 5)).astype(dtype)
    v = sg.var("x", x.shape, dtype)
    node = getattr(sg.special, name)(v)
    value = sg.function([v], node)(x)
    expected = getattr(special, name)(x)
    assert value.dtype == node.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(value, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_and_polygamma_values_match_scipy(dtype, rng):
    x = rng.standard_normal((2, 3)).astype(dtype)
    x[0, 0] = 0.0                           # 0 log 0 = 0
    y = rng.uniform(0.0, 2.0, (3,)).astype(dtype)
    y[0] = 0.0
    vx, vy = sg.var("x", x.shape, dtype), sg.var("y", y.shape, dtype)
    for name in ["xlogy", "xlog1py"]:
        node = getattr(sg.special, name)(vx, vy)
        value = sg.function([vx, vy], node)(x, y)
        np.testing.assert_allclose(value, getattr(special, name)(x, y), rtol=1e-6)
        assert value.dtype == node.dtype == dtype
    for n in range(4):
        node = sg.special.polygamma(n, vy + 0.5)
        value = sg.function([vy], node)(y)
        assert value.dtype == node.dtype == dtype
        np.testing.assert_allclose(value, special.polygamma(n, y + 0.5), rtol=1e-5)


def test_logsumexp_is_the_core_op(rng):
    x = rng.standard_normal((3, 4))
    v = sg.var("x", x.shape)
    node = sg.special.logsumexp(v, axis=1, keepdims=True)
    assert node.op == "logsumexp"
    np.testing.assert_allclose(sg.function([v], node)(x), special.logsumexp(x, axis=1, keepdims=True))


def test_third_derivatives_of_gammaln_reach_polygamma_2(rng):
    x = rng.uniform(0.5, 3.0, 4)
    v = sg.var("x", (4,))
    d3 = sg.grad(sg.grad(sg.grad(sg.special.gammaln(v).sum(), v).sum(), v).sum(), v)
    np.testing.assert_allclose(sg.function([v], d3)(x), special.polygamma(2, x), rtol=1e-12)
    check_grads(lambda a: sg.special.log_ndtr(a * 8.0), [rng.uniform(-4, 1, 5)], order=2)


def test_log_ndtr_derivative_is_finite_deep_in_the_tail():
    v = sg.var("x", (3,))
    g = sg.function([v], sg.grad(sg.special.log_ndtr(v).sum(), v))(np.array([-40.0, -10.0, 5.0]))
    # d/dx log Phi(x) ~ -x for x -> -inf
    np.testing.assert_allclose(g[:2], [40.025, 10.098], rtol=1e-3)
    assert np.all(np.isfinite(g))


def test_missing_scipy_raises_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)      # import scipy now fails
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    v = sg.var("x", (3,))
    with pytest.raises(sg.special.MissingExtraError,
                       match=r"pip install symgraph\[special\].*test_special.py"):
        sg.special.erf(v)
    with pytest.raises(ImportError, match="symgraph\\[special\\]"):
        sg.special.xlogy(v, v)
    # the functions without a SciPy kernel still work
    assert sg.special.expit(v).op == "sigmoid"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_more_functions_match_scipy(dtype, rng):
    x = rng.uniform(0.05, 0.95, (3, 4)).astype(dtype)
    v = sg.var("x", x.shape, dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name in ["ndtr", "ndtri", "gamma"]:
        node = getattr(sg.special, name)(v)
        value = sg.function([v], node)(x)
        assert value.dtype == node.dtype == dtype
        np.testing.assert_allclose(value, getattr(special, name)(x), rtol=tol)
    np.testing.assert_allclose(sg.function([v], sg.special.betaln(v, v[0]))(x),
                               special.betaln(x, x[0]), rtol=tol)
    for name in ["softmax", "log_softmax"]:
        for axis in [None, 0, -1]:
            node = getattr(sg.special, name)(v, axis=axis)
            np.testing.assert_allclose(sg.function([v], node)(x),
                                       getattr(special, name)(x, axis=axis), rtol=tol, atol=tol)
