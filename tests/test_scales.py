"""Scale placement (``passes/scales.py``, applied in the sign pass's walk): a scalar factor
of a matrix product moves onto the smaller operand (``c * (A @ B) -> (c * A) @ B``), only
when nothing else reads the product; results are unchanged up to rounding, checked against
NumPy computing the original formula."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.graph import Graph
from symgraph.passes.provenance import REWRITTEN
from symgraph.passes.signs import signs

RNG = np.random.default_rng(5)


def test_factor_moves_onto_the_smaller_left_operand():
    a, b = sg.var("a", (3, 2)), sg.var("b", (2, 5))
    y = 0.5 * (a @ b)                      # -> (0.5 * a) @ b: 6 multiplies, not 15
    result = signs([y])
    out = result.outputs[0]
    assert out.op == "matmul" and out.inputs[1] is b
    assert out.inputs[0].op == "multiply" and a in out.inputs[0].inputs
    assert result.fates[y.id].how == REWRITTEN
    assert result.fates[y.id].rule == "scale_smaller_operand"
    A, B = RNG.standard_normal((3, 2)), RNG.standard_normal((2, 5))
    np.testing.assert_allclose(sg.function([a, b], y)(A, B), 0.5 * (A @ B), rtol=1e-14)


def test_factor_moves_onto_the_smaller_right_operand_of_a_weight_gradient():
    # the SGD update of a weight: W - lr * (x.T @ d), x: (8, 20), d: (8, 6)
    x, d = sg.var("x", (8, 20)), sg.var("d", (8, 6))
    w = sg.param(RNG.standard_normal((20, 6)), name="W")
    y = w - 0.1 * (x.T @ d)
    out = signs([y]).outputs[0]
    product = out.inputs[1]
    assert product.op == "matmul" and product.inputs[1].op == "multiply"
    X, D = RNG.standard_normal((8, 20)), RNG.standard_normal((8, 6))
    np.testing.assert_allclose(sg.function([x, d], y)(X, D), w.value - 0.1 * (X.T @ D),
                               rtol=1e-13)


def test_a_product_read_twice_keeps_its_factor():
    a, b = sg.var("a", (3, 2)), sg.var("b", (2, 5))
    p = a @ b
    y = 2.0 * p + p                         # moving the factor would compute a @ b twice
    out = signs([y]).outputs[0]
    assert out is y
    assert Graph(sg.function([a, b], y).graph.outputs).count("matmul") == 1


def test_factor_stays_when_no_operand_is_smaller_than_the_product():
    a, b = sg.var("a", (4, 4)), sg.var("b", (4, 1))   # product (4, 1) is the smallest
    y = 3.0 * (a @ b)
    assert signs([y]).outputs[0] is y


def test_training_step_scales_the_small_delta_not_the_big_gradient():
    x, labels = sg.var("x", (16, 50)), sg.var("labels", (16,), "int64")
    w = sg.param(RNG.standard_normal((50, 4)) * 0.1, name="W")
    loss = sg.mean(sg.nn.softmax_cross_entropy(x @ w, labels))
    (g,) = sg.grad(loss, [w])
    step = sg.function([x, labels], loss, updates={w: w - 0.5 * g})
    # the factor multiplies a (16, 4) array, never the (50, 4) gradient
    scaled = [n for n in step.graph if n.op == "multiply" and n.shape == (50, 4)]
    assert scaled == []
    X, L = RNG.standard_normal((16, 50)), RNG.integers(0, 4, 16)
    W0 = w.value.copy()
    z = X @ W0
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(16), L] -= 1
    step(X, L)
    np.testing.assert_allclose(w.value, W0 - 0.5 * (X.T @ (p / 16)), rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.floats(-4, 4),
       st.sampled_from(["float32", "float64"]), st.booleans())
def test_results_unchanged(m, k, n, c, dtype, left):
    a, b = sg.var("a", (m, k), dtype), sg.var("b", (k, n), dtype)
    y = c * (a @ b) if left else (a @ b) * c
    A = RNG.standard_normal((m, k)).astype(dtype)
    B = RNG.standard_normal((k, n)).astype(dtype)
    got = sg.function([a, b], y)(A, B)
    raw = sg.function([a, b], y, optimize=False)(A, B)
    assert got.dtype == raw.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, raw, rtol=tol, atol=tol * (1 + abs(c)) * k)
