"""Node construction shortcuts keep the facts they shortcut: the user's line of gradient
nodes, cached type results, and the collector restored after compiling."""
from __future__ import annotations

import gc
import os

import numpy as np

import symgraph as sg

HERE = os.path.abspath(__file__)


def test_gradient_nodes_point_at_the_line_that_asked_for_them():
    x = sg.var("x", ())
    y = sg.tanh(sg.exp(x))
    g = sg.grad(y, x); line = g.location.lineno  # noqa: E702 - same line on purpose
    assert g.location.filename == HERE
    for n in sg.Graph(g).nodes:
        if n.is_grad:
            assert (n.location.filename, n.location.lineno) == (HERE, line), n


def test_jvp_nodes_point_at_the_users_line():
    x = sg.var("x", (3,))
    t = sg.jvp(sg.sin(x) * x, x, np.ones(3))
    assert t.location.filename == HERE


def test_cached_type_results_follow_dtype_and_weakness():
    a32, a64 = sg.var("a", (2,), "float32"), sg.var("b", (2,), "float64")
    assert (a32 * 2.0).dtype == np.float32          # weak scalar adopts the array's dtype
    assert (a32 * a64).dtype == np.float64
    assert (a32 * 2.0).dtype == np.float32          # second look-up: the cached result
    assert (sg.const(2.0) * 3.0).type.weak


def test_shape_errors_still_name_the_users_line():
    a, b = sg.var("a", (2,)), sg.var("b", (3,))
    try:
        a + b; line = 0  # noqa: E702
    except sg.ShapeError as exc:
        assert f"{os.path.basename(HERE)}" in str(exc)
    else:
        raise AssertionError("no error")


def test_collector_state_is_restored_after_compile_and_grad():
    x = sg.var("x", (2,))
    assert gc.isenabled()
    sg.function([x], sg.grad(sg.sum(sg.tanh(x)), x))
    assert gc.isenabled()
    gc.disable()
    try:
        sg.function([x], sg.grad(sg.sum(sg.tanh(x)), x))
        assert not gc.isenabled()
    finally:
        gc.enable()
