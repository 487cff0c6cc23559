"""The batch-axis analysis behind symgraph.dask (no cluster needed): which outputs are
per-example and which are sums, means rewritten over the global count, clear refusals, and
graphs shipped as data."""
from __future__ import annotations

import builtins
import importlib

import numpy as np
import pytest

import symgraph as sg
from symgraph import nn
from symgraph.dask import ship
from symgraph.dask.batch import BatchAxisError, analyse

x = sg.var("x", (None, 4))
y = sg.var("y", (None,), "int64")


def _run_in_chunks(plan, head, chunks):
    """What the cluster does, by hand: the chunk graph on each chunk, sums added, then
    the final graph on the sums."""
    chunk = sg.function(list(plan.chunk_inputs), list(plan.chunk_outputs))
    final = sg.function(list(plan.final_inputs), list(plan.final_outputs))
    n = np.int64(sum(len(c[0]) for c in chunks))
    parts = [chunk(*head, n, *c) for c in chunks]
    k = len(plan.per_axes)
    per = [np.concatenate([p[j] for p in parts], axis=a) for j, a in enumerate(plan.per_axes)]
    sums = [sum(p[k + j] for p in parts) for j in range(plan.n_sums)]
    return per, final(*sums, n)


def test_a_mean_over_the_batch_is_a_sum_over_the_global_count():
    X = np.random.default_rng(0).standard_normal((10, 4))
    m = sg.mean(sg.tanh(x)) + sg.mean(x, axis=0).sum()
    plan = analyse([x], [m, sg.tanh(x), sg.sum(x, axis=1)])
    assert plan.kinds == (("reduced", 0), ("per", 0), ("per", 1))
    assert "mean" not in {n.op for n in sg.Graph(list(plan.chunk_outputs)).nodes}
    # chunks of 1, 3 and 6 rows: a mean of chunk means would weigh them equally
    per, (value,) = _run_in_chunks(plan, [], [(X[:1],), (X[1:4],), (X[4:],)])
    np.testing.assert_allclose(value, np.mean(np.tanh(X)) + X.mean(axis=0).sum(), atol=1e-14)
    np.testing.assert_allclose(per[0], np.tanh(X))
    np.testing.assert_allclose(per[1], X.sum(axis=1))


def test_gradients_of_a_mean_loss_are_sums_over_the_batch():
    model = nn.MLP([4, 5, 3], activation="relu", seed=0, name="m")
    loss = nn.softmax_cross_entropy(model(x), y) + nn.regularizers.l2(model.weights(), 0.1)
    params = model.params()
    grads = sg.grad(loss, params)
    plan = analyse([x, y], [loss, *grads])
    assert all(kind == "reduced" for kind, _ in plan.kinds)
    # parameters are inputs of the chunk graph (their values go with each step)
    assert [p.id for p in plan.params] == [p.id for p in params]
    assert all(v.op == "var" for v in plan.param_vars)
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
    want = sg.function([x, y], [loss, *grads])(X, Y)
    head = [p.value for p in params]
    _, got = _run_in_chunks(plan, head, [(X[:2], Y[:2]), (X[2:], Y[2:])])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-13)


@pytest.mark.parametrize("build,words", [
    (lambda: x - sg.mean(x, axis=0), "sum over all examples first"),
    (lambda: sg.max(x), "every example at once"),
    (lambda: sg.softmax(x, axis=0), "across the examples"),
    (lambda: sg.sum(x @ sg.transpose(x)), "kept axes"),
])
def test_what_one_pass_over_chunks_cannot_do_is_refused_with_the_op_named(build, words):
    with pytest.raises(BatchAxisError, match=words) as info:
        analyse([x], [build()])
    assert "test_dask_batch.py" in str(info.value)   # the user's line


def test_no_batched_input_is_refused():
    z = sg.var("z", (3, 4))
    with pytest.raises(BatchAxisError, match="no input has a batch axis"):
        analyse([z], [sg.sum(z)])


def test_graphs_travel_as_data_and_compile_from_the_bytes():
    W = sg.var("W", (4, 2))
    out = sg.sum(sg.tanh(x @ W), axis=1)
    key, payload = ship.ship([x, W], [out])
    assert payload[:2] == b"PK"                      # the sg.dumps archive: data, not pickle
    assert key == ship.ship([x, W], [out])[0]        # the same graph, the same cache key
    f = ship.compiled(key, payload)
    assert ship.compiled(key, payload) is f          # compiled once per process
    X, Wv = np.ones((3, 4)), np.full((4, 2), 0.1)
    np.testing.assert_allclose(f(X, Wv)[0], np.tanh(X @ Wv).sum(axis=1))
    with pytest.raises(ValueError, match="must be an input"):
        ship.dumps_graph([x], [x @ sg.param(np.ones((4, 2)))])


def test_a_missing_extra_names_the_pip_command(monkeypatch):
    import symgraph.dask.parallel as parallel
    real = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ImportError, match=r"pip install symgraph\[dask\]"):
        parallel.require()


def test_importing_symgraph_does_not_import_dask():
    import subprocess
    import sys
    code = ("import sys, symgraph, symgraph.dask.batch; "
            "print('dask' in sys.modules, 'distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


def test_shape_ops_keep_track_of_the_batch_axis():
    X = np.random.default_rng(2).standard_normal((7, 4))
    outs = [sg.transpose(x), sg.expand_dims(x, 0), x[:, 1:3], sg.stack([x, x], axis=0),
            sg.concatenate([x, x], axis=1), sg.reshape(x, (-1, 2, 2)),
            x @ np.ones(4), np.ones(4) @ sg.transpose(x), np.ones((2, 4)) @ sg.transpose(x),
            sg.sum(x.T @ x)]
    plan = analyse([x], outs)
    assert [k for k, _ in plan.kinds] == ["per"] * 9 + ["reduced"]
    assert plan.per_axes == (1, 1, 0, 1, 0, 0, 0, 0, 1)
    per, (gram,) = _run_in_chunks(plan, [], [(X[:3],), (X[3:],)])
    for got, want in zip(per, sg.function([x], outs[:9])(X)):
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(gram, np.sum(X.T @ X))
    with pytest.raises(BatchAxisError, match="interleave"):
        analyse([x], [sg.concatenate([x, x], axis=0)])
