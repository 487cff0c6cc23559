"""Taylor mode (``sg.taylor_derivatives``): closed forms to order 6, agreement with repeated
forward mode for every op it has a rule for, and a clear error for the ops it has none for."""
from __future__ import annotations

import math

import numpy as np
import pytest

import symgraph as sg
from symgraph.autodiff.taylor import BILINEAR_OPS, LINEAR_OPS, RULES
from symgraph.graph import Graph
from symgraph.passes.cse import cse
from test_higher import FUNCTIONS, GRID
from test_op_table import DIFFERENTIABLE, Case

SUPPORTED = set(RULES) | BILINEAR_OPS | LINEAR_OPS


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_taylor_derivatives_to_order_six_match_closed_forms(name):
    build, ref = FUNCTIONS[name]
    x = sg.var("x", (len(GRID),))
    ds = sg.nth_derivatives(build(x), x, 6, mode="taylor")
    for k, (g, e) in enumerate(zip(sg.function([x], ds)(GRID), ref(GRID, 6))):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11 * math.factorial(k),
                                   err_msg=f"{name}, order {k}")


def _complex_kink(case: Case) -> bool:
    # |z| of complex z has no Taylor rule (tested below); every other case runs
    return case.id == "abs-complex"


@pytest.mark.parametrize("case", [c for c in DIFFERENTIABLE if c.op in SUPPORTED
                                  and not _complex_kink(c)], ids=lambda c: c.id)
def test_taylor_mode_agrees_with_repeated_forward_mode(case: Case, rng):
    # Along the line inputs(t) = a + t v, the first three derivatives of the op's output by
    # Taylor mode equal those of three nested JVPs (which the op table checks numerically).
    arrays = case.inputs(rng)
    t = sg.var("t", ())
    line = [sg.const(a) + t * sg.const(rng.standard_normal(a.shape)) for a in arrays]
    node = case.build(*line)
    taylor = sg.nth_derivatives(node, t, 3, mode="taylor")
    forward = sg.nth_derivatives(node, t, 3, mode="forward")
    values = sg.function([t], taylor + forward)(0.0)
    for k in range(4):
        np.testing.assert_allclose(values[k], values[4 + k], rtol=1e-11, atol=1e-11,
                                   err_msg=f"{case.id}: derivative {k}")


def test_complex_abs_and_ops_without_complex_rules_are_refused():
    t = sg.var("t", ())
    z = sg.const(np.array([1 + 1j, 2 - 1j])) + t
    with pytest.raises(NotImplementedError, match="not piecewise linear on complex"):
        sg.nth_derivatives(sg.abs(z), t, 2, mode="taylor")
    with pytest.raises(sg.DTypeError, match="'sigmoid' has no derivative rules for complex"):
        sg.nth_derivatives(sg.real(sg.sigmoid(z)), t, 2, mode="taylor")


def test_power_with_a_small_integer_exponent_is_exact_at_zero():
    # The general power recurrence divides by the base; integer exponents multiply instead.
    x = sg.var("x", ())
    ds = sg.taylor_derivatives(x ** 3 + x ** 2, x, 4)
    assert sg.function([x], ds)(0.0) == [0.0, 0.0, 2.0, 6.0, 0.0]


def test_taylor_coefficients_along_a_direction():
    x = sg.var("x", (2,))
    c = sg.taylor_coefficients(sg.sum(sg.exp(x)), x, 3, direction=np.array([1.0, 2.0]))
    # sum exp(x_i + t v_i) has coefficient k = sum v_i^k exp(x_i) / k!
    got = sg.function([x], c)(np.zeros(2))
    np.testing.assert_allclose(got, [2.0, 3.0, 5.0 / 2, 9.0 / 6])


def test_an_op_without_a_taylor_rule_says_so():
    x = sg.var("x", (3,))
    with pytest.raises(NotImplementedError, match="softmax.*mode='forward'"):
        sg.taylor_derivatives(sg.softmax(x), x, 2)


def test_taylor_mode_graph_growth_on_a_deep_composition():
    w = sg.var("w", ())
    f = w
    for _ in range(8):
        f = sg.tanh(f)
    ds = sg.taylor_derivatives(f, w, 6)
    sizes = [len(Graph(cse([d]).outputs)) for d in ds[1:]]
    # O(n^2) per op: far under CasADi's 5705 and JAX jet's 789 ops at n = 6.
    assert sizes[-1] < 789, sizes
    d6 = sg.nth_derivative(f, w, 6)
    a, b = sg.function([w], [ds[6], d6])(0.4)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_taylor_mode_through_fft_and_einsum_matches_forward_mode():
    # fft ops are linear and a two-operand einsum bilinear, so Taylor mode propagates
    # their series exactly; forward mode (rules differentiated again) is the reference
    rng = np.random.default_rng(3)
    c, v = rng.standard_normal(6), rng.standard_normal(6)
    A = sg.const(rng.standard_normal((6, 6)))
    t = sg.var("t", ())
    x = t * v + c
    r = sg.fft.rfft(sg.tanh(x))
    y = (sg.sum(sg.real(r) ** 2 + sg.imag(r) ** 2)
         + sg.sum(sg.real(sg.fft.fft(sg.sin(x)) * sg.fft.fft(x)))
         + sg.einsum("i,ij,j->", sg.sin(x), A, sg.tanh(x))
         + sg.einsum("ii->", sg.outer(x, x)))
    taylor = sg.function([t], sg.nth_derivatives(y, t, 4, mode="taylor"))(np.array(0.3))
    forward = sg.function([t], sg.nth_derivatives(y, t, 4))(np.array(0.3))
    np.testing.assert_allclose(taylor, forward, rtol=1e-9, atol=1e-9)
    # and the first derivative against central differences of the value
    f = sg.function([t], y)
    eps = 1e-6
    fd = (f(np.array(0.3 + eps)) - f(np.array(0.3 - eps))) / (2 * eps)
    np.testing.assert_allclose(taylor[1], fd, rtol=1e-6)
