"""The activations, normalisation and embedding layers, AdamW and gradient clipping:
values against NumPy formulas written here, derivatives against finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest

import symgraph as sg
from symgraph import nn
from symgraph.nn import activations as A
from symgraph.testing import check_grads


def _erf(x):
    return np.vectorize(math.erf)(x)


# name, builder, NumPy reference, input away from the function's kinks
ACTIVATIONS = [
    ("leaky_relu", A.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), "nonzero"),
    ("elu", A.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "nonzero"),
    ("selu", A.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)), "nonzero"),
    ("silu", A.silu, lambda x: x / (1 + np.exp(-x)), "normal"),
    ("swish", A.swish, lambda x: x / (1 + np.exp(-x)), "normal"),
    ("mish", A.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), "normal"),
    ("softsign", A.softsign, lambda x: x / (1 + np.abs(x)), "nonzero"),
    ("hard_tanh", A.hard_tanh, lambda x: np.clip(x, -1, 1), "inside"),
    ("gelu_tanh", A.gelu_tanh,
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), "normal"),
]


def _draw(kind: str, rng) -> np.ndarray:
    x = rng.standard_normal((3, 4))
    if kind == "nonzero":
        return np.sign(x) * (0.3 + np.abs(x))
    if kind == "inside":     # |x| < 1 and away from the clip's corners, plus points outside
        return np.concatenate([rng.uniform(-0.8, 0.8, (2, 4)), rng.choice([-2.0, 2.0], (1, 4))])
    return x


@pytest.mark.parametrize("name,fn,ref,kind", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_and_derivatives(name, fn, ref, kind, rng):
    x = _draw(kind, rng)
    v = sg.var("x", x.shape)
    np.testing.assert_allclose(sg.function([v], fn(v))(x), ref(x), rtol=1e-12, atol=1e-14)
    check_grads(fn(v), [v], [x], order=2)
    assert A.get(name) is fn


def test_elu_never_overflows_on_the_discarded_branch():
    x = sg.var("x", (2,))
    out = sg.function([x], [A.elu(x), sg.grad(sg.sum(A.elu(x)), x)])(np.array([800.0, -1.0]))
    assert np.isfinite(out[0]).all() and np.isfinite(out[1]).all()
    np.testing.assert_allclose(out[1], [1.0, np.exp(-1.0)])


def test_gelu_exact_matches_erf(rng):
    pytest.importorskip("scipy")
    if not hasattr(sg, "special"):
        pytest.skip("sg.special is not available")
    x = rng.standard_normal((3, 4))
    v = sg.var("x", x.shape)
    np.testing.assert_allclose(sg.function([v], A.gelu(v))(x),
                               0.5 * x * (1 + _erf(x / np.sqrt(2))), rtol=1e-12)
    check_grads(A.gelu(v), [v], [x], order=2)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        A.gelu(sg.var("x", (2,)), "cubic")


def test_layer_norm_normalises_each_example(rng):
    x = rng.standard_normal((5, 3, 4)) * 3 + 1
    layer = nn.LayerNorm((3, 4))
    layer.gamma.value = rng.standard_normal((3, 4))
    layer.beta.value = rng.standard_normal((3, 4))
    v = sg.var("x", (None, 3, 4))
    mu = x.mean(axis=(1, 2), keepdims=True)
    ref = (x - mu) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + 1e-5)
    ref = ref * layer.gamma.value + layer.beta.value
    np.testing.assert_allclose(sg.function([v], layer(v))(x), ref, rtol=1e-12)
    w = sg.var("w", (2, 3, 4))
    check_grads(sg.sum(layer(w) ** 3), [w], [x[:2]], order=2)


def test_layer_norm_rejects_the_wrong_trailing_shape():
    with pytest.raises(sg.ShapeError, match="trailing axes"):
        nn.LayerNorm(5)(sg.var("x", (2, 4)))
    with pytest.raises(ValueError, match="positive"):
        nn.LayerNorm(0)


def test_batch_norm_training_eval_and_running_averages(rng):
    x = rng.standard_normal((6, 3)) * np.array([1.0, 2.0, 0.5]) + np.array([0.0, 3.0, -1.0])
    layer = nn.BatchNorm(3, momentum=0.25)
    v = sg.var("x", (None, 3))
    out = layer(v, training=True)
    step = sg.function([v], out, updates=layer.state_updates())
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(step(x), ref, rtol=1e-12)
    np.testing.assert_allclose(layer.running_mean.value, 0.25 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.value, 0.75 + 0.25 * x.var(0, ddof=1), rtol=1e-12)
    assert layer.running_mean not in layer.params() and layer.running_mean in layer.state()
    evaluate = sg.function([v], layer(v))                 # inference: running averages
    expect = (x - layer.running_mean.value) / np.sqrt(layer.running_var.value + 1e-5)
    np.testing.assert_allclose(evaluate(x), expect, rtol=1e-12)


def test_batch_norm_on_images_normalises_each_channel(rng):
    x = rng.standard_normal((4, 2, 3, 3)) + np.array([1.0, -2.0])[None, :, None, None]
    layer = nn.BatchNorm(2)
    layer.gamma.value = np.array([2.0, 0.5])
    v = sg.var("x", (None, 2, 3, 3))
    y = sg.function([v], layer(v, training=True))(x)
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    ref = (x - mu) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, ref * np.array([2.0, 0.5])[None, :, None, None], rtol=1e-12)
    w = sg.var("w", x.shape)
    check_grads(sg.sum(layer(w, training=True) ** 3), [w], [x], order=2)
    with pytest.raises(sg.ShapeError, match="channels"):
        layer(sg.var("bad", (4, 3, 3, 3)))


def test_embedding_picks_rows_and_adds_gradients_of_repeated_ids(rng):
    emb = nn.Embedding(5, 3, seed=1)
    ids = np.array([[0, 2, 2], [4, 0, 1]])
    i = sg.var("ids", (None, 3), "int64")
    out = emb(i)
    np.testing.assert_array_equal(sg.function([i], out)(ids), emb.W.value[ids])
    g = rng.standard_normal((2, 3, 3))
    grad_w = sg.function([i], sg.grad(sg.sum(out * g), emb.W))(ids)
    ref = np.zeros((5, 3))
    np.add.at(ref, ids, g)
    np.testing.assert_allclose(grad_w, ref, rtol=1e-12)
    with pytest.raises(sg.DTypeError, match="integers"):
        emb(sg.var("x", (2,)))


def test_adamw_decays_the_weights_not_the_gradient(rng):
    w0 = rng.standard_normal(4)
    X = rng.standard_normal((3, 4))
    W = sg.param(w0.copy(), name="w")
    x = sg.var("x", (4,))
    loss = sg.sum(sg.square(W - x))
    step = sg.optim.step_function([x], loss, [W], sg.optim.AdamW(lr=0.1, weight_decay=0.2))
    for row in X:
        step(row)
    # the same three steps by hand: Adam's step plus lr * wd * w on the old weights
    w, m, v = w0.copy(), np.zeros(4), np.zeros(4)
    for t, row in enumerate(X, start=1):
        g = 2 * (w - row)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w = w - 0.1 * ((m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8) + 0.2 * w)
    np.testing.assert_allclose(W.value, w, rtol=1e-12)


def test_clip_by_global_norm(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(4)
    va, vb = sg.var("a", a.shape), sg.var("b", b.shape)
    norm = np.sqrt((a ** 2).sum() + (b ** 2).sum())
    for max_norm in (norm / 2, norm * 2):
        out = sg.function([va, vb], sg.optim.clip_by_global_norm([va, vb], max_norm))(a, b)
        scale = min(1.0, max_norm / norm)
        np.testing.assert_allclose(out[0], a * scale, rtol=1e-12)
        np.testing.assert_allclose(out[1], b * scale, rtol=1e-12)
    with pytest.raises(ValueError, match="positive"):
        sg.optim.clip_by_global_norm([va], 0.0)


def test_step_function_clips_before_the_update():
    W = sg.param(np.array([0.0, 0.0]), name="w")
    x = sg.var("x", (2,))
    loss = sg.sum(W * x)                                    # gradient = x
    step = sg.optim.step_function([x], loss, [W], sg.optim.SGD(lr=1.0), clip_norm=1.0)
    step(np.array([3.0, 4.0]))                              # norm 5 -> scaled to 1
    np.testing.assert_allclose(W.value, [-0.6, -0.8], rtol=1e-12)
