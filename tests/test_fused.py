"""Elementwise fusion (runtime/fused.py): groups, kernels against the NumPy path, tiers,
the disk cache and the cold path that never imports Numba."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

import symgraph as sg
from symgraph.runtime import fused, fused_plan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Fused kernels may evaluate tanh, exp, ... by another routine than NumPy (a few ulp), and
# their sums are not reassociated: results agree to rounding.
RTOL64, RTOL32 = 1e-12, 1e-5


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    # one cache for the module's tests (kernels are shared), never the user's
    folder = tmp_path_factory.getbasetemp() / "fused-cache"
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(folder))


def _chain(x, y, n):
    a = x
    for k in range(n):
        a = [a + y, sg.tanh(a), a * y, a - 0.5 * y, sg.exp(-a)][k % 5]
    return a


def _both(inputs, outputs, *args, **kw):
    ref = sg.function(inputs, outputs, fusion="off", **kw)
    want = ref(*args)
    return want, ref


# --- grouping (no Numba needed) ----------------------------------------------------------
def test_a_chain_and_its_sum_are_one_group_and_other_reductions_end_it():
    x, y = sg.var("x", (4,)), sg.var("y", (4,))
    a = _chain(x, y, 12)
    f = sg.function([x, y], [sg.sum(a * a), sg.max(a) * 2.0 + 1.0], fusion="off")
    groups = fused.plan_groups(f._schedule, f._plan, list(f.provenance.outputs))
    assert len(groups) == 1
    ops = [f._schedule.steps[p].node.op for p in groups[0].positions]
    assert ops.count("sum") == 1 and "max" not in ops and len(ops) >= 13
    assert groups[0].inputs and groups[0].outputs


def test_groups_come_from_the_registry_not_a_list():
    # every op whose kernel is a plain ufunc may join: here maximum and sqrt
    x = sg.var("x", (3,))
    f = sg.function([x], sg.sqrt(sg.maximum(x, 0.5)) * 2.0, fusion="off")
    groups = fused.plan_groups(f._schedule, f._plan, list(f.provenance.outputs))
    assert [f._schedule.steps[p].node.op for p in groups[0].positions] == ["maximum", "sqrt",
                                                                           "multiply"]
    assert "np.maximum(" in groups[0].source and "np.sqrt(" in groups[0].source


def test_parameter_updates_are_fused_into_the_spare_buffer():
    # W <- W - 0.1 * g, with g = x * (1 - tanh(W x)^2): one kernel computes the gradient
    # and the update and writes it into W's spare buffer (the array the NumPy tier's update
    # goes to); the array W held before the call is never written.
    W = sg.param(np.linspace(-1, 1, 4), name="W")
    x = sg.var("x", (4,))
    g = sg.grad(sg.sum(sg.tanh(W * x)), W)
    f = sg.function([x], [], updates={W: W - 0.1 * g}, fusion="force")
    groups = f._tiers.groups
    assert [b for grp in groups for b in grp.buffers if b is not None and b[0] == "param"]
    held = W.value
    before = held.copy()
    X = np.array([0.5, -1.0, 2.0, 0.25])
    f(X)
    np.testing.assert_array_equal(held, before)
    expected = before - 0.1 * X * (1 - np.tanh(before * X) ** 2)
    np.testing.assert_allclose(W.value, expected, rtol=1e-14)
    f(X)
    expected = expected - 0.1 * X * (1 - np.tanh(expected * X) ** 2)
    np.testing.assert_allclose(W.value, expected, rtol=1e-14)


def test_adam_updates_fuse_with_big_arrays_and_match_the_numpy_tier():
    # Adam's update is arithmetic and sqrt only: it fuses at any size (VECTOR_UFUNCS), the
    # moments and weights equal the NumPy tier's after three steps, in float32 and float64
    for dtype in ("float32", "float64"):
        rng = np.random.default_rng(0)
        x0 = rng.standard_normal((64, 40)).astype(dtype)
        values = []
        for mode in ("off", "force"):
            W = sg.param(rng.standard_normal((40, 30)).astype(dtype) * 0.1, name="W")
            rng = np.random.default_rng(0)
            x0 = rng.standard_normal((64, 40)).astype(dtype)
            x = sg.var("x", (64, 40), dtype)
            loss = sg.mean(sg.tanh(x @ W) ** 2)
            opt = sg.optim.Adam(0.01)
            f = sg.function([x], loss, updates=opt.updates(loss, [W]), fusion=mode)
            if mode == "force":
                big = [grp for grp in f._tiers.groups if grp.shape == (40, 30)]
                assert big and sum(grp.ops for grp in big) >= 8
            for _ in range(3):
                f(x0)
            values.append([W.value.copy()] + [s.value.copy() for s in opt.slots["mean"]]
                          + [s.value.copy() for s in opt.slots["mean_sq"]])
        tol = 1e-6 if dtype == "float32" else 1e-13
        for a, b in zip(*values):
            assert a.dtype == b.dtype == np.dtype(dtype)
            np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


def test_a_kernel_writes_in_place_only_into_inputs_no_one_reads_later():
    # (x * 2 + 1) is read by the group and, later, by a sum outside it: the kernel must
    # not write over x * 2's array while the sum still needs it
    x = sg.var("x", (300, 40))
    a = sg.exp(x)
    b = (a * 2.0 + 1.0) * 3.0
    c = sg.sum(a) + sg.sum(b)
    f = sg.function([x], [b, c], fusion="force")
    X = np.random.default_rng(1).standard_normal((300, 40))
    out_b, out_c = f(X)
    np.testing.assert_allclose(out_b, (np.exp(X) * 2 + 1) * 3, rtol=1e-14)
    np.testing.assert_allclose(out_c, np.exp(X).sum() + out_b.sum(), rtol=1e-12)


def test_unknown_sizes_and_integers_are_not_fused():
    x = sg.var("x", (None, 3))
    i = sg.var("i", (3,), "int64")
    f = sg.function([x, i], [sg.tanh(x) * 2.0 + 1.0, (i + 1) * 2], fusion="off")
    assert fused.plan_groups(f._schedule, f._plan, list(f.provenance.outputs)) == []


def test_kernel_source_depends_only_on_structure():
    def groups():
        x, y = sg.var("x", (5,)), sg.var("y", (5,))
        f = sg.function([x, y], _chain(x, y, 7), fusion="off")
        return fused.plan_groups(f._schedule, f._plan, list(f.provenance.outputs))
    assert [g.key for g in groups()] == [g.key for g in groups()]


def test_bad_mode_is_refused():
    x = sg.var("x", (2,))
    with pytest.raises(ValueError, match="fusion must be one of"):
        sg.function([x], x + 1.0, fusion="fast")


# --- whole small graphs: scalars, sums and the shape ops around them ---------------------
def _tanh_tower(order, dtype="float64", shape=()):
    w = sg.var("w", shape, dtype)
    f = w
    for _ in range(8):
        f = sg.tanh(f)
    return w, sg.nth_derivative(f, w, order)


def _wave(order, dtype="float64"):
    x = sg.var("x", (), dtype)
    return x, sg.nth_derivative(sg.sin(x) * sg.exp(-x * x) / (1.0 + x * x), x, order)


def _small_vector(dtype="float64"):
    """A function of a 3-vector through sums, its gradient and a Hessian-vector product:
    the gradient of a sum is expand_dims + broadcast_like, single numbers spread over the
    vector."""
    x, v = sg.var("x", (3,), dtype), sg.var("v", (3,), dtype)
    f = sg.exp(-sg.sum(x * x)) * sg.sin(sg.sum(x)) / (1.0 + sg.sum(x * x))
    g = sg.grad(f, x)
    return [x, v], [f, g, sg.grad(sg.sum(g * v), x)]


def _groups(f):
    return fused.plan_groups(f._schedule, f._plan, list(f.provenance.outputs))


def test_a_high_order_scalar_derivative_is_one_group():
    # before: 0-d values never fused, and the 768 steps ran as 768 NumPy calls
    w, d6 = _tanh_tower(6)
    f = sg.function([w], d6, fusion="off")
    groups = _groups(f)
    assert len(groups) == 1 and groups[0].ops == len(f._schedule.steps) >= 700
    assert groups[0].shape == () and len(groups[0].inputs) == 1 and len(groups[0].outputs) == 1
    assert "for j" not in groups[0].source          # straight code: no loop


def test_a_few_scalar_ops_stay_on_numpy():
    # a fused call costs a few NumPy calls on 0-d values: below MIN_SCALAR_OPS it loses
    x = sg.var("x", ())
    f = sg.function([x], sg.tanh(x * 2.0) + 1.0, fusion="off")
    assert _groups(f) == []
    w, d1 = _tanh_tower(1)
    assert fused_plan.MIN_SCALAR_OPS <= len(_groups(sg.function([w], d1, fusion="off"))[0].positions)


def test_the_gradient_and_hvp_of_a_small_vector_function_are_one_group():
    # before: 7 groups between the sums, expand_dims and broadcast_like steps
    inputs, outputs = _small_vector()
    f = sg.function(inputs, outputs, fusion="off")
    groups = _groups(f)
    assert len(groups) == 1 and groups[0].ops == len(f._schedule.steps)
    ops = {f._schedule.steps[p].node.op for p in groups[0].positions}
    assert {"sum", "expand_dims", "broadcast_like", "exp", "sin"} <= ops
    # the sums sit between array steps: a loop per phase, arrays kept for later loops
    assert groups[0].source.count("for j0 in range(3)") >= 2
    assert groups[0].shape == (3,) and len(groups[0].outputs) == 3


def test_small_groups_must_save_more_calls_than_their_own_costs():
    # on a 3-vector, 2 ops reading 2 arrays cost less as NumPy calls than as a fused call
    x, y = sg.var("x", (3,)), sg.var("y", (3,))
    assert _groups(sg.function([x, y], sg.tanh(x * y), fusion="off")) == []
    f = sg.function([x, y], sg.tanh(sg.exp(x * y) + y) * 2.0, fusion="off")
    assert [g.ops for g in _groups(f)] == [5]
    # on big arrays the size rules decide (2 arithmetic ops on 100x100: fused)
    X, Y = sg.var("X", (100, 100)), sg.var("Y", (100, 100))
    assert [g.ops for g in _groups(sg.function([X, Y], X * Y + Y, fusion="off"))] == [2]


def test_a_loss_does_not_hold_back_its_gradients_group():
    # The loss (a 0-d negative) opens a run its gradient's array steps join; the array
    # step reading the indexing gradient (made after the loss) could not run that early:
    # the array steps go on as a run of their own from their first, as without scalars.
    x = sg.var("x", (8, 6))
    labels = sg.var("labels", (8,), "int64")
    W = sg.param(np.linspace(-1, 1, 30).reshape(6, 5), name="W")
    loss = -sg.mean(sg.log(sg.softmax(sg.tanh(x @ W)))[sg.arange(8), labels])
    f = sg.function([x, labels], loss, updates={W: W - 0.1 * sg.grad(loss, W)},
                    fusion="off")
    ops = [[f._schedule.steps[p].node.op for p in g.positions] for g in _groups(f)]
    assert ["exp", "multiply", "subtract"] in [o[:3] for o in ops], ops


def test_reductions_to_more_than_one_number_are_not_fused():
    x = sg.var("x", (4, 3))
    f = sg.function([x], sg.sum(sg.tanh(x) * 2.0, axis=0) + 1.0, fusion="off")
    ops = [[f._schedule.steps[p].node.op for p in g.positions] for g in _groups(f)]
    assert all("sum" not in o for o in ops)


def test_scalar_kernels_depend_only_on_structure():
    keys = [[g.key for g in _groups(sg.function([w], d, fusion="off"))]
            for w, d in (_tanh_tower(3), _tanh_tower(3))]
    assert keys[0] == keys[1] and keys[0]


def test_long_runs_are_cut_at_narrow_points_only(monkeypatch):
    # a chain has one live value everywhere: cut every MAX_GROUP_OPS ops, as before
    x, y = sg.var("x", (8,)), sg.var("y", (8,))
    f = sg.function([x, y], _chain(x, y, 600), fusion="off")
    assert [g.ops for g in _groups(f)] == [240, 240, len(f._schedule.steps) - 480]
    # a derivative graph keeps many values live: cut where few are, or at the wide limit
    monkeypatch.setattr(fused_plan, "MAX_GROUP_OPS", 60)
    monkeypatch.setattr(fused_plan, "MAX_WIDE_GROUP_OPS", 200)
    w, d6 = _tanh_tower(6)
    f = sg.function([w], d6, fusion="off")
    groups = _groups(f)
    assert sum(g.ops for g in groups) == len(f._schedule.steps) and len(groups) > 1
    for before, after in zip(groups, groups[1:]):
        crossing = set(before.outputs) & set(after.inputs)
        assert before.ops >= 60
        assert len(crossing) <= fused_plan.CUT_WIDTH or before.ops == 200


# --- kernels against the NumPy path ------------------------------------------------------
numba = pytest.importorskip("numba")


def test_forced_fusion_matches_numpy_float64():
    x, y = sg.var("x", (8,)), sg.var("y", (8,))
    a = _chain(x, y, 30)
    loss = sg.sum(a * a)
    outs = [loss, a, sg.grad(loss, x)]
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(-1, 1, 8), rng.uniform(-1, 1, 8)
    want, _ = _both([x, y], outs, xv, yv)
    f = sg.function([x, y], outs, fusion="force")
    assert f._tiers.tier == "fused" and "fused:" in f.source
    for got, ref in zip(f(xv, yv), want):
        np.testing.assert_allclose(got, ref, rtol=RTOL64, atol=1e-300)
    assert "run on the fused tier" in f.report()


def test_forced_fusion_broadcasts_and_keeps_float32():
    x = sg.var("x", (4, 3), "float32")
    b = sg.var("b", (3,), "float32")
    s = sg.var("s", (), "float32")
    out = sg.tanh(x * b + s) * 2.0 - sg.exp(-x) / (b * b + 1.0)
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((4, 3)).astype("float32"),
            rng.standard_normal(3).astype("float32"), np.float32(0.25))
    want, _ = _both([x, b, s], out, *args)
    f = sg.function([x, b, s], out, fusion="force")
    got = f(*args)
    assert f._tiers.tier == "fused"
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=RTOL32, atol=1e-6)


def test_fused_outputs_are_fresh_and_training_still_updates():
    W = sg.param(np.full(3, 0.5), name="W")
    x = sg.var("x", (3,))
    loss = sg.sum(sg.tanh(W * x + 1.0) ** 2)
    g = sg.grad(loss, W)
    step = sg.function([x], [loss, g], updates={W: W - 0.1 * g}, fusion="force")
    W2 = sg.param(np.full(3, 0.5), name="W2")
    loss2 = sg.sum(sg.tanh(W2 * x + 1.0) ** 2)
    g2 = sg.grad(loss2, W2)
    ref = sg.function([x], [loss2, g2], updates={W2: W2 - 0.1 * g2}, fusion="off")
    xv = np.array([0.1, -0.2, 0.3])
    for _ in range(3):
        (a, ga), (b, gb) = step(xv), ref(xv)
        np.testing.assert_allclose(a, b, rtol=RTOL64)
        np.testing.assert_allclose(ga, gb, rtol=RTOL64)
    np.testing.assert_allclose(W.value, W2.value, rtol=RTOL64)


def test_check_nan_keeps_every_op_on_numpy():
    x = sg.var("x", (3,))
    f = sg.function([x], sg.sqrt(x - 1.0) * 2.0 + 1.0, check_nan=True, fusion="force")
    assert f._tiers.groups == [] and "check_nan" in f.report()
    with pytest.raises(sg.EvaluationError, match="check_nan: sqrt produced NaN"), \
            np.errstate(invalid="ignore"):
        f(np.zeros(3))


_UNARY = [sg.tanh, sg.exp, sg.sin, sg.cos, lambda a: a * a, lambda a: -a, sg.abs,
          lambda a: sg.sqrt(a * a + 1.0), lambda a: sg.log1p(a * a)]


@given(st.lists(st.tuples(st.integers(0, len(_UNARY) - 1), st.integers(0, 3)),
                min_size=2, max_size=8))
def test_property_fusion_leaves_results_unchanged(recipe):
    x, y = sg.var("x", (2, 3)), sg.var("y", (3,))
    a = x
    for fn, how in recipe:
        a = _UNARY[fn](a)
        a = [a + y, a * y, a - y, a / (y * y + 1.0)][how]
    rng = np.random.default_rng(len(recipe))
    xv, yv = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 3)
    want, _ = _both([x, y], a, xv, yv)
    got = sg.function([x, y], a, fusion="force")(xv, yv)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# --- tiers ---------------------------------------------------------------------------------
def test_auto_starts_on_numpy_and_swaps_in_after_the_threshold(monkeypatch):
    monkeypatch.setattr(fused, "CALLS_BEFORE_FUSING", 3)
    x = sg.var("x", (6,))
    out = sg.tanh(x * 1.5 + 0.25) * sg.exp(-x * 0.75) + 0.125   # a kernel not seen before
    f = sg.function([x], out, fusion="auto")
    assert f._tiers.tier == "numpy" and "numpy tier" in f.report()
    xv = np.linspace(-1, 1, 6)
    want = f(xv)
    f(xv)
    f(xv)                          # the third call starts the background compile
    assert fused.wait(f) == "fused"
    np.testing.assert_allclose(f(xv), want, rtol=RTOL64)
    assert "fused tier" in f.report()


def test_off_has_no_tiers():
    x = sg.var("x", (2,))
    f = sg.function([x], sg.tanh(x) + 1.0, fusion="off")
    assert f._tiers is None and "fusion" not in f.report()


_CHILD = r"""
import json, sys
import numpy as np
import symgraph as sg
from symgraph.runtime import fused
x, y = sg.var("x", (7,)), sg.var("y", (7,))
a = x
for k in range(9):
    a = sg.tanh(a * y + 0.375) if k % 2 else a - y * 0.625
probe = sg.function([x, y], a, fusion="off")
groups = fused.plan_groups(probe._schedule, probe._plan, list(probe.provenance.outputs))
cached = all(fused.cached(g) for g in groups)
f = sg.function([x, y], a, fusion=sys.argv[1])
tier = fused.wait(f)
print(json.dumps({"cached_at_compile": cached, "tier": tier, "numba": "numba" in sys.modules,
                  "groups": len(f._tiers.groups)}))
"""


def _child(mode: str, cache: str) -> dict:
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=cache, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True,
                         env=env, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_second_process_finds_the_kernels_on_disk(tmp_path):
    first = _child("force", str(tmp_path))
    assert first == {"cached_at_compile": False, "tier": "fused", "numba": True, "groups": 1}
    second = _child("auto", str(tmp_path))
    assert second["cached_at_compile"] and second["tier"] == "fused"


def test_compiling_on_the_auto_tier_does_not_import_numba(tmp_path):
    code = ("import sys, symgraph as sg\n"
            "x = sg.var('x', (3,))\n"
            "f = sg.function([x], sg.tanh(x) * 2.0 + 1.0, fusion='auto')\n"
            "f([1.0, 2.0, 3.0])\n"
            "print('numba' in sys.modules, f._tiers.tier)\n")
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(tmp_path / "empty"), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "numpy"]


def test_long_groups_interleave_lanes_and_still_broadcast():
    x = sg.var("x", (3, 8))
    b = sg.var("b", (8,))
    c = sg.var("c", (3, 1))
    a = x
    for k in range(20):                       # >= 16 ops: 4 lanes on the last axis
        a = [sg.tanh(a) * b, a + c, sg.sin(a) - 0.25 * b][k % 3]
    rng = np.random.default_rng(7)
    args = (rng.uniform(-1, 1, (3, 8)), rng.uniform(-1, 1, 8), rng.uniform(-1, 1, (3, 1)))
    want, _ = _both([x, b, c], a, *args)
    f = sg.function([x, b, c], a, fusion="force")
    assert f._tiers.tier == "fused"
    assert any("j1 + 3" in g.source for g in f._tiers.groups)
    np.testing.assert_allclose(f(*args), want, rtol=RTOL64, atol=1e-15)


def test_big_graphs_plan_their_groups_in_the_background(monkeypatch):
    monkeypatch.setattr(fused, "PLAN_AT_COMPILE_STEPS", 3)
    monkeypatch.setattr(fused, "CALLS_BEFORE_FUSING", 2)
    x, y = sg.var("x", (4,)), sg.var("y", (4,))
    a = _chain(x, y, 10)
    f = sg.function([x, y], a, fusion="auto")
    assert f._tiers.groups is None and "planned after" in f.report()
    xv, yv = np.linspace(-1, 1, 4), np.linspace(0, 1, 4)
    want = f(xv, yv)
    f(xv, yv)
    assert fused.wait(f) == "fused" and f._tiers.groups
    np.testing.assert_allclose(f(xv, yv), want, rtol=RTOL64)


def test_processes_racing_on_an_empty_cache_all_fuse(tmp_path):
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, "force"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["tier"] == "fused"
    assert [n for n in os.listdir(tmp_path / "fused") if n.endswith(".tmp")] == []
    assert _child("auto", str(tmp_path))["cached_at_compile"]


def test_under_errstate_raise_a_fused_function_runs_on_numpy_and_raises():
    # a kernel computes an overflow's inf silently; asked to raise, the call runs the NumPy
    # tier, so the error comes from the op that made it, and no parameter changes
    x = sg.var("x", (4,))
    W = sg.param(np.full(4, 1e300), name="W")
    y = sg.exp(x) * 2.0 + 1.0
    f = sg.function([x], y * 3.0, updates={W: W * 1e10 + 1.0}, fusion="force")
    assert f._tiers.tier == "fused" and f._tiers.groups
    X = np.array([0.0, 1.0, 800.0, 2.0])
    with np.errstate(over="ignore"):
        assert np.isinf(f(X)[2])           # fused, silently inf as NumPy ignoring it
    before = W.value.copy()
    with np.errstate(over="raise"), pytest.raises(sg.EvaluationError, match="exp"):
        f(X)
    np.testing.assert_array_equal(W.value, before)
    with np.errstate(over="ignore"):
        f(np.zeros(4))
    assert np.isinf(W.value).all()


def test_fused_calls_run_as_threaded_code_too(monkeypatch):
    from symgraph.runtime import codegen
    monkeypatch.setattr(codegen, "THREADED_MIN_STEPS", 0)
    x, y = sg.var("x", (8,)), sg.var("y", (8,))
    a = _chain(x, y, 25)
    outs = [sg.sum(a * a), a]
    xv, yv = np.linspace(-1, 1, 8), np.linspace(0, 1, 8)
    want, _ = _both([x, y], outs, xv, yv)
    f = sg.function([x, y], outs, fusion="force")
    assert "_threaded" in f._program.run.__wrapped__.__qualname__ and f._tiers.tier == "fused"
    for got, ref in zip(f(xv, yv), want):
        np.testing.assert_allclose(got, ref, rtol=RTOL64)


# --- whole small graphs on the fused tier --------------------------------------------------
def _same_values_and_types(ref, f, args, rtol):
    """The fused program returns what the NumPy program returns: the same types (a 0-d
    result is a NumPy scalar inside the program, a 0-d array from the function), shapes,
    dtypes, and values to rounding."""
    arrays = [f._convert(k, v, a) for k, (v, a) in enumerate(zip(f.inputs, args))]
    for got, want in zip(f._program.run(*arrays), ref._program.run(*arrays)):
        assert type(got) is type(want) and np.shape(got) == np.shape(want)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
    got, want = f(*args), ref(*args)
    for g, w in zip(got if isinstance(got, list) else [got],
                    want if isinstance(want, list) else [want]):
        assert type(g) is type(w) and g.shape == w.shape and g.dtype == w.dtype


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_scalar_derivatives_of_high_order_match_numpy(dtype):
    rtol = RTOL64 if dtype == "float64" else RTOL32
    w, t6 = _tanh_tower(6, dtype)
    x, s6 = _wave(6, dtype)
    outs = [t6, s6, sg.tanh(w) * x]         # and a 0-d output left to NumPy (3 ops)
    ref = sg.function([w, x], outs, fusion="off")
    f = sg.function([w, x], outs, fusion="force")
    assert f._tiers.tier == "fused" and len(f._tiers.groups) == 1
    assert f._tiers.groups[0].ops >= 1300
    for v in (0.3, -0.8, 1.1):
        _same_values_and_types(ref, f, (np.asarray(v, dtype), np.asarray(-v / 2, dtype)), rtol)
    # a number the caller passes (not an array) is taken too
    _same_values_and_types(ref, f, (np.float32(0.5), 0.25), rtol)


def test_scalar_groups_read_numpy_values_made_between_them():
    # the second group reads a 0-d value NumPy made between the groups (a max)
    x, s = sg.var("x", (4,)), sg.var("s", ())
    a = s
    for k in range(10):
        a = sg.tanh(a * 1.5 + 0.25) if k % 2 else a * s - 0.5
    m = sg.max(x * a)
    b = m
    for k in range(10):
        b = sg.sin(b + a) * 0.75 if k % 2 else b * b - a
    ref = sg.function([x, s], [a, b], fusion="off")
    f = sg.function([x, s], [a, b], fusion="force")
    groups = f._tiers.groups
    assert len(groups) == 2 and groups[1].shape == ()
    assert any(f._schedule.nodes[i].op == "max" for i in groups[1].inputs)
    _same_values_and_types(ref, f, (np.array([0.1, 0.7, -0.3, 0.2]), 0.4), RTOL64)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_small_vector_gradients_through_sums_match_numpy(dtype):
    inputs, outputs = _small_vector(dtype)
    ref = sg.function(inputs, outputs, fusion="off")
    f = sg.function(inputs, outputs, fusion="force")
    assert f._tiers.tier == "fused" and len(f._tiers.groups) == 1
    args = (np.array([0.5, 1.2, -0.3], dtype), np.array([1.0, 0.5, 0.25], dtype))
    _same_values_and_types(ref, f, args, RTOL64 if dtype == "float64" else RTOL32)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_centering_needs_a_loop_per_phase(dtype):
    # c needs the sum of x before its loop; v needs c's; out needs v: three loops, with c
    # and tanh(c) kept for the later loops
    x = sg.var("x", (2, 5), dtype)
    c = x - sg.sum(x) / 10.0
    v = sg.sum(c * c)
    out = sg.tanh(c) * v + sg.exp(-v)
    outs = [c, v, out, sg.grad(sg.sum(out * out), x)]
    ref = sg.function([x], outs, fusion="off")
    f = sg.function([x], outs, fusion="force")
    assert len(f._tiers.groups) == 1 and "np.empty((2, 5)" in f._tiers.groups[0].source
    xv = np.linspace(-1, 1.3, 10).reshape(2, 5).astype(dtype)
    _same_values_and_types(ref, f, (xv,), RTOL64 if dtype == "float64" else RTOL32)


def test_long_sums_keep_a_partial_sum_a_lane():
    x = sg.var("x", (3, 8))
    a = x
    for k in range(20):                      # >= 16 array ops: 4 lanes
        a = [sg.tanh(a) * 0.5, a + 0.25, sg.sin(a)][k % 3]
    total = sg.sum(a * a)
    outs = [total, a / (total + 1.0)]
    ref = sg.function([x], outs, fusion="off")
    f = sg.function([x], outs, fusion="force")
    assert len(f._tiers.groups) == 1 and "_3 = 0.0" in f._tiers.groups[0].source
    _same_values_and_types(ref, f, (np.linspace(-2, 2, 24).reshape(3, 8),), RTOL64)


_SMALL = [sg.tanh, sg.exp, sg.sin, lambda a: a * a, lambda a: -a, lambda a: a / (a * a + 1.0)]


@given(st.lists(st.tuples(st.integers(0, len(_SMALL) - 1), st.integers(0, 4)),
                min_size=4, max_size=12))
def test_property_whole_small_graphs_leave_results_unchanged(recipe):
    # scalars, a 3-vector, sums of it and its broadcasts, in any order
    x, s = sg.var("x", (3,)), sg.var("s", ())
    a, b = x, s
    for fn, how in recipe:
        if how == 0:
            b = _SMALL[fn](b) + sg.sum(a) * 0.25
        elif how == 1:
            a = _SMALL[fn](a) * b
        elif how == 2:
            b = b * _SMALL[fn](b) - 0.5
        elif how == 3:
            a = a + sg.broadcast_to(sg.reshape(b, (1,)), (3,))
        else:
            a = _SMALL[fn](a - sg.sum(a * a) / 3.0)
    outs = [a, b, sg.grad(sg.sum(a) + b, x)]
    ref = sg.function([x, s], outs, fusion="off")
    f = sg.function([x, s], outs, fusion="force")
    _same_values_and_types(ref, f, (np.array([0.3, -0.4, 0.5]), 0.2), 1e-9)


def test_a_fortran_ordered_input_is_not_written_in_place():
    # regression: in the derivative of cross, a step's result is a Fortran-ordered array
    # and the memory plan writes the next step into it in place, which a C-order kernel
    # cannot take: the kernel writes a new array instead
    a, b = sg.var("a", (4, 3)), sg.var("b", (3,))
    y = sg.cross(a, b)
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal(3)
    U, V = rng.standard_normal((4, 3)), rng.standard_normal(3)
    outs = [sg.jvp([y], [a, b], [U, V])[0], *sg.vjp([y], [a, b], [U])]
    want = sg.function([a, b], outs, fusion="off")(A, B)
    got = sg.function([a, b], outs, fusion="force")(A, B)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


_SCALAR_CHILD = r"""
import json, sys
import numpy as np
import symgraph as sg
from symgraph.runtime import fused
w = sg.var("w", ())
f = w
for _ in range(8):
    f = sg.tanh(f)
outs = [sg.nth_derivative(f, w, 4), f * 2.0]
fn = sg.function([w], outs, fusion=sys.argv[1])
tier = fused.wait(fn)
ref = sg.function([w], outs, fusion="off")
got, want = fn._program.run(np.asarray(0.3)), ref._program.run(np.asarray(0.3))
print(json.dumps({"tier": tier, "origin": fn._tiers.origin,
                  "types": [type(x).__name__ for x in got] == [type(x).__name__ for x in want],
                  "close": bool(np.allclose(np.array(got, float), np.array(want, float),
                                            rtol=1e-12, atol=0))}))
"""


def test_a_scalar_kernel_runs_from_the_native_cache_in_a_second_process(tmp_path):
    # 0-d outputs come back as NumPy scalars on the native path too
    env = dict(os.environ, SYMGRAPH_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    runs = [json.loads(subprocess.run([sys.executable, "-c", _SCALAR_CHILD, mode], env=env,
                                      capture_output=True, text=True, check=True,
                                      timeout=300).stdout.strip().splitlines()[-1])
            for mode in ("force", "auto")]
    assert all(r["tier"] == "fused" and r["types"] and r["close"] for r in runs)
    assert runs[1]["origin"] == "native cache"


def test_a_short_group_on_big_arrays_fuses_only_when_it_saves_passes_over_memory():
    # 1 - a*a and b*b: NumPy walks 6 arrays (two squares, one subtract in place), a kernel
    # would read 2 and write 2 new ones: not worth it on 12,000 elements (the MLP step ran
    # 4% slower so); a*b*c*d + a reads 4, writes 1 where NumPy walks 10: fused
    a, b, c, d = (sg.var(n, (300, 40)) for n in "abcd")
    f = sg.function([a, b], [1.0 - a * a, b * b], fusion="off")
    assert fused.plan_groups(f._schedule, f._plan, list(f.provenance.outputs)) == []
    g = sg.function([a, b, c, d], a * b * c * d + a, fusion="off")
    groups = fused.plan_groups(g._schedule, g._plan, list(g.provenance.outputs))
    assert [grp.ops for grp in groups] == [4]
