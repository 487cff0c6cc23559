"""Big graphs run as threaded code (statement templates) instead of compiled source: same
results, same in-place writes, same error messages as the compiled function."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.runtime import codegen


@pytest.fixture
def threaded(monkeypatch):
    monkeypatch.setattr(codegen, "THREADED_MIN_STEPS", 0)


def _chain(n: int):
    x, y = sg.var("x", (5,)), sg.var("y", (5,))
    a = x
    for k in range(n):
        a = [a + y, sg.tanh(a), a * y, a - 0.5 * y][k % 4]
    loss = sg.sum(a * a)
    return x, y, [loss, sg.grad(loss, x)]


def test_threaded_matches_compiled_source(threaded, monkeypatch):
    x, y, outs = _chain(40)
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)
    got = sg.function([x, y], outs)(xv, yv)
    monkeypatch.setattr(codegen, "THREADED_MIN_STEPS", 10**9)
    want = sg.function([x, y], outs)(xv, yv)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_threaded_updates_and_inplace_writes(threaded):
    W = sg.param(np.ones((3, 3)), name="W")
    x = sg.var("x", (2, 3))
    loss = sg.sum(sg.tanh(x @ W) ** 2)
    g = sg.grad(loss, W)
    f = sg.function([x], loss, updates={W: W - 0.1 * g})
    xv = np.arange(6.0).reshape(2, 3) / 6
    expected_g = sg.function([x], g)(xv)
    before = W.value.copy()
    f(xv)
    np.testing.assert_allclose(W.value, before - 0.1 * expected_g, rtol=1e-12)


def test_threaded_errors_name_the_op_and_shapes(threaded):
    x = sg.var("x", (None, 3))
    W = sg.var("W", (None, 4))
    f = sg.function([x, W], sg.sum(x @ W))
    with pytest.raises(sg.EvaluationError, match=r"matmul failed on inputs of shape \(2, 3\)"):
        f(np.ones((2, 3)), np.ones((5, 4)))


def test_threaded_check_nan_names_the_node(threaded):
    x = sg.var("x", (2,))
    f = sg.function([x], sg.log(x) * 2.0, check_nan=True)
    with pytest.raises(sg.EvaluationError, match="check_nan: log produced NaN"), \
            np.errstate(invalid="ignore"):
        f(np.array([-1.0, 1.0]))


def _run_of(f: sg.Function):
    run = f._program.run
    return getattr(run, "__wrapped__", run)


def test_big_graphs_switch_to_threaded_code(monkeypatch):
    x, y, outs = _chain(codegen.THREADED_MIN_STEPS // 2)
    f = sg.function([x, y], outs)
    assert len(f._schedule.steps) >= codegen.THREADED_MIN_STEPS
    # (a fused program wraps its run to honour np.errstate: look through the wrapper)
    assert "_threaded" in _run_of(f).__qualname__
    rng = np.random.default_rng(1)
    xv, yv = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)
    monkeypatch.setattr(codegen, "THREADED_MIN_STEPS", 10**9)
    compiled = sg.function([x, y], outs)
    assert "_threaded" not in _run_of(compiled).__qualname__
    for a, b in zip(f(xv, yv), compiled(xv, yv)):
        np.testing.assert_array_equal(a, b)
