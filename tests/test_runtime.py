"""The runtime: generated source, memory planning (in place, reuse, parameter updates in
place), check_nan and run-time errors."""
from __future__ import annotations

import ast
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.ops.shape import sum_to_like
from symgraph.runtime import memory
from symgraph.runtime.schedule import schedule

RNG = np.random.default_rng(1)


def _mlp(n: int = 8, dtype: str = "float64"):
    x, y = sg.var("x", (n, 5), dtype), sg.var("y", (n,), "int64")
    W1 = sg.param(RNG.standard_normal((5, 6)).astype(dtype), name="W1")
    b1 = sg.param(np.zeros(6, dtype), name="b1")
    W2 = sg.param(RNG.standard_normal((6, 3)).astype(dtype), name="W2")
    h = sg.tanh(x @ W1 + b1)
    loss = -sg.mean(sg.log_softmax(h @ W2)[sg.arange(n), y])
    params = [W1, b1, W2]
    grads = sg.grad(loss, params)
    return x, y, params, loss, grads


def _numpy_step(params, x, y, lr):
    W1, b1, W2 = params
    n = x.shape[0]
    h = np.tanh(x @ W1 + b1)
    z = h @ W2
    z = z - z.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    dz = (p - np.eye(3)[y]) / n
    dW2 = h.T @ dz
    dh = dz @ W2.T * (1 - h * h)
    return loss, [W1 - lr * (x.T @ dh), b1 - lr * dh.sum(0), W2 - lr * dW2]


# --- generated source ------------------------------------------------------------------------
def test_source_is_python_with_one_statement_per_step_and_names_in_comments():
    x = sg.var("x", (3,))
    y = sg.exp(x, name_="growth") * 2.0
    f = sg.function([x], y, fusion="off")    # the NumPy tier's source (fusion merges steps)
    tree = ast.parse(f.source)
    assert isinstance(tree.body[0], ast.FunctionDef)
    assert "'growth' exp" in f.source
    calls = [line for line in f.source.splitlines() if " = _" in line]
    assert len(calls) == len(f._schedule.steps)


def test_source_is_deterministic_and_identifiers_are_generated():
    x = sg.var("x", (2, 2))
    y = sg.tanh(x @ x, name_="weird name\nwith newline; import os") + 1.0
    a, b = sg.function([x], y), sg.function([x], y)
    assert a.source == b.source
    for line in a.source.splitlines():         # the name only ever appears in a comment
        assert "import os" not in line.split("#")[0]
    assert len(a.source.splitlines()) == len(b.source.splitlines())
    ast.parse(a.source)
    np.testing.assert_allclose(a(np.eye(2)), np.tanh(np.eye(2)) + 1.0)


def test_optimize_false_runs_the_raw_graph():
    x = sg.var("x", (3,))
    y = sg.log(sg.softmax(x)) * 1.0
    raw = sg.function([x], y, optimize=False)
    assert len(raw.graph) == len(raw.user_graph)
    assert "out=" not in raw.source
    fast = sg.function([x], y)
    data = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(raw(data), fast(data), rtol=1e-14)


def test_report_lists_passes_counts_and_memory():
    x, y, params, loss, grads = _mlp()
    f = sg.function([x, y], loss, updates={p: p - 0.1 * g for p, g in zip(params, grads)})
    text = f.report()
    for word in ("nodes", "fates", "stabilize", "fold", "simplify", "dce", "schedule",
                 "codegen", "in place"):
        assert word in text


# --- memory planning -----------------------------------------------------------------------
def test_training_step_matches_numpy_and_writes_updates_into_spare_buffers():
    x, y, params, loss, grads = _mlp()
    start = [p.value.copy() for p in params]
    buffers = [p.value for p in params]
    f = sg.function([x, y], loss, updates={p: p - 0.1 * g for p, g in zip(params, grads)})
    assert f._plan.param_writes, f.source
    xd, yd = RNG.standard_normal((8, 5)), np.arange(8) % 3
    expected_loss, expected = _numpy_step(start, xd, yd, 0.1)
    got = f(xd, yd)
    np.testing.assert_allclose(got, expected_loss, rtol=1e-12)
    for p, buf, e, s in zip(params, buffers, expected, start):
        np.testing.assert_allclose(p.value, e, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(buf, s)       # an array you hold is never written
    # Nobody holds the old arrays: the live and spare buffers alternate, no new arrays.
    del buffers, buf
    refs = [weakref.ref(p.value) for p in params]
    f(xd, yd)
    f(xd, yd)
    assert sum(r() is p.value for r, p in zip(refs, params)) == len(f._program.spares)


def test_updates_use_old_values_even_when_written_in_place():
    a = sg.param(np.array([1.0, 2.0]), name="a")
    b = sg.param(np.array([10.0, 20.0]), name="b")
    f = sg.function([], [a * 1.0], updates={a: a + b, b: b - a})
    out = f()
    np.testing.assert_array_equal(out[0], [1.0, 2.0])
    np.testing.assert_array_equal(a.value, [11.0, 22.0])
    np.testing.assert_array_equal(b.value, [9.0, 18.0])


def test_returned_parameter_is_a_snapshot_not_the_live_buffer():
    W = sg.param(np.array([1.0, 2.0]), name="W")
    f = sg.function([], W, updates={W: W * 2.0})
    first = f()
    f()
    np.testing.assert_array_equal(first, [1.0, 2.0])
    np.testing.assert_array_equal(W.value, [4.0, 8.0])


def test_a_failed_call_leaves_parameters_unchanged():
    W = sg.param(np.array([1.0, 2.0, 3.0]), name="W")
    i = sg.var("i", (2,), "int64")
    picked = W[i]
    f = sg.function([i], picked.sum(), updates={W: W - 0.5 * sg.grad(picked.sum(), W)})
    before = W.value.copy()
    with pytest.raises(sg.EvaluationError):
        f(np.array([0, 9]))
    np.testing.assert_array_equal(W.value, before)
    with pytest.raises(sg.InputError):
        f(np.array([0, 1, 2]))
    np.testing.assert_array_equal(W.value, before)
    f(np.array([0, 2]))
    np.testing.assert_array_equal(W.value, [0.5, 2.0, 2.5])


def test_read_only_parameter_buffers_are_replaced_not_written():
    W = sg.param(np.array([1.0, 2.0]), name="W")
    frozen = np.array([1.0, 2.0])
    frozen.setflags(write=False)
    W.payload.value = frozen
    sg.function([], W * 1.0, updates={W: W + 1.0})()
    np.testing.assert_array_equal(W.value, [2.0, 3.0])
    np.testing.assert_array_equal(frozen, [1.0, 2.0])


def test_views_of_a_buffer_block_writing_into_it():
    x = sg.var("x", (3, 3))
    a = sg.exp(x)            # fresh buffer
    t = sg.transpose(a)      # a view of it, read after a's own last reader
    y = sg.tanh(a) + t       # tanh(a) must not overwrite a while t still needs it
    data = RNG.standard_normal((3, 3))
    out = sg.function([x], y)(data)
    np.testing.assert_allclose(out, np.tanh(np.exp(data)) + np.exp(data).T, rtol=1e-14)


def test_buffers_of_matching_shape_are_reused():
    x = sg.var("x", (16, 16))
    y = (x @ x) * 2.0
    z = sg.tanh(y.sum(axis=0, keepdims=True)) + 0.0
    w = z * (x @ x.T)
    f = sg.function([x], w)
    kinds = [entry[0] for entry in f._plan.out.values()]
    assert "inplace" in kinds
    data = RNG.standard_normal((16, 16))
    expected = np.tanh(((data @ data) * 2.0).sum(0, keepdims=True)) * (data @ data.T)
    np.testing.assert_allclose(f(data), expected, rtol=1e-12)


def test_matmul_output_reuses_a_dead_buffer():
    x = sg.var("x", (8, 8))
    a = sg.exp(x)
    b = sg.tanh(a @ x)       # a dies at the matmul; tanh then writes in place
    c = b @ x                # needs an (8, 8) buffer: a's is free by now
    f = sg.function([x], c)
    assert ("reuse" in [entry[0] for entry in f._plan.out.values()]), f.source
    data = RNG.standard_normal((8, 8))
    np.testing.assert_allclose(f(data), np.tanh(np.exp(data) @ data) @ data, rtol=1e-12)


_FNS = [sg.exp, sg.tanh, sg.negative, lambda a: a * 2.0, lambda a: sg.transpose(a),
        lambda a: a.reshape((4, 4)), lambda a: a[1:, :].sum(axis=0, keepdims=True) + a]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_FNS) - 1), st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=10))
def test_in_place_plans_never_write_inputs_params_or_constants(program):
    x = sg.var("x", (4, 4))
    W = sg.param(RNG.standard_normal((4, 4)), name="W")
    c = sg.const(np.full((4, 4), 0.25))
    values = [x, W, c]
    for fn, i, j in program:
        a = _FNS[fn](values[i % len(values)])
        values.append(a + values[j % len(values)])
    outs = values[3:]
    data = RNG.standard_normal((4, 4))
    keep_x, keep_W = data.copy(), W.value.copy()
    fast = sg.function([x], outs)(data)
    slow = sg.function([x], outs, optimize=False)(data)
    np.testing.assert_array_equal(data, keep_x)
    np.testing.assert_array_equal(W.value, keep_W)
    np.testing.assert_array_equal(c.value, np.full((4, 4), 0.25))
    for a, e in zip(fast, slow):
        np.testing.assert_allclose(a, e, rtol=1e-12)


def test_schedule_runs_late_steps_last():
    x = sg.var("x", (2,))
    a, b = sg.exp(x), sg.tanh(x)
    sched = schedule([a, b], last=[a])
    assert [s.node for s in sched.steps] == [b, a]


def test_schedule_runs_the_scalar_prologue_first():
    # Adam-style: a scalar computed from a parameter (the step counter) is read late by an
    # array step; the toposort would put it between array steps, the schedule puts it
    # (and the scalars computed from it) first, so those array steps run back to back
    x = sg.var("x", (5,))
    k = sg.param(np.float64(3.0), name="k")
    a = sg.exp(x) * 2.0
    corr = 1.0 - 0.9 ** (k + 1.0)
    out = a / corr + x
    sched = schedule([out])
    ops = [s.node.op for s in sched.steps]
    assert all(s.node.ndim == 0 for s in sched.steps[:3]), ops
    assert [s.node.ndim for s in sched.steps].index(1) == 3
    X = np.arange(5.0)
    np.testing.assert_allclose(sg.function([x], out)(X),
                               np.exp(X) * 2.0 / (1.0 - 0.9 ** 4.0) + X, rtol=1e-14)


def test_schedule_computes_a_step_of_leaves_alone_just_before_its_reader():
    # 0.9 * G reads only a parameter: the toposort would compute it first, far from the
    # sum that reads it after the matrix product; it moves to just before that sum
    x, y = sg.var("x", (4, 3)), sg.var("y", (3, 2))
    G = sg.param(np.ones((4, 2)), name="G")
    decayed = 0.9 * G
    new = decayed + 0.1 * (x @ y)
    sched = schedule([new])
    order = [s.node for s in sched.steps]
    assert order.index(decayed) == order.index(new) - 1
    X, Y = np.ones((4, 3)), np.full((3, 2), 2.0)
    np.testing.assert_allclose(sg.function([x, y], new)(X, Y), 0.9 + 0.1 * X @ Y, rtol=1e-14)


def test_no_parameter_write_when_the_old_value_is_returned():
    W = sg.param(np.ones(3), name="W")
    upd = W - 1.0
    sched = schedule([W, upd])
    assert memory.param_writers(sched, [W, upd], [(W, upd)]) == {}


# --- check_nan and errors ------------------------------------------------------------------
def test_check_nan_names_the_op_node_and_line():
    x = sg.var("x", (3,))
    y = sg.log(x - 1.0, name_="shifted_log")
    f = sg.function([x], y * 2.0, check_nan=True)
    with np.errstate(all="ignore"):
        with pytest.raises(sg.EvaluationError, match=r"log produced NaN.*shifted_log.*test_runtime.py:\d+"):
            f(np.array([0.0, 2.0, 3.0]))
    np.testing.assert_allclose(f(np.array([2.0, 3.0, 4.0])), 2 * np.log([1.0, 2.0, 3.0]))


def test_check_nan_leaves_parameters_unchanged():
    W = sg.param(np.array([1.0, -1.0]), name="W")
    f = sg.function([], sg.sum(W), updates={W: sg.sqrt(W)}, check_nan=True)
    with np.errstate(all="ignore"):
        with pytest.raises(sg.EvaluationError, match="sqrt produced NaN"):
            f()
    np.testing.assert_array_equal(W.value, [1.0, -1.0])


def test_runtime_errors_name_op_shapes_and_line():
    a, b = sg.var("a", (None,)), sg.var("b", (None,))
    f = sg.function([a, b], sg.exp(a) + b)
    with pytest.raises(sg.EvaluationError, match=r"add failed on inputs of shape \(3,\).*\(4,\).*test_runtime.py:\d+"):
        f(np.ones(3), np.ones(4))


def test_in_place_with_unknown_sizes_checks_shapes_at_run_time():
    a, b = sg.var("a", (None, 3)), sg.var("b", (None, 3))
    y = sg.exp(a) * b          # exp(a) may be written over, unless b stretches it
    f = sg.function([a, b], y)
    assert "if" in f.source and "out=" in f.source
    one, many = RNG.standard_normal((1, 3)), RNG.standard_normal((4, 3))
    np.testing.assert_allclose(f(one, many), np.exp(one) * many, rtol=1e-14)
    np.testing.assert_allclose(f(many, many), np.exp(many) * many, rtol=1e-14)
    np.testing.assert_allclose(f(many, one), np.exp(many) * one, rtol=1e-14)


def test_training_with_an_unknown_batch_size_matches_numpy():
    x, y = sg.var("x", (None, 5)), sg.var("y", (None, 3))
    W = sg.param(RNG.standard_normal((5, 3)), name="W")
    b = sg.param(np.zeros(3), name="b")
    loss = sg.mean(sg.square(sg.tanh(x @ W + b) - y))
    gW, gb = sg.grad(loss, [W, b])
    W0, b0 = W.value.copy(), b.value.copy()
    f = sg.function([x, y], loss, updates={W: W - 0.1 * gW, b: b - 0.1 * gb})
    xd, yd = RNG.standard_normal((7, 5)), RNG.standard_normal((7, 3))
    h = np.tanh(xd @ W0 + b0)
    d = 2 * (h - yd) / h.size * (1 - h * h)
    np.testing.assert_allclose(f(xd, yd), np.mean((h - yd) ** 2), rtol=1e-13)
    np.testing.assert_allclose(W.value, W0 - 0.1 * xd.T @ d, rtol=1e-12)
    np.testing.assert_allclose(b.value, b0 - 0.1 * d.sum(0), rtol=1e-12)


_LOOSE = [sg.exp, sg.tanh, sg.negative, lambda a: a * 2.0, lambda a: a.sum(axis=1, keepdims=True)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_LOOSE) - 1), st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=8), st.sampled_from([(1, 4), (4, 1), (4, 4)]))
def test_in_place_with_unknown_sizes_matches_the_raw_graph(program, rows):
    x, y = sg.var("x", (None, 4)), sg.var("y", (None, 4))
    values = [x, y]
    for fn, i, j in program:
        values.append(_LOOSE[fn](values[i % len(values)]) * values[j % len(values)])
    outs = values[2:]
    xd = RNG.standard_normal((rows[0], 4))
    yd = RNG.standard_normal((rows[1], 4))
    keep = xd.copy(), yd.copy()
    fast = sg.function([x, y], outs)(xd, yd)
    slow = sg.function([x, y], outs, optimize=False)(xd, yd)
    np.testing.assert_array_equal(xd, keep[0])
    np.testing.assert_array_equal(yd, keep[1])
    for a, e in zip(fast, slow):
        np.testing.assert_allclose(a, e, rtol=1e-12)


def test_a_stored_update_never_shares_memory_with_a_returned_output():
    W = sg.param(np.array([[1.0, 2.0], [3.0, 4.0]]), name="W")
    u = sg.exp(W)
    f = sg.function([], [sg.transpose(u)], updates={W: u})
    (out,) = f()
    out[0, 0] = 100.0
    np.testing.assert_allclose(W.value, np.exp([[1.0, 2.0], [3.0, 4.0]]))


def _shape_ops(x, r):
    """transpose, expand_dims (negative axis), sum and sum_to_like on unknown sizes."""
    t = sg.transpose(x * 2.0)
    e = sg.expand_dims(sg.sum(x * 3.0, axis=1), -1)
    s = sum_to_like(x * 1.5, r)
    return t, e, s, sg.sum(x * x)


def test_shape_ops_written_inline_match_their_kernels():
    x, r = sg.var("x", (None, 3)), sg.var("r", (None, 3))
    fast = sg.function([x, r], list(_shape_ops(x, r)))
    assert ".transpose((1, 0))" in fast.source and "[:, None,]" in fast.source
    assert "_add_reduce(" in fast.source and ".shape == " in fast.source
    xv = RNG.standard_normal((4, 3))
    # the reference row count 1 makes sum_to_like sum at run time; 4 leaves x as it is
    for rows in (4, 1):
        rv = np.zeros((rows, 3))
        expected = [(xv * 2.0).T, (xv * 3.0).sum(axis=1)[:, None],
                    (xv * 1.5).sum(axis=0, keepdims=True) if rows == 1 else xv * 1.5,
                    (xv * xv).sum()]
        for got, want in zip(fast(xv, rv), expected):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-13)


def test_shape_ops_on_parameters_and_scalars_keep_the_kernel_call():
    # A parameter holds whatever the user assigned, so its value may not be an ndarray.
    W = sg.param(np.ones((2, 3)), name="W")
    f = sg.function([], [sg.transpose(W), sg.sum(W)])
    W.value = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    t, s = f()
    np.testing.assert_array_equal(t, np.array(W.value).T)
    assert s == 21.0
