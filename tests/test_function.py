"""Compiled functions: calling conventions, provenance, schedules and evaluation."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.runtime.schedule import schedule


def test_single_output_returns_an_array_and_a_list_returns_a_list():
    x = sg.var("x", (2,))
    one = sg.function([x], x * 2)
    many = sg.function([x], [x * 2, x.sum()])
    np.testing.assert_array_equal(one(np.array([1.0, 2.0])), [2.0, 4.0])
    out = many(np.array([1.0, 2.0]))
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(out[1], np.ndarray) and out[1].shape == () and out[1] == 3.0


def test_outputs_may_be_inputs_params_and_constants():
    x = sg.var("x", (2,))
    W = sg.param(np.array([5.0, 6.0]), name="W")
    out = sg.function([x], [x, W, sg.const(7.0), 3.0])(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out[0], [1.0, 2.0])
    np.testing.assert_array_equal(out[1], [5.0, 6.0])
    assert out[2] == 7.0 and out[3] == 3.0


def test_function_with_no_inputs_and_repeated_outputs():
    W = sg.param(np.array([1.0, -1.0]), name="W")
    y = sg.exp(W)
    a, b = sg.function([], [y, y])()
    np.testing.assert_allclose(a, np.exp([1.0, -1.0]))
    np.testing.assert_array_equal(a, b)


def test_unused_inputs_are_allowed_but_listed_once():
    x, z = sg.var("x"), sg.var("z")
    assert sg.function([x, z], x * 3)(2.0, 100.0) == 6.0
    with pytest.raises(ValueError):
        sg.function([x, x], x)
    with pytest.raises(TypeError):
        sg.function([sg.param(1.0)], x)


def test_calls_are_independent_and_do_not_touch_arguments():
    x = sg.var("x", (3,))
    f = sg.function([x], sg.exp(x) * 2 + x)
    data = np.array([0.0, 1.0, 2.0])
    keep = data.copy()
    first = f(data)
    second = f(data)
    np.testing.assert_array_equal(data, keep)
    np.testing.assert_array_equal(first, second)
    assert first is not second
    np.testing.assert_allclose(first, np.exp(keep) * 2 + keep, rtol=1e-15)


def test_a_call_reads_the_current_parameter_value():
    W = sg.param(np.array(1.0), name="W")
    x = sg.var("x")
    f = sg.function([x], x * W)
    assert f(3.0) == 3.0
    W.value = 2.0
    assert f(3.0) == 6.0


def test_sgd_through_updates_converges_to_the_closed_form():
    # least squares: the minimiser of |X w - t|^2 solves the normal equations
    rng = np.random.default_rng(1)
    X_data, t_data = rng.standard_normal((20, 3)), rng.standard_normal(20)
    X, t = sg.var("X", (None, 3)), sg.var("t", (None,))
    w = sg.param(np.zeros(3), name="w")
    loss = sg.mean(sg.square(X @ w - t))
    step = sg.function([X, t], loss, updates={w: w - 0.1 * sg.grad(loss, w)})
    losses = [float(step(X_data, t_data)) for _ in range(1000)]
    assert losses[-1] < losses[0]
    expected = np.linalg.lstsq(X_data, t_data, rcond=None)[0]
    np.testing.assert_allclose(w.value, expected, rtol=1e-6, atol=1e-8)


def test_graph_and_provenance():
    x = sg.var("x", (3,))
    y = sg.exp(x) + sg.exp(x)
    f = sg.function([x], y)
    assert isinstance(f.graph, sg.Graph)
    assert f.graph.count("exp") == 1
    fates = f.provenance.fates
    user_nodes = list(sg.Graph(y))
    assert sorted(fates) == sorted(n.id for n in user_nodes)
    exps = [n for n in user_nodes if n.op == "exp"]
    targets = {id(fates[n.id].new) for n in exps}
    assert len(targets) == 1 and fates[exps[1].id].how != "kept"
    report = f.report()
    assert "cse" in report and "nodes" in report


def test_without_optimisation_the_graph_is_the_users():
    x = sg.var("x", (3,))
    y = sg.exp(x) + sg.exp(x)
    f = sg.function([x], y, optimize=False)
    assert f.graph.nodes == sg.Graph(y).nodes
    np.testing.assert_allclose(f(np.zeros(3)), 2.0)


def test_schedule_frees_each_intermediate_after_its_last_use():
    x = sg.var("x", (3,))
    a = sg.exp(x)
    b = sg.sin(a)
    c = a * b          # last use of a and b
    d = c.sum()        # last use of c
    e = d + c.max()    # c is used here too, so c lives until now
    plan = schedule([e, b])
    position = {n.id: i for i, n in enumerate(plan.nodes)}
    freed_at = {}
    for k, step in enumerate(plan.steps):
        for slot in step.free:
            assert slot not in freed_at, "freed twice"
            freed_at[slot] = k
    steps_of = {step.node.id: k for k, step in enumerate(plan.steps)}
    # a dies at c; c dies at its last reader (the max), never before; outputs never die
    assert freed_at[position[a.id]] == steps_of[c.id]
    last_reader_of_c = max(steps_of[n.id] for n in plan.nodes if c in n.inputs)
    assert freed_at[position[c.id]] == last_reader_of_c
    assert position[b.id] not in freed_at and position[e.id] not in freed_at
    assert position[x.id] not in freed_at


def test_eval_with_unknown_sizes():
    x = sg.var("x", (None, 2))
    y = (x @ np.ones((2, 4))).sum(axis=1)
    np.testing.assert_array_equal(y.eval({x: np.ones((5, 2))}), np.full(5, 8.0))
    np.testing.assert_array_equal(y.eval({x: np.ones((1, 2))}), [8.0])


def test_integer_and_boolean_graphs_run():
    n = sg.var("n", (4,), "int64")
    mask = n > 1
    out = sg.function([n], [mask, sg.where(mask, n, 0).sum(), sg.one_hot(n, 4)])(
        np.array([0, 1, 2, 3]))
    np.testing.assert_array_equal(out[0], [False, False, True, True])
    assert out[1] == 5 and out[1].dtype == np.int64
    np.testing.assert_array_equal(out[2], np.eye(4))


def test_picking_log_probabilities_by_label():
    logits = sg.var("logits", (None, 3))
    labels = sg.var("labels", (None,), "int64")
    n = 4
    logp = sg.log_softmax(logits)
    loss = -logp[sg.arange(n), labels].mean()
    g = sg.grad(loss, logits)
    data = np.random.default_rng(3).standard_normal((n, 3))
    y = np.array([0, 2, 1, 2])
    value, grad = sg.function([logits, labels], [loss, g])(data, y)
    p = np.exp(data) / np.exp(data).sum(axis=1, keepdims=True)
    assert value == pytest.approx(-np.mean(np.log(p[np.arange(n), y])), rel=1e-12)
    # closed form of the cross-entropy gradient: (softmax - one_hot) / n
    np.testing.assert_allclose(grad, (p - np.eye(3)[y]) / n, rtol=1e-10, atol=1e-14)


def test_vjp_of_several_outputs_sums_their_contributions():
    x = sg.var("x", (3,))
    u, v = sg.sin(x), x * x
    g = sg.vjp([u, v], x, [np.ones(3), np.full(3, 2.0)])
    data = np.array([0.1, -0.4, 1.3])
    np.testing.assert_allclose(sg.function([x], g)(data), np.cos(data) + 4 * data, rtol=1e-14)


def test_grad_with_respect_to_params_and_intermediate_nodes():
    x = sg.var("x", (2,))
    W = sg.param(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    h = x @ W
    y = sg.square(h).sum()
    gW, gh = sg.grad(y, [W, h])
    data = np.array([1.0, -1.0])
    hv = data @ W.value
    got_W, got_h = sg.function([x], [gW, gh])(data)
    np.testing.assert_allclose(got_h, 2 * hv)                    # d sum(h^2) / dh
    np.testing.assert_allclose(got_W, np.outer(data, 2 * hv))    # x^T (2h)


def test_failure_after_the_update_is_computed_leaves_the_parameter_unchanged():
    # The update W + 1 is also used by the output, so it is computed before the add that
    # fails; an in-place write of the update would already have changed W.
    x, y = sg.var("x", (None, 3)), sg.var("y", (None, 3))
    W = sg.param(np.arange(3.0), name="W")
    W_next = W + 1
    f = sg.function([x, y], ((x + y) * W_next).sum(), updates={W: W_next})
    with pytest.raises(sg.EvaluationError):
        f(np.ones((2, 3)), np.ones((4, 3)))
    np.testing.assert_array_equal(W.value, [0.0, 1.0, 2.0])
    assert f(np.ones((1, 3)), np.ones((1, 3))) == 2 * (1 + 2 + 3)
    np.testing.assert_array_equal(W.value, [1.0, 2.0, 3.0])


def test_outputs_read_parameters_before_their_updates():
    V = sg.param(np.arange(3.0), name="V")
    V_next = V * 2
    f = sg.function([], [(V_next + V).sum(), V], updates={V: V_next})
    total, seen = f()
    assert total == 9.0                                   # 3 * (0 + 1 + 2)
    np.testing.assert_array_equal(seen, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(V.value, [0.0, 2.0, 4.0])


def test_inputs_with_unknown_sizes_are_not_written_in_place():
    a = sg.var("a", (None, 3))
    f = sg.function([a], [sg.exp(a) * 2 + 1, (a * 3 - a).sum(axis=0)])
    data = np.linspace(-1, 1, 6).reshape(2, 3)
    keep = data.copy()
    first, second = f(data)
    np.testing.assert_array_equal(data, keep)
    np.testing.assert_allclose(first, np.exp(keep) * 2 + 1, rtol=1e-15)
    np.testing.assert_allclose(second, (keep * 3 - keep).sum(axis=0), rtol=1e-15, atol=1e-15)
