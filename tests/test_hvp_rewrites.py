"""Rewrites that make Hessian-vector products cheaper: signs moved out of products (so
second derivatives lose their negations), and the linearisation's regrouping of products so
that factors not depending on the direction are computed once at the point."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.autodiff.higher import hoist_point_factors, split_linear
from symgraph.graph import Graph
from symgraph.passes.pipeline import optimize
from symgraph.passes.provenance import REWRITTEN
from symgraph.passes.signs import signs

RNG = np.random.default_rng(3)


def _ops(outputs) -> list[str]:
    return [n.op for n in Graph(outputs).nodes]


# --- the sign pass, before and after ------------------------------------------------------
def test_negative_moves_out_of_a_product_into_the_sum():
    x, a, b = sg.var("x", (2, 3)), sg.var("a", (2, 3)), sg.var("b", (3,))
    y = x + (-a) * b          # -> x - a * b
    result = signs([y])
    out = result.outputs[0]
    assert out.op == "subtract" and out.inputs[0] is x
    assert out.inputs[1].op == "multiply" and out.inputs[1].inputs == (a, b)
    assert "negative" not in _ops(result.outputs)
    product = y.inputs[1]
    assert result.fates[product.id].how == REWRITTEN
    assert "negative_out_of_product" in result.fates[product.id].rule
    X, A, B = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    np.testing.assert_allclose(sg.function([x, a, b], y)(X, A, B), X - A * B, rtol=1e-15)


def test_negative_moves_out_of_a_difference():
    x, a, b = sg.var("x", (3,)), sg.var("a", (3,)), sg.var("b", (3,))
    y = x - ((-a) - b)        # -> x + (a + b)
    out = signs([y]).outputs[0]
    assert out.op == "add" and out.inputs[1].op == "add"
    assert "negative" not in _ops([out])
    X, A, B = (RNG.standard_normal(3) for _ in range(3))
    np.testing.assert_allclose(sg.function([x, a, b], y)(X, A, B), X + A + B, rtol=1e-15)


def test_a_negation_read_twice_stays_where_it_is():
    # -y is read by the product and by the sum: moving it would compute it twice
    y, z = sg.var("y", (3,)), sg.var("z", (3,))
    neg = -y
    out = (neg * z) + neg
    assert len(Graph(optimize([out])[0].outputs)) <= len(Graph([out]))
    assert Graph(signs([out]).outputs).count("negative") == 1
    Y, Z = RNG.standard_normal(3), RNG.standard_normal(3)
    np.testing.assert_allclose(sg.function([y, z], out)(Y, Z), -Y * Z - Y, rtol=1e-15)


def test_a_division_keeps_its_form_for_the_stabiliser():
    g, s = sg.var("g", (3,)), sg.var("s", (3,))
    y = (-g) * sg.reciprocal(s)
    assert signs([y]).outputs[0] is y


def test_the_second_derivative_of_tanh_has_no_negation_left():
    w = sg.var("w", ())
    f = w
    for _ in range(8):
        f = sg.tanh(f)
    d2 = sg.nth_derivative(f, w, 2)
    graph = Graph(optimize([d2])[0].outputs)
    assert graph.count("negative") <= 1
    # CasADi's count with CSE for the same function (issue 3's graph-growth target)
    assert len(graph) <= 76
    fast = sg.function([w], d2)(0.3)
    slow = sg.function([w], d2, optimize=False)(0.3)
    np.testing.assert_allclose(fast, slow, rtol=1e-13)


_LEAVES = ("x", "y", "z")


@st.composite
def _signed_programs(draw):
    """Random expressions of negations, products, sums and differences of three inputs."""
    steps = draw(st.lists(st.tuples(st.sampled_from(["neg", "mul", "add", "sub"]),
                                    st.integers(0, 99), st.integers(0, 99)),
                          min_size=1, max_size=12))
    return steps


@settings(max_examples=40, deadline=None)
@given(_signed_programs(), st.integers(0, 2 ** 16))
def test_sign_pass_leaves_results_unchanged_and_adds_no_node(steps, seed):
    xs = [sg.var(name, (3,)) for name in _LEAVES]
    pool = list(xs)
    for op, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append({"neg": lambda: -a, "mul": lambda: a * b, "add": lambda: a + b,
                     "sub": lambda: a - b}[op]())
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal(3) for _ in xs]
    out = pool[-1]
    assert len(Graph(signs([out]).outputs)) <= len(Graph([out]))
    fast = sg.function(xs, out)(*args)
    slow = sg.function(xs, out, optimize=False)(*args)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


# --- the linearisation: factors not depending on v are computed at the point ---------------
def test_scalings_by_point_values_are_gathered_into_one_factor():
    t, a, b = sg.var("t", (3,)), sg.var("a", (3,)), sg.var("b", (3,))
    y = (t * a) * b           # -> t * (a * b)
    z = -(t * a)              # -> t * (-a)
    new_y, new_z = hoist_point_factors([y, z], [t])
    assert new_y.op == "multiply" and new_y.inputs[0] is t
    assert new_y.inputs[1].op == "multiply" and new_y.inputs[1].inputs == (a, b)
    assert new_z.op == "multiply" and new_z.inputs[0] is t and new_z.inputs[1].op == "negative"
    T, A, B = (RNG.standard_normal(3) for _ in range(3))
    got = sg.function([t, a, b], [new_y, new_z])(T, A, B)
    np.testing.assert_allclose(got[0], T * A * B, rtol=1e-15)
    np.testing.assert_allclose(got[1], -T * A, rtol=1e-15)


def test_products_of_directions_are_left_alone():
    t, u, a = sg.var("t", (3,)), sg.var("u", (3,)), sg.var("a", (3,))
    y = (t * u) * a           # t * u depends on the directions twice: nothing to gather
    assert hoist_point_factors([y], [t, u])[0] is y
    assert hoist_point_factors([(t * a) * u], [t, u])[0].inputs[1] is u


def test_split_computes_the_gathered_factor_at_the_point():
    w = sg.param(RNG.standard_normal(4), name="w")
    t = sg.var("t", (4,))
    h = sg.tanh(w)
    y = (t * h) * (1.0 - h * h)
    lin = split_linear([h], [y], [t])
    # one residual, the product of the two point factors, and one product per direction
    assert len(lin.residuals) == 1 and lin.residuals[0].op == "multiply"
    assert _ops(lin.tangent).count("multiply") == 1
    H = np.tanh(w.value)
    T = RNG.standard_normal(4)
    r = sg.function([], list(lin.residuals))()
    got = sg.function([*lin.directions, *lin.residual_inputs], list(lin.tangent))(T, *r)[0]
    np.testing.assert_allclose(got, T * H * (1 - H * H), rtol=1e-14)


def _tanh_mlp(rng, sizes=(5, 4, 4, 3), batch=6):
    x = sg.var("x", (batch, sizes[0]))
    labels = sg.var("labels", (batch,), "int64")
    params, h = [], x
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = sg.param(rng.standard_normal((a, b)) / np.sqrt(a), name=f"W{k}")
        c = sg.param(0.1 * rng.standard_normal(b), name=f"b{k}")
        params += [W, c]
        h = h @ W + c
        if k < len(sizes) - 2:
            h = sg.tanh(h)
    loss = -sg.mean(sg.log_softmax(h)[sg.arange(batch), labels])
    return x, labels, params, loss, rng.standard_normal((batch, sizes[0])), \
        rng.integers(0, sizes[-1], batch)


def test_mlp_matvec_scales_each_tangent_once_per_factor():
    rng = np.random.default_rng(7)
    x, labels, params, loss, X, Y = _tanh_mlp(rng)
    H = sg.linearize_hvp(loss, params, inputs=[x, labels]).at(X, Y)
    graph = H._tangent.graph
    residual_ids = {r.id for r in H.linearization.residual_inputs}
    assert graph.count("negative") == 0
    for n in graph.nodes:
        if n.op != "multiply":
            continue
        # no (t * r1) * r2 with r1, r2 both computed at the point
        for inner, outer in (n.inputs, n.inputs[::-1]):
            if outer.id in residual_ids and inner.op == "multiply":
                assert not any(i.id in residual_ids for i in inner.inputs), n
    # and the products still agree with central differences of the gradient
    vs = [rng.standard_normal(p.shape) for p in params]
    g = sg.function([x, labels], sg.grad(loss, params))
    start = [p.value.copy() for p in params]
    eps = 1e-5
    for p, s, v in zip(params, start, vs):
        p.value = s + eps * v
    up = g(X, Y)
    for p, s, v in zip(params, start, vs):
        p.value = s - eps * v
    down = g(X, Y)
    for p, s in zip(params, start):
        p.value = s
    fd = np.concatenate([((u - d) / (2 * eps)).ravel() for u, d in zip(up, down)])
    got = np.concatenate([np.ravel(b) for b in H.matvec(vs)])
    assert np.linalg.norm(got - fd) < 1e-7 * np.linalg.norm(fd)


def test_operator_with_scalar_residuals():
    # y = sin(w) w for a scalar w: y'' = 2 cos(w) - w sin(w), every residual a 0-d array
    w = sg.param(np.array(0.7), name="w")
    H = sg.linearize_hvp(sg.sin(w) * w, w).at()
    assert all(r.shape == () for r in H.linearization.residuals)
    got = H.matvec(np.array([1.5]))
    np.testing.assert_allclose(got, [1.5 * (2 * np.cos(0.7) - 0.7 * np.sin(0.7))], rtol=1e-12)
