"""Layers, activations, initialisers, losses and regularisers: values against NumPy
references, gradients against finite differences and closed forms."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph import nn

EPS = 1e-6


def fd_grad(f, p: sg.Node, rng) -> tuple[float, float]:
    """(<analytic grad, d>, central difference along d) of the scalar ``f()`` in param ``p``."""
    y = f()
    g = sg.grad(y, p).eval()
    d = rng.standard_normal(p.shape)
    base = p.value.copy()
    f_y = sg.function([], y)
    p.value = base + EPS * d
    up = f_y()
    p.value = base - EPS * d
    down = f_y()
    p.value = base
    return float(np.sum(g * d)), float((up - down) / (2 * EPS))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# --- layers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("act,ref", [("relu", lambda z: np.maximum(z, 0)), ("tanh", np.tanh),
                                     ("sigmoid", sigmoid), ("abs", np.abs), ("linear", lambda z: z),
                                     ("softmax", softmax)])
def test_dense_layer_value_and_gradients(act, ref):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    layer = nn.Dense(3, 4, act, seed=1)
    out = layer(sg.const(X)).eval()
    np.testing.assert_allclose(out, ref(X @ layer.W.value + layer.b.value), rtol=1e-12)
    C = rng.standard_normal((5, 4))
    for p in layer.params():
        got, fd = fd_grad(lambda: sg.sum(layer(sg.const(X)) * C), p, rng)
        assert np.isclose(got, fd, rtol=1e-5, atol=1e-7), (act, p.label)


def test_layer_nodes_live_in_the_layer_scope():
    layer = nn.Dense(2, 2, "tanh", name="hidden")
    y = layer(sg.var("x", (None, 2)))
    assert y.scope == "hidden" and layer.W.scope == "hidden"
    model = nn.MLP([2, 3, 1], name="net")
    out = model(sg.var("x", (None, 2)))
    scopes = {n.scope for n in sg.Graph(out).nodes if n.op not in ("var", "const")}
    assert scopes == {"net/layer1", "net/layer2"}
    assert [p.scope for p in model.params()] == ["net/layer1"] * 2 + ["net/layer2"] * 2


def test_mlp_matches_numpy_forward():
    rng = np.random.default_rng(2)
    model = nn.MLP([4, 6, 5, 3], activation="tanh", seed=3)
    X = rng.standard_normal((7, 4))
    W1, b1, W2, b2, W3, b3 = [p.value for p in model.params()]
    expected = np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2) @ W3 + b3
    np.testing.assert_allclose(model(sg.const(X)).eval(), expected, rtol=1e-12)
    assert [p.shape for p in model.weights()] == [(4, 6), (6, 5), (5, 3)]


def test_residual_block_value_and_gradient():
    rng = np.random.default_rng(4)
    block = nn.Sequential([nn.Dense(3, 3, "relu", seed=5), nn.Dense(3, 3, seed=6)])
    res = nn.Residual(block, "relu")
    X = rng.standard_normal((4, 3))
    W1, b1, W2, b2 = [p.value for p in res.params()]
    expected = np.maximum(X + np.maximum(X @ W1 + b1, 0) @ W2 + b2, 0)
    np.testing.assert_allclose(res(sg.const(X)).eval(), expected, rtol=1e-12)
    got, fd = fd_grad(lambda: sg.sum(sg.square(res(sg.const(X)))), block.layers[0].W, rng)
    assert np.isclose(got, fd, rtol=1e-5)


def test_dropout_train_vs_inference_and_inverted_scaling():
    drop = nn.Dropout(0.25, seed=1)
    x = sg.var("x", (None, 400))
    train = sg.function([x], drop(x, training=True), updates=drop.state_updates())
    infer = sg.function([x], drop(x, training=False))
    X = np.ones((50, 400))
    np.testing.assert_array_equal(infer(X), X)
    a, b = train(X), train(X)
    assert set(np.unique(a)) == {0.0, 1 / 0.75}            # survivors scaled by 1/keep
    assert abs(a.mean() - 1.0) < 0.02                         # expectation preserved
    assert abs((a == 0).mean() - 0.25) < 0.02
    assert np.any(a != b)                                     # a fresh mask every step


def test_dropout_gradient_is_masked():
    drop = nn.Dropout(0.5, seed=2)
    x = sg.var("x", (10, 10))
    y = drop(x, training=True)
    out, g = sg.function([x], [y, sg.grad(sg.sum(y), x)])(np.ones((10, 10)))
    np.testing.assert_array_equal(g, out)   # d(mask * x / keep)/dx = mask / keep = y at x = 1


def test_conv_layers_shapes_and_values():
    rng = np.random.default_rng(5)
    conv = nn.Conv2D(1, 4, 3, padding="same", activation="relu", seed=0)
    pool = nn.MaxPool2D(2)
    X = rng.standard_normal((2, 1, 8, 8))
    y = nn.Flatten()(pool(conv(sg.const(X))))
    assert y.shape == (2, 64)
    K, b = conv.K.value, conv.b.value
    xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    z = np.zeros((2, 4, 8, 8))
    for i in range(8):
        for j in range(8):
            z[:, :, i, j] = np.einsum("nchw,ochw->no", xp[:, :, i:i + 3, j:j + 3], K)
    h = np.maximum(z + b[None, :, None, None], 0)
    pooled = h.reshape(2, 4, 4, 2, 4, 2).max(axis=(3, 5))
    np.testing.assert_allclose(y.eval(), pooled.reshape(2, 64), rtol=1e-12)
    got, fd = fd_grad(lambda: sg.sum(sg.square(nn.AvgPool2D(2)(conv(sg.const(X))))), conv.K, rng)
    assert np.isclose(got, fd, rtol=1e-5)


@pytest.mark.parametrize("name,var", [("glorot_uniform", 2 / (300 + 200)), ("glorot_normal", 2 / (300 + 200)),
                                      ("he_normal", 2 / 300), ("he_uniform", 2 / 300)])
def test_initialiser_variances(name, var):
    w = nn.init.get(name)((300, 200), np.random.default_rng(0))
    assert w.shape == (300, 200)
    assert abs(w.var() / var - 1) < 0.03
    assert abs(w.mean()) < 0.01


def test_conv_kernel_fans():
    assert nn.init.fans((8, 3, 5, 5)) == (75, 200)


# --- losses ----------------------------------------------------------------------------------
def test_softmax_cross_entropy_values_int_and_one_hot():
    rng = np.random.default_rng(6)
    Z, labels = rng.standard_normal((6, 4)), np.array([0, 3, 1, 1, 2, 0])
    logp = np.log(softmax(Z))
    expected = -np.mean(logp[np.arange(6), labels])
    z = sg.var("z", (None, 4))
    assert np.isclose(nn.softmax_cross_entropy(z, sg.const(labels)).eval({z: Z}), expected)
    assert np.isclose(nn.softmax_cross_entropy(z, np.eye(4)[labels]).eval({z: Z}), expected)
    assert np.isclose(nn.softmax_cross_entropy(z, sg.const(labels), "sum").eval({z: Z}), 6 * expected)


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    rng = np.random.default_rng(7)
    Z, labels = rng.standard_normal((5, 3)) * 3, np.array([2, 0, 1, 1, 0])
    z = sg.var("z", (5, 3))
    g = sg.grad(nn.softmax_cross_entropy(z, sg.const(labels), "sum"), z).eval({z: Z})
    np.testing.assert_allclose(g, softmax(Z) - np.eye(3)[labels], rtol=1e-12, atol=1e-14)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = sg.var("z", (1, 3))
    loss = nn.softmax_cross_entropy(z, sg.const(np.array([1])))
    value = loss.eval({z: np.array([[1000.0, 0.0, -1000.0]])})
    assert np.isfinite(value) and np.isclose(value, 1000.0)
    g = sg.grad(loss, z).eval({z: np.array([[1000.0, 0.0, -1000.0]])})
    np.testing.assert_allclose(g, [[1.0, -1.0, 0.0]], atol=1e-12)


def test_softmax_cross_entropy_int_labels_use_one_fused_op_each_way():
    z, y = sg.var("z", (None, 4)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(z, y)
    f = sg.function([z, y], [loss, sg.grad(loss, z)])
    assert f.graph.count("sparse_softmax_cross_entropy") == 1
    assert f.graph.count("sparse_softmax_cross_entropy_grad") == 1
    assert f.graph.count("log_softmax") == 0 and f.graph.count("one_hot") == 0


def test_softmax_cross_entropy_second_derivative_matches_finite_differences():
    # Hessian-vector product in the logits: finite differences of the fused gradient op
    rng = np.random.default_rng(8)
    Z, V, labels = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), np.array([3, 0, 1, 1, 2])
    z = sg.var("z", (5, 4))
    loss = nn.softmax_cross_entropy(z, sg.const(labels))
    g = sg.function([z], sg.grad(loss, z))
    hv = sg.hvp(loss, z, sg.const(V)).eval({z: Z})
    np.testing.assert_allclose(hv, (g(Z + EPS * V) - g(Z - EPS * V)) / (2 * EPS), atol=1e-8)


@pytest.mark.parametrize("bad", [4, -1])
def test_softmax_cross_entropy_rejects_labels_out_of_range(bad):
    z, y = sg.var("z", (None, 4)), sg.var("y", (None,), "int64")
    loss = nn.softmax_cross_entropy(z, y)
    f = sg.function([z, y], [loss, sg.grad(loss, z)])
    with pytest.raises(sg.EvaluationError, match=r"sparse_softmax_cross_entropy.*\[0, 4\)"):
        f(np.zeros((2, 4)), np.array([0, bad]))


def test_sparse_softmax_cross_entropy_build_errors():
    z = sg.var("z", (3, 4))
    with pytest.raises(sg.DTypeError, match="labels must be integers"):
        sg.sparse_softmax_cross_entropy(z, sg.const(np.zeros(3)))
    with pytest.raises(sg.ShapeError, match=r"labels \(2,\)"):
        sg.sparse_softmax_cross_entropy(z, sg.const(np.zeros(2, np.int64)))
    with pytest.raises(sg.ShapeError, match="number of classes must be static"):
        sg.sparse_softmax_cross_entropy(sg.var("w", (3, None)), sg.const(np.zeros(3, np.int64)))


LOSS_REFS = [
    ("mse", lambda p, y: nn.mse(p, y), lambda p, y: np.mean((p - y) ** 2)),
    ("l1", lambda p, y: nn.l1(p, y), lambda p, y: np.mean(np.abs(p - y))),
    ("huber", lambda p, y: nn.huber(p, y, 0.7),
     lambda p, y: np.mean(np.where(np.abs(p - y) <= 0.7, 0.5 * (p - y) ** 2, 0.7 * (np.abs(p - y) - 0.35)))),
    ("bce", lambda z, y: nn.binary_cross_entropy(z, y),
     lambda z, y: np.mean(-(y * np.log(sigmoid(z)) + (1 - y) * np.log(1 - sigmoid(z))))),
    ("bce-probs", lambda z, y: nn.binary_cross_entropy_probs(sg.sigmoid(z), y),
     lambda z, y: np.mean(-(y * np.log(sigmoid(z)) + (1 - y) * np.log(1 - sigmoid(z))))),
]


@pytest.mark.parametrize("name,build,ref", LOSS_REFS, ids=[r[0] for r in LOSS_REFS])
def test_losses_value_and_gradient(name, build, ref):
    rng = np.random.default_rng(8)
    P = rng.standard_normal((4, 3)) * 1.5
    Y = rng.uniform(0, 1, (4, 3)) if name.startswith("bce") else rng.standard_normal((4, 3))
    p = sg.param(P, name="p")
    assert np.isclose(build(p, Y).eval(), ref(P, Y), rtol=1e-12)
    got, fd = fd_grad(lambda: build(p, Y), p, rng)
    assert np.isclose(got, fd, rtol=1e-5, atol=1e-8)


def test_huber_is_quadratic_inside_and_linear_outside():
    p = sg.var("p", (2,))
    g = sg.grad(nn.huber(p, 0.0, delta=1.0, reduction="sum"), p)
    np.testing.assert_allclose(g.eval({p: np.array([0.5, -3.0])}), [0.5, -1.0])


def test_accuracy():
    z = np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]])
    assert np.isclose(nn.accuracy(sg.const(z), sg.const(np.array([1, 0, 0]))).eval(), 2 / 3)


# --- regularisers ----------------------------------------------------------------------------
def test_regularisers_values_and_gradients():
    rng = np.random.default_rng(9)
    A, B = rng.standard_normal((3, 2)), rng.standard_normal(4)
    a, b = sg.param(A, name="a"), sg.param(B, name="b")
    l2 = nn.regularizers.l2([a, b], 0.3)
    l1 = nn.regularizers.l1([a, b], 0.2)
    both = nn.regularizers.l1_l2([a, b], 0.2, 0.3)
    assert np.isclose(l2.eval(), 0.15 * (np.sum(A ** 2) + np.sum(B ** 2)))
    assert np.isclose(l1.eval(), 0.2 * (np.sum(np.abs(A)) + np.sum(np.abs(B))))
    assert np.isclose(both.eval(), l1.eval() + l2.eval())
    np.testing.assert_allclose(sg.grad(l2, a).eval(), 0.3 * A)          # weight decay
    np.testing.assert_allclose(sg.grad(l1, b).eval(), 0.2 * np.sign(B))


def test_unknown_names_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        nn.Dense(2, 2, "relu6")
    with pytest.raises(ValueError, match="unknown initialiser"):
        nn.Dense(2, 2, init="nope")
    with pytest.raises(ValueError, match="rate"):
        nn.Dropout(1.0)


def test_a_layer_built_outside_its_model_draws_as_one_scope():
    # Regression: parameters went to scope "hidden" and the ops to "xor/hidden", so
    # drawings showed two clusters named "hidden".
    hidden = nn.Dense(2, 3, "tanh", seed=0, name="hidden")
    model = nn.Sequential([hidden], name="xor")
    x = sg.var("x", (None, 2))
    with sg.scope("outer"):
        y = model(x)
    scopes = {n.scope for n in sg.Graph(y).nodes if n.op not in ("var", "const")}
    assert scopes == {"hidden"}
    assert sg.current_scope() == ""
