"""symgraph.dask on a real (loopback) Dask cluster: results equal to one array, training
equal to sg.train.fit, and a worker killed mid-epoch changes nothing."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import symgraph as sg  # noqa: E402
import symgraph.dask as sgd  # noqa: E402
from symgraph import nn, optim  # noqa: E402

N, D, K = 211, 6, 3
rng = np.random.default_rng(0)
X = rng.standard_normal((N, D))
Y = rng.integers(0, K, N)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _uneven(n: int, k: int, seed: int = 1) -> tuple[int, ...]:
    """k chunk sizes that add up to n, no two alike where possible."""
    if k == 1:
        return (n,)
    cuts = np.sort(np.random.default_rng(seed).choice(np.arange(1, n), k - 1, replace=False))
    return tuple(int(s) for s in np.diff(np.concatenate([[0], cuts, [n]])))


def _sharded(k: int):
    rows = _uneven(N, k)
    return da.from_array(X, chunks=(rows, D)), da.from_array(Y, chunks=(rows,))


def _model(seed: int = 1):
    model = nn.MLP([D, 8, K], activation="tanh", seed=seed, name="mlp")
    x, y = sg.var("x", (None, D)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(model(x), y) + nn.regularizers.l2(model.weights(), 1e-3)
    return model, x, y, loss


@pytest.mark.parametrize("k", [1, 2, 7, 16])
def test_loss_gradient_and_hvp_over_uneven_chunks_equal_one_array(client, k):
    model, x, y, loss = _model()
    params = model.params()
    dX, dY = _sharded(k)
    assert len(dX.chunks[0]) == k
    want = sg.function([x, y], [loss, *sg.grad(loss, params)])(X, Y)
    got = sgd.DataParallel([x, y], [loss, *sg.grad(loss, params)], [dX, dY], client)()
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    H = sgd.ShardedHVP(loss, params, [x, y], [dX, dY], client).at()
    H1 = sg.linearize_hvp(loss, params, [x, y]).at(X, Y)
    v = np.random.default_rng(k).standard_normal(H.shape[0])
    np.testing.assert_allclose(H.matvec(v), H1.matvec(v), rtol=0, atol=1e-12)
    np.testing.assert_allclose(H.grad, H1.grad, rtol=0, atol=1e-12)
    # and against finite differences of the gradient, not only against another HVP
    g = sg.function([x, y], sg.grad(loss, params))
    w = [p.value.copy() for p in params]
    eps, parts = 1e-6, H.unflatten(v)
    for sign, out in ((1, []), (-1, [])):
        for p, w0, d in zip(params, w, parts):
            p.value = w0 + sign * eps * d
        out += [np.ravel(a) for a in g(X, Y)]
        if sign == 1:
            plus = np.concatenate(out)
        else:
            minus = np.concatenate(out)
    for p, w0 in zip(params, w):
        p.value = w0
    np.testing.assert_allclose(H.matvec(v), (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_a_minibatch_drawn_across_chunks_equals_the_rows_taken_together(client):
    model, x, y, loss = _model()
    outs = [loss, *sg.grad(loss, model.params())]
    dp = sgd.DataParallel([x, y], outs, list(_sharded(7)), client, piece=4)   # 4-row pieces
    rows = np.random.default_rng(5).permutation(N)[:40]
    want = sg.function([x, y], outs)(X[rows], Y[rows])
    for a, b in zip(dp(rows), want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_inputs_without_a_batch_axis_are_sent_once_as_constants(client):
    w = sg.var("w", (D,))
    t = sg.var("t", (None,))
    xv = sg.var("x", (None, D))
    loss = sg.mean(sg.square(xv @ w - t))
    T = X @ np.arange(D) + 0.1
    w0 = np.linspace(-1, 1, D)
    dp = sgd.DataParallel([xv, w, t], [loss, sg.grad(loss, w)],
                          [da.from_array(X, chunks=(_uneven(N, 7), D)),
                           da.from_array(T, chunks=(_uneven(N, 7),))], client, constants=[w0])
    want = sg.function([xv, w, t], [loss, sg.grad(loss, w)])(X, w0, T)
    for a, b in zip(dp(), want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_evaluate_gives_dask_arrays_per_example_and_reduced(client):
    import dask
    model, x, y, loss = _model()
    logits = model(x)
    f = sg.function([x, y], [loss, logits, sg.mean(logits, axis=0),
                             nn.softmax_cross_entropy(logits, y, reduction="sum"),
                             sg.transpose(logits)])
    outs = sgd.evaluate(f, *_sharded(7))
    assert all(isinstance(o, da.Array) for o in outs)
    assert outs[1].chunks[0] == _uneven(N, 7)        # per-example: the input's chunks
    assert outs[4].chunks[1] == _uneven(N, 7)        # ... along the axis they are on
    got = dask.compute(*outs)
    for a, b in zip(got, f(X, Y)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_each_worker_compiles_a_shipped_graph_once(client):
    model, x, y, loss = _model(seed=7)
    dp = sgd.DataParallel([x, y], [loss], list(_sharded(16)), client)
    before = client.run(lambda: __import__("symgraph.dask.ship", fromlist=["x"]).COMPILES[0])
    for _ in range(3):
        dp()
    after = client.run(lambda: __import__("symgraph.dask.ship", fromlist=["x"]).COMPILES[0])
    assert sum(after.values()) - sum(before.values()) <= len(after)   # <= 1 per worker
    cached = client.run(lambda key=dp.key: key in __import__(
        "symgraph.dask.ship", fromlist=["x"])._CACHE)
    assert all(cached.values())


def test_parameters_are_scattered_once_per_step_with_broadcast(client, monkeypatch):
    model, x, y, loss = _model()
    dp = sgd.DataParallel([x, y], [loss, *sg.grad(loss, model.params())],
                          list(_sharded(16)), client)
    calls = []
    real = client.scatter

    def spy(data, **kw):
        calls.append((len(data), kw.get("broadcast")))
        return real(data, **kw)

    monkeypatch.setattr(client, "scatter", spy)
    dp()
    assert calls == [(len(model.params()), True)]   # one scatter for 16 chunk tasks


def _adam_step(seed: int = 1):
    model, x, y, loss = _model(seed)
    return model, optim.step_function([x, y], loss, model.params(), optim.Adam(0.02))


def test_fit_equals_train_fit_on_the_whole_array(client):
    m1, s1 = _adam_step()
    m2, s2 = _adam_step()
    h1 = sg.train.fit(s1, [X, Y], epochs=2, batch_size=24, seed=4)
    dX, dY = _sharded(7)
    h2 = sgd.fit(s2, dX, dY, client=client, epochs=2, batch_size=24, seed=4)
    assert len(h2.step_loss) == len(h1.step_loss) == 2 * int(np.ceil(N / 24))
    np.testing.assert_allclose(h2.step_loss, h1.step_loss, rtol=0, atol=1e-10)
    for a, b in zip(m1.params(), m2.params()):
        np.testing.assert_allclose(a.value, b.value, rtol=0, atol=1e-10)
    assert not np.allclose(m2.params()[0].value, _adam_step()[0].params()[0].value)


def test_fit_takes_a_model_and_an_optimizer_and_stops_early(client):
    model = nn.MLP([D, 8, K], activation="tanh", seed=3, name="mlp")
    calls = iter([3.0, 2.0, 2.5, 2.6, 1.0])
    h = sgd.fit(model, *_sharded(2), optimizer=optim.SGD(0.1), client=client, epochs=5,
                batch_size=None, validate=lambda: next(calls), patience=2,
                params=model.params())
    assert h.stopped_early and h.best_epoch == 1 and len(h.epoch_loss) == 4
    assert h.epoch_loss[-1] < h.epoch_loss[0]


def test_newton_cg_and_lanczos_over_sharded_data_match_one_array(client):
    model, x, y, loss = _model(seed=2)
    params = model.params()
    start = [p.value.copy() for p in params]
    local = optim.NewtonCG(loss, params, [x, y], cg_iters=5)
    for _ in range(2):
        local.step(X, Y)
    want = [p.value.copy() for p in params]
    for p, w in zip(params, start):
        p.value = w
    dist = sgd.NewtonCG(loss, params, [x, y], list(_sharded(7)), client, cg_iters=5)
    for _ in range(2):
        dist.step()
    for p, w in zip(params, want):
        np.testing.assert_allclose(p.value, w, rtol=0, atol=1e-9)
    spec = sgd.hessian_spectrum(loss, params, [x, y], list(_sharded(7)), client, k=10)
    ref = optim.hessian_spectrum(loss, params, [x, y], [X, Y], k=10)
    np.testing.assert_allclose(spec.ritz, ref.ritz, rtol=1e-8, atol=1e-10)


def test_fit_checkpoints_and_resumes_as_if_never_stopped(client, tmp_path):
    dX, dY = _sharded(2)
    m1, s1 = _adam_step()
    sgd.fit(s1, dX, dY, client=client, epochs=2, batch_size=50, seed=2)
    m2, s2 = _adam_step()
    path = tmp_path / "run.sgz"
    sgd.fit(s2, dX, dY, client=client, epochs=2, batch_size=50, seed=2, checkpoint=path,
            every=3, steps=4)
    m3, s3 = _adam_step()   # a fresh process would build the model again
    sgd.fit(s3, dX, dY, client=client, epochs=2, batch_size=50, seed=2, checkpoint=path,
            resume=True)
    for a, b in zip(m1.params(), m3.params()):
        np.testing.assert_allclose(a.value, b.value, rtol=0, atol=1e-12)


def test_a_worker_killed_mid_epoch_changes_nothing(client):
    dX, dY = _sharded(7)
    m1, s1 = _adam_step()
    sgd.fit(s1, dX, dY, client=client, epochs=4, batch_size=8, seed=9)
    m2, s2 = _adam_step()
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    done, state = threading.Event(), {}

    def kill():
        time.sleep(0.5)
        state["during_fit"] = not done.is_set()
        os.kill(victim, signal.SIGKILL)   # a worker process this test's cluster started

    killer = threading.Thread(target=kill)
    killer.start()
    try:
        h = sgd.fit(s2, dX, dY, client=client, epochs=4, batch_size=8, seed=9)
    finally:
        done.set()
        killer.join()
    assert state["during_fit"], "the worker was killed after training had finished"
    assert len(h.epoch_loss) == 4
    for a, b in zip(m1.params(), m2.params()):
        np.testing.assert_allclose(a.value, b.value, rtol=0, atol=1e-12)
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.run(os.getpid).values()
