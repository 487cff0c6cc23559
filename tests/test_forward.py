"""Forward mode (``sg.jvp``): the textbook's dual-number example, the inner-product identity
<u, J v> = <J^T u, v> between JVP and VJP for every op (at first and second order), derivatives
of every op to order 4, and the pruning of symbolic zeros."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.graph import Graph
from symgraph.testing import check_grads
from test_op_table import DIFFERENTIABLE, Case, _vars


# --- the textbook: f(x, y) = x y^2 + y + 5 with dual numbers ----------------------------
def _textbook():
    x, y = sg.var("x"), sg.var("y")
    return x, y, x * y ** 2 + y + 5


# (its values along x and y are in test_textbook.py)
def test_textbook_tangents_as_graph_inputs():
    # The tangent can itself be an input: one compiled function for every direction.
    x, y, f = _textbook()
    dx, dy = sg.var("dx"), sg.var("dy")
    run = sg.function([x, y, dx, dy], sg.jvp(f, [x, y], [dx, dy]))
    assert run(2.0, 3.0, 0.0, 1.0) == 13.0
    assert run(2.0, 3.0, 1.0, 0.0) == 9.0
    assert run(2.0, 3.0, 1.0, 1.0) == 22.0   # linear in the tangent


# --- every op: JVP and VJP are transposes of each other -------------------------------------
def _inner(a: np.ndarray, b: np.ndarray) -> float:
    # Re(sum(a b)): the bilinear pairing of the complex convention (docs/higher-order.md)
    return float(np.real(np.sum(np.asarray(a, np.complex128) * np.asarray(b, np.complex128))))


def _normal(rng: np.random.Generator, like: np.ndarray) -> np.ndarray:
    out = rng.standard_normal(np.shape(like))
    return out + 1j * rng.standard_normal(np.shape(like)) if np.iscomplexobj(like) else out


def _check_transpose(nodes: list, xs: list, arrays: list, rng: np.random.Generator,
                     what: str) -> None:
    outs = sg.function(xs, nodes)(*arrays)
    us = [_normal(rng, o) for o in outs]
    vs = [_normal(rng, a) for a in arrays]
    jv = sg.function(xs, sg.jvp(nodes, xs, vs))(*arrays)
    jtu = sg.function(xs, sg.vjp(nodes, xs, us))(*arrays)
    left = sum(_inner(u, t) for u, t in zip(us, jv))
    right = sum(_inner(g, v) for g, v in zip(jtu, vs))
    scale = max(1.0, sum(np.abs(u).sum() * np.abs(t).sum() for u, t in zip(us, jv)) ** 0.5)
    assert abs(left - right) <= 1e-10 * scale, f"{what}: <u, Jv> = {left}, <J^T u, v> = {right}"


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.id)
def test_jvp_is_the_transpose_of_vjp(case: Case, rng):
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    _check_transpose([case.build(*xs)], xs, arrays, rng, case.id)


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.id)
def test_jvp_is_the_transpose_of_vjp_on_the_gradient_graph(case: Case, rng):
    # The same identity one order up: the VJP graph (built from the op's derivative rules)
    # is a function of the inputs, and its own JVP and VJP must be transposes too.
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    node = case.build(*xs)
    u = _normal(rng, sg.function(xs, node)(*arrays))
    grads = sg.vjp(node, xs, u)
    _check_transpose(list(grads), xs, arrays, rng, case.id + " (gradient graph)")


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.id)
def test_every_op_differentiates_to_order_four(case: Case, rng):
    # Reverse over reverse three times, then both modes on top, against finite differences.
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    check_grads(case.build(*xs), xs, arrays, order=4, modes=("rev", "fwd"), seed=11)


# --- forward over forward -------------------------------------------------------------------
def test_jvp_of_jvp_is_a_second_directional_derivative():
    x = sg.var("x", (3,))
    f = sg.sum(sg.sin(x) * x ** 2)
    a, u, w = np.array([0.3, -1.1, 2.0]), np.array([1.0, 2.0, -1.0]), np.array([0.5, 0.0, 3.0])
    second = sg.jvp(sg.jvp(f, x, u), x, w).eval({x: a})
    # f = sum g(x_i) with g = x^2 sin x: the Hessian is diag(g''), g'' = (2 - x^2) sin x + 4 x cos x
    g2 = (2 - a ** 2) * np.sin(a) + 4 * a * np.cos(a)
    np.testing.assert_allclose(second, np.sum(u * g2 * w), rtol=1e-13)


# --- symbolic zeros --------------------------------------------------------------------------
def test_zero_tangents_are_never_materialised():
    x, y = sg.var("x", (3,)), sg.var("y", (3,))
    f = sg.tanh(x) * 2.0 + sg.exp(y)
    t = sg.jvp(f, [x, y], [np.ones(3), None])
    ops = [n.op for n in Graph(t).nodes]
    # No zero tangent for y was built, so nothing of exp(y)'s derivative is in the graph.
    assert "exp" not in ops and "broadcast_like" not in ops
    np.testing.assert_allclose(t.eval({x: np.zeros(3), y: np.zeros(3)}), [2.0, 2.0, 2.0])


def test_jvp_of_an_output_that_does_not_depend_on_wrt_is_zero():
    x, y = sg.var("x", (2,)), sg.var("y", (2,))
    t = sg.jvp(sg.exp(y), x, np.ones(2))
    assert t.shape == (2,)
    np.testing.assert_array_equal(t.eval({y: np.ones(2)}), [0.0, 0.0])


def test_jvp_stops_at_stop_gradient():
    x = sg.var("x", ())
    f = x * sg.stop_gradient(x * x)
    assert sg.jvp(f, x, 1.0).eval({x: 3.0}) == 9.0


def test_jvp_rejects_a_tangent_of_the_wrong_shape():
    x = sg.var("x", (3,))
    with pytest.raises(sg.ShapeError, match="tangent of shape"):
        sg.jvp(sg.tanh(x), x, np.ones(4))


# --- a tangent map reused across orders ------------------------------------------------------
def test_nth_derivatives_match_nested_jvp():
    x = sg.var("x", ())
    f = sg.sin(sg.exp(x) * x)
    nested = f
    for _ in range(4):
        nested = sg.jvp(nested, x, 1.0)
    fast = sg.nth_derivative(f, x, 4)
    a, b = sg.function([x], [nested, fast])(0.7)
    np.testing.assert_allclose(b, a, rtol=1e-12)
    assert len(Graph(fast)) < len(Graph(nested))
