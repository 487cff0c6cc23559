"""Saved and loaded graphs, compiled functions and models are the same graphs, functions and
models: same values, derivatives, generated source, names, scopes, marks and locations;
parameters shared before saving stay shared after loading; pickle and deepcopy work."""
from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pytest

import symgraph as sg
from symgraph.graph import Graph


def same_source(a: str, b: str) -> bool:
    """Generated sources equal up to the creation numbers (``#id``) in their comments: a
    loaded graph's nodes are new nodes, so their ids are new; their order is the same."""
    def ranks(text: str) -> str:
        ids = sorted({int(m) for m in re.findall(r"#(\d+)", text)})
        rank = {i: k for k, i in enumerate(ids)}
        return re.sub(r"#(\d+)", lambda m: f"#{rank[int(m.group(1))]}", text)
    return ranks(a) == ranks(b)


def describe(outputs) -> list:
    """Everything a node says about itself except its id and payload, in graph order."""
    g = Graph(outputs)
    pos = {id(n): k for k, n in enumerate(g.nodes)}
    return [(n.op, n.attrs, n.type, n.name, n.scope, n.is_grad, n.location,
             tuple(pos[id(i)] for i in n.inputs)) for n in g.nodes]


def _mlp_step():
    x = sg.var("x", (None, 2))
    W = sg.param(np.arange(6.0).reshape(2, 3) / 10, name="W")
    b = sg.param(np.zeros(3), name="b")
    with sg.scope("net"):
        h = sg.tanh(x @ W + b)
        y = sg.sum(h * h)
    gW, gb = sg.grad(y, [W, b])
    return x, W, b, y, gW, gb


def test_graph_round_trip_keeps_every_fact():
    x, W, b, y, gW, gb = _mlp_step()
    y2, gW2, gb2 = sg.loads(sg.dumps(y, gW, gb))
    assert describe([y2, gW2, gb2]) == describe([y, gW, gb])
    X = np.random.default_rng(0).standard_normal((5, 2))
    xs2 = Graph([y2]).inputs
    a = sg.function([x], [y, gW, gb])(X)
    b_ = sg.function(list(xs2), [y2, gW2, gb2])(X)
    for u, v in zip(a, b_):
        np.testing.assert_array_equal(u, v)


def test_parameters_shared_by_outputs_stay_shared():
    x, W, b, y, gW, gb = _mlp_step()
    y2, gW2 = sg.loads(sg.dumps(y, gW))
    params = [n for n in Graph([y2, gW2]).nodes if n.op == "param"]
    assert [p.name for p in params] == ["W", "b"]
    W2 = params[0]
    assert W2 in Graph([y2]) and W2 in Graph([gW2])
    np.testing.assert_array_equal(W2.value, W.value)
    assert W2.value is not W.value          # a loaded parameter owns its value


def test_function_round_trip_same_source_results_and_updates():
    x, W, b, y, gW, gb = _mlp_step()
    f = sg.function([x], [y], updates={W: W - 0.1 * gW, b: b - 0.1 * gb}, name="step")
    f2 = sg.loads(sg.dumps(f))
    assert isinstance(f2, sg.Function)
    assert same_source(f.source, f2.source)
    assert f2.name == "step" and f2.location == f.location and f2.optimize
    X = np.ones((4, 2))
    W2 = f2.updates[0][0]
    for _ in range(3):
        np.testing.assert_array_equal(f(X)[0], f2(X)[0])
    np.testing.assert_array_equal(W.value, W2.value)
    assert W2 is not W


@pytest.mark.parametrize("options", [dict(optimize=False), dict(check_nan=True)])
def test_function_compile_options_survive(options):
    x = sg.var("x", (3,))
    f = sg.function([x], sg.exp(x) * 2.0, **options)
    f2 = sg.loads(sg.dumps(f))
    assert f2.optimize == f.optimize and f2.check_nan == f.check_nan
    assert same_source(f.source, f2.source)
    np.testing.assert_array_equal(f(np.arange(3.0)), f2(np.arange(3.0)))
    assert isinstance(f2(np.arange(3.0)), np.ndarray)       # single output stays single


def test_function_and_model_saved_together_share_parameters():
    model = sg.nn.MLP([2, 3, 1], seed=1)
    x = sg.var("x", (None, 2))
    t = sg.var("t", (None, 1))
    loss = sg.nn.mse(model(x), t)
    step = sg.optim.step_function([x, t], loss, model.params(), sg.optim.SGD(0.1))
    loaded = sg.loads(sg.dumps(step, model=model))
    step2, model2 = loaded[0], loaded["model"]
    assert loaded.model is model2
    step2(np.ones((2, 2)), np.zeros((2, 1)))
    step(np.ones((2, 2)), np.zeros((2, 1)))
    for p, q in zip(model.params(), model2.params()):
        np.testing.assert_array_equal(p.value, q.value)
    updated = {id(p) for p, _ in step2.updates}
    assert all(id(p) in updated for p in model2.params())


def test_plain_values_round_trip_with_their_types():
    values = dict(n=3, f=0.1, c=1 - 2j, s="text", none=None, t=(1, (2.5, "a")), l=[1, [2]],
                  d={"k": 1, 2: "v"}, dt=np.dtype("float32"), sc=np.float32(1.5),
                  a=np.arange(6, dtype=np.int32).reshape(2, 3), nan=float("nan"),
                  sl=slice(1, None, 2), e=Ellipsis, b=True)
    out = sg.loads(sg.dumps(**values)).named
    for k, v in values.items():
        if k == "nan":
            assert np.isnan(out[k])
        elif k == "a":
            np.testing.assert_array_equal(out[k], v)
            assert out[k].dtype == v.dtype
        else:
            assert out[k] == v and type(out[k]) is type(v), k


def test_dumps_is_deterministic():
    x, W, b, y, gW, gb = _mlp_step()
    assert sg.dumps(y, gW) == sg.dumps(y, gW)


def test_one_item_comes_back_as_itself_several_as_a_tuple():
    x = sg.var("x")
    assert isinstance(sg.loads(sg.dumps(x)), sg.Node)
    a, b = sg.loads(sg.dumps(x, x + 1.0))
    assert b.inputs[0] is a


def test_unsupported_things_are_refused_when_saving():
    with pytest.raises(TypeError, match="lambda"):
        sg.dumps(f=lambda v: v)
    with pytest.raises(TypeError, match="cannot save"):
        sg.dumps(object())


# --- pickle and copy ---------------------------------------------------------------------
def test_pickle_and_deepcopy_of_a_model():
    model = sg.nn.MLP([2, 3, 1])
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        x = sg.var("x", (None, 2))
        X = np.random.default_rng(1).standard_normal((4, 2))
        np.testing.assert_array_equal(sg.function([x], model(x))(X), sg.function([x], clone(x))(X))
        for p, q in zip(model.params(), clone.params()):
            assert p is not q and p.name == q.name and p.scope == q.scope
            assert not np.shares_memory(p.value, q.value)


def test_pickle_keeps_parameters_shared_between_a_model_and_its_step():
    model = sg.nn.MLP([2, 2, 1], seed=3)
    x, t = sg.var("x", (None, 2)), sg.var("t", (None, 1))
    step = sg.optim.step_function([x, t], sg.nn.mse(model(x), t), model.params(),
                                  sg.optim.Momentum(0.1))
    model2, step2 = pickle.loads(pickle.dumps((model, step)))
    before = [np.copy(p.value) for p in model2.params()]
    step2(np.ones((3, 2)), np.zeros((3, 1)))
    assert any(not np.array_equal(b, p.value) for b, p in zip(before, model2.params()))


def test_pickle_of_a_function_recompiles_the_same_source():
    x, W, b, y, gW, gb = _mlp_step()
    f = sg.function([x], [y, gW], updates={b: b - gb})
    f2 = pickle.loads(pickle.dumps(f))
    assert same_source(f.source, f2.source)
    X = np.ones((2, 2))
    for u, v in zip(f(X), f2(X)):
        np.testing.assert_array_equal(u, v)


def test_copy_of_a_node_is_the_node_deepcopy_is_a_new_graph():
    x = sg.var("x", (2,))
    p = sg.param(np.ones(2), name="p")
    y = x * p
    assert copy.copy(y) is y
    y2 = copy.deepcopy(y)
    assert y2 is not y and describe([y2]) == describe([y])
    p2 = y2.inputs[1]
    p2.value = np.zeros(2)
    np.testing.assert_array_equal(p.value, np.ones(2))
    g2 = copy.deepcopy(Graph([y]))
    assert isinstance(g2, Graph) and len(g2) == 3


def _at_default_recursion_limit(fn):
    import sys
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)          # CPython's default
    try:
        return fn()
    finally:
        sys.setrecursionlimit(saved)


def test_long_chain_pickles_at_the_default_recursion_limit():
    x = sg.var("x", (2,))
    y = x
    for _ in range(100_000):
        y = sg.sin(y)
    y2 = _at_default_recursion_limit(lambda: pickle.loads(pickle.dumps(y)))
    assert len(Graph([y2])) == len(Graph([y])) == 100_001


def test_long_chain_deepcopies_at_the_default_recursion_limit():
    y = sg.var("x", (2,))
    for _ in range(20_000):
        y = sg.cos(y)
    y2 = _at_default_recursion_limit(lambda: copy.deepcopy(y))
    assert len(Graph([y2])) == 20_001 and y2 is not y


# --- a trained model -------------------------------------------------------------------------
@pytest.mark.skipif(__import__("importlib.util").util.find_spec("sklearn") is None,
                    reason="the digits data ships with scikit-learn")
def test_trained_digits_mlp_saved_and_loaded_predicts_identically(tmp_path):
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples"))
    import digits
    import digits_mlp
    X_train, y_train, X_test, y_test = digits.load()
    model, step, accuracy, _ = digits_mlp.build(hidden=32)
    sg.train.fit(step, [X_train, y_train], epochs=2, batch_size=64, seed=0)
    x = sg.var("x", (None, 64))
    predict = sg.function([x], sg.nn.activations.softmax(model(x)))
    path = tmp_path / "digits.sgz"
    sg.save(path, predict, model=model, step=step, accuracy=accuracy)
    loaded = sg.load(path)
    predict2, model2 = loaded[0], loaded["model"]
    np.testing.assert_array_equal(predict(X_test), predict2(X_test))
    assert float(accuracy(X_test, y_test)) == float(loaded["accuracy"](X_test, y_test)) > 0.5
    # the loaded model builds new graphs on the same (loaded) parameters
    again = sg.function([x], sg.nn.activations.softmax(model2(x)))
    np.testing.assert_array_equal(again(X_test), predict(X_test))
    # and trains on: one step of each gives the same parameters
    step(X_train[:64], y_train[:64])
    loaded["step"](X_train[:64], y_train[:64])
    for p, q in zip(model.params(), model2.params()):
        np.testing.assert_array_equal(p.value, q.value)


def test_optimiser_state_saves_and_loads(tmp_path):
    model = sg.nn.MLP([2, 3, 1], seed=2, name="m")
    x, t = sg.var("x", (None, 2)), sg.var("t", (None, 1))
    opt = sg.optim.Adam(sg.optim.ExponentialDecay(0.05, 0.5, 4.0))
    step = sg.optim.step_function([x, t], sg.nn.mse(model(x), t), model.params(), opt)
    for _ in range(3):
        step(np.ones((4, 2)), np.zeros((4, 1)))
    sg.save(tmp_path / "opt.sgz", opt)
    opt2 = sg.load(tmp_path / "opt.sgz")
    assert type(opt2) is sg.optim.Adam and opt2.lr == opt.lr
    assert (opt2.beta1, opt2.beta2, opt2.eps) == (opt.beta1, opt.beta2, opt.eps)
    assert float(opt2.step_counter.value) == 3.0
    assert sorted(opt2.slots) == ["mean", "mean_sq"]
    for a, b in zip(opt.slots["mean_sq"], opt2.slots["mean_sq"]):
        assert a.name == b.name and np.array_equal(a.value, b.value) and np.any(b.value)


def test_layers_of_every_kind_round_trip():
    net = sg.nn.Sequential([
        sg.nn.Conv2D(1, 2, 3, padding="same", activation="relu", seed=1), sg.nn.MaxPool2D(),
        sg.nn.Residual(sg.nn.Conv2D(2, 2, 3, padding="same", seed=2)), sg.nn.AvgPool2D(),
        sg.nn.Flatten(), sg.nn.Dropout(0.25, seed=4), sg.nn.Dense(2, 3, activation="tanh"),
        sg.nn.Activation("softmax")])
    net2 = sg.loads(sg.dumps(net))
    x = sg.var("x", (None, 1, 4, 4))
    X = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    for training in (False, True):
        a = sg.function([x], net(x, training=training))(X)
        b = sg.function([x], net2(x, training=training))(X)
        np.testing.assert_array_equal(a, b)
    assert [type(layer) for layer in net2.layers] == [type(layer) for layer in net.layers]
    dense = sg.nn.Sequential([sg.nn.Dense(3, 4), sg.nn.BatchNorm(4), sg.nn.LayerNorm(4),
                              sg.nn.Dense(4, 2, activation="elu")])
    dense2 = pickle.loads(pickle.dumps(sg.loads(sg.dumps(dense))))
    v = sg.var("v", (None, 3))
    V = np.random.default_rng(1).standard_normal((5, 3))
    for training in (False, True):
        np.testing.assert_array_equal(sg.function([v], dense(v, training=training))(V),
                                      sg.function([v], dense2(v, training=training))(V))
    emb = sg.nn.Embedding(10, 3)
    i = sg.var("i", (None,), "int64")
    np.testing.assert_array_equal(sg.function([i], emb(i))(np.arange(4)),
                                  sg.function([i], sg.loads(sg.dumps(emb))(i))(np.arange(4)))


def test_copy_of_a_function_shares_parameters_deepcopy_does_not():
    x = sg.var("x", (2,))
    p = sg.param(np.zeros(2), name="p")
    f = sg.function([x], sg.sum(p), updates={p: p + x})
    shallow, deep = copy.copy(f), copy.deepcopy(f)
    shallow(np.ones(2))
    np.testing.assert_array_equal(p.value, [1.0, 1.0])       # same parameter
    deep(np.ones(2))
    np.testing.assert_array_equal(p.value, [1.0, 1.0])       # its own parameter
    assert deep.updates[0][0].value.tolist() == [1.0, 1.0]
    assert copy.copy(sg.nn.MLP([2, 2])).layers is not None


def test_hessian_operator_round_trips():
    w = sg.param(np.array([0.5, -1.0, 2.0]), name="w")
    x = sg.var("x", (None, 3))
    op = sg.linearize_hvp(sg.sum(sg.tanh(x @ w) ** 2), [w], [x])
    op2 = sg.loads(sg.dumps(op))
    assert type(op2) is type(op)
    X, v = np.random.default_rng(3).standard_normal((4, 3)), np.array([1.0, 0.0, -1.0])
    op.at(X)
    op2.at(X)
    np.testing.assert_array_equal(op.matvec([v])[0], op2.matvec([v])[0])


@pytest.mark.parametrize("order", ["inner first", "outer first"])
def test_nodes_pickled_together_keep_their_identity(order):
    x = sg.var("x", (3,))
    W = sg.param(np.eye(3), name="W")
    hidden = sg.tanh(x @ W)
    loss = sg.sum(hidden * hidden)
    pair = [hidden, loss] if order == "inner first" else [loss, hidden]
    a, b = pickle.loads(pickle.dumps(pair))
    hidden2, loss2 = (a, b) if order == "inner first" else (b, a)
    assert hidden2 in Graph([loss2])            # the same node, not a copy
    x2 = Graph([loss2]).inputs[0]
    g = sg.grad(loss2, hidden2)                 # so it is differentiable with respect to it
    X = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(sg.function([x2], g)(X), 2 * np.tanh(X))


def test_many_nodes_of_one_graph_pickle_the_graph_once():
    def chain(links):
        y = sg.var("x", (3,))
        for _ in range(links):
            y = sg.sin(y) * 2.0
        return list(Graph([y]).nodes)
    # The last node first: one bundle holds the graph, every other node is a reference of
    # a few bytes into it (a copy of its graph per node would be ~400x the size).
    one = len(pickle.dumps(chain(300)[-1]))
    nodes = chain(300)[::-1]
    assert len(pickle.dumps(nodes)) < 4 * one
    # In creation order each node starts a small bundle leaning on the one before.
    short = chain(8)
    assert len(pickle.dumps(short)) < 4 * len(pickle.dumps(chain(8)[-1])) + 200 * len(short)
    for group in (nodes, short):
        back = pickle.loads(pickle.dumps(group))
        last = max(back, key=lambda n: n.id)
        assert set(map(id, Graph([last]).nodes)) == set(map(id, back))   # one graph, shared


def test_pickling_keeps_no_node_alive():
    import gc
    import weakref
    from symgraph.io import pickling
    before = len(pickling._BUNDLED)
    y = sg.var("x", (2,))
    for _ in range(50):
        y = sg.sin(y)
    pickle.dumps(y)
    assert len(pickling._BUNDLED) == before + 50
    alive = weakref.ref(y)
    del y
    gc.collect()
    assert alive() is None and len(pickling._BUNDLED) == before
