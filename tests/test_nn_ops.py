"""conv2d, pooling and dropout_mask: values against direct NumPy loops, first and second
derivatives (reverse and forward mode) against central finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg

EPS = 1e-6


# --- direct loop references ----------------------------------------------------------------
def conv_loops(x, w, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = xp.shape
    o, _, kh, kw = w.shape
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, ho, wo))
    for b in range(n):
        for k in range(o):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[b, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[b, k, i, j] = np.sum(patch * w[k])
    return out


def pool_loops(x, size, stride, reduce):
    n, c, h, w = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + size, j * stride:j * stride + size], axis=(2, 3))
    return out


def distinct(rng, shape):
    """Entries at least 0.1 apart, so no pooling window has a tie within finite-difference reach."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0, 0.01, n)).reshape(shape) / 3


# --- a finite-difference checker to second order --------------------------------------------
def check_derivatives(build, arrays, rng, rtol=1e-5, atol=1e-6):
    xs = [sg.var(f"x{i}", a.shape, a.dtype) for i, a in enumerate(arrays)]
    y = build(*xs)
    f_y = sg.function(xs, y)
    c = rng.standard_normal(np.shape(f_y(*arrays)))
    L = sg.sum(y * sg.const(c))
    grads = sg.grad(L, xs)
    f_L, f_g = sg.function(xs, L), sg.function(xs, grads)
    d = [rng.standard_normal(a.shape) for a in arrays]
    plus = [a + EPS * e for a, e in zip(arrays, d)]
    minus = [a - EPS * e for a, e in zip(arrays, d)]
    # first order, reverse mode: <grad L, d> vs the central difference of L
    fd = (f_L(*plus) - f_L(*minus)) / (2 * EPS)
    got = sum(np.sum(g * e) for g, e in zip(f_g(*arrays), d))
    np.testing.assert_allclose(got, fd, rtol=rtol, atol=atol)
    # first order, forward mode: the JVP vs the central difference of y
    t = sg.function(xs, sg.jvp(y, xs, [sg.const(e) for e in d]))(*arrays)
    np.testing.assert_allclose(t, (f_y(*plus) - f_y(*minus)) / (2 * EPS), rtol=rtol, atol=atol)
    # second order: H d, reverse-over-reverse and forward-over-reverse, vs differences of grad
    fd_h = [(p - m) / (2 * EPS) for p, m in zip(f_g(*plus), f_g(*minus))]
    inner = sg.sum(grads[0] * sg.const(d[0]))
    for g, e in zip(grads[1:], d[1:]):
        inner = inner + sg.sum(g * sg.const(e))
    rr = sg.function(xs, sg.grad(inner, xs))(*arrays)
    fr = sg.function(xs, sg.jvp(grads, xs, [sg.const(e) for e in d]))(*arrays)
    for a, b, ref in zip(rr, fr, fd_h):
        np.testing.assert_allclose(a, ref, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(b, ref, rtol=1e-4, atol=1e-5)


# --- convolution -----------------------------------------------------------------------------
CONV_CASES = [((2, 3, 6, 5), (4, 3, 3, 2), 1, 0), ((1, 2, 7, 7), (3, 2, 3, 3), 2, 1),
              ((2, 1, 5, 6), (2, 1, 2, 2), 3, 2), ((1, 2, 4, 4), (2, 2, 1, 1), 1, 0)]


@pytest.mark.parametrize("xs,ws,stride,pad", CONV_CASES)
def test_conv2d_matches_loops(xs, ws, stride, pad):
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal(xs), rng.standard_normal(ws)
    x = sg.var("x", (None,) + xs[1:])
    y = sg.conv2d(x, sg.const(W), stride=stride, padding=pad)
    out = y.eval({x: X})
    expected = conv_loops(X, W, stride, pad)
    assert out.shape == expected.shape
    assert y.shape == (None,) + expected.shape[1:]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs,ws,stride,pad", CONV_CASES)
def test_conv2d_derivatives_to_second_order(xs, ws, stride, pad):
    rng = np.random.default_rng(1)
    check_derivatives(lambda x, w: sg.conv2d(x, w, stride=stride, padding=pad),
                      [rng.standard_normal(xs), rng.standard_normal(ws)], rng)


def test_conv2d_nonlinear_composition_second_order():
    rng = np.random.default_rng(2)
    check_derivatives(lambda x, w: sg.tanh(sg.conv2d(x, w, stride=2, padding=1)),
                      [rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))], rng)


def test_conv2d_gradient_ops_are_the_transposes():
    # <conv(x, w), g> = <x, input_grad(g, w)> = <w, kernel_grad(x, g)>
    rng = np.random.default_rng(3)
    X, W = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 3))
    x, w = sg.const(X), sg.const(W)
    y = sg.conv2d(x, w, stride=2, padding=1)
    G = rng.standard_normal(sg.function([], y)().shape)
    gx, gw = sg.vjp(y, [x, w], G)
    assert gx.op == "conv2d_input_grad" and gw.op == "conv2d_kernel_grad"
    vy, vx, vw = sg.function([], [y, gx, gw])()
    assert np.isclose(np.sum(vy * G), np.sum(X * vx)) and np.isclose(np.sum(vy * G), np.sum(W * vw))


def test_conv2d_input_grad_has_its_own_rules_to_second_order():
    rng = np.random.default_rng(4)
    X = sg.const(rng.standard_normal((2, 2, 6, 5)))   # read only for its shape
    G, W = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((3, 2, 3, 3))
    check_derivatives(lambda g, w: sg.ops.nn.conv2d_input_grad(g, w, X, stride=2, padding=1),
                      [G, W], rng)


def test_conv2d_kernel_grad_has_its_own_rules_to_second_order():
    rng = np.random.default_rng(4)
    X, G = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 3, 3, 3))
    check_derivatives(lambda x, g: sg.ops.nn.conv2d_kernel_grad(x, g, (3, 3), stride=2, padding=1),
                      [X, G], rng)


def test_conv2d_shape_errors_name_the_op_and_shapes():
    x = sg.var("x", (None, 3, 8, 8))
    with pytest.raises(sg.ShapeError, match=r"conv2d: input \(\?, 3, 8, 8\) has 3 channels.*\(4, 2, 3, 3\).*test_nn_ops.py"):
        sg.conv2d(x, sg.const(np.zeros((4, 2, 3, 3))))
    with pytest.raises(sg.ShapeError, match="window 9 is larger"):
        sg.conv2d(x, sg.const(np.zeros((4, 3, 9, 9))))
    with pytest.raises(ValueError, match="stride"):
        sg.conv2d(x, sg.const(np.zeros((4, 3, 3, 3))), stride=0)


# --- pooling ---------------------------------------------------------------------------------
POOL_CASES = [((2, 3, 6, 6), 2, 2), ((1, 2, 7, 5), 3, 2), ((2, 1, 5, 5), 2, 1)]


@pytest.mark.parametrize("shape,size,stride", POOL_CASES)
def test_pooling_matches_loops(shape, size, stride):
    rng = np.random.default_rng(5)
    X = rng.standard_normal(shape)
    x = sg.var("x", shape)
    mx, av = sg.function([x], [sg.max_pool2d(x, size, stride), sg.avg_pool2d(x, size, stride)])(X)
    np.testing.assert_allclose(mx, pool_loops(X, size, stride, np.max), rtol=1e-12)
    np.testing.assert_allclose(av, pool_loops(X, size, stride, np.mean), rtol=1e-12)


@pytest.mark.parametrize("shape,size,stride", POOL_CASES)
def test_pooling_derivatives_to_second_order(shape, size, stride):
    rng = np.random.default_rng(6)
    X = distinct(rng, shape)
    check_derivatives(lambda x: sg.max_pool2d(x, size, stride), [X], rng)
    check_derivatives(lambda x: sg.avg_pool2d(x, size, stride), [X], rng)
    # a curved function of the pooled values has a non-zero second derivative to check
    check_derivatives(lambda x: sg.square(sg.max_pool2d(sg.tanh(x), size, stride)), [X], rng)


def test_max_pool_routes_gradient_to_the_maximum_and_splits_ties():
    X = np.array([[[[1.0, 5.0], [2.0, 3.0]]]])
    x = sg.var("x", X.shape)
    g = sg.grad(sg.sum(sg.max_pool2d(x, 2)), x)
    np.testing.assert_array_equal(g.eval({x: X}), [[[[0, 1], [0, 0]]]])
    tie = np.ones((1, 1, 2, 2))
    np.testing.assert_allclose(g.eval({x: tie}), np.full((1, 1, 2, 2), 0.25))


def test_pool_route_and_gather_are_transposes():
    rng = np.random.default_rng(7)
    X = distinct(rng, (2, 2, 5, 5))
    G, T = rng.standard_normal((2, 2, 2, 2)), rng.standard_normal((2, 2, 5, 5))
    x = sg.const(X)
    route = sg.ops.apply("max_pool2d_route", [x, sg.const(G)], size=3, stride=2)
    gather = sg.ops.apply("max_pool2d_gather", [x, sg.const(T)], size=3, stride=2)
    r, q = sg.function([], [route, gather])()
    assert np.isclose(np.sum(r * T), np.sum(G * q))


# --- dropout mask ----------------------------------------------------------------------------
def test_dropout_mask_depends_only_on_seed_and_counter():
    like = sg.var("h", (None, 50))
    c = sg.param(np.int64(0), name="c")
    m = sg.dropout_mask(c, like, keep=0.8, seed=3)
    f = sg.function([like], m, updates={c: c + 1})
    H = np.zeros((40, 50))
    a, b = f(H), f(H)
    c.value = 0
    again = f(H)
    assert a.shape == (40, 50) and set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, again)           # same (seed, counter): same mask
    assert np.any(a != b)                              # the counter moved: a new mask
    assert abs(a.mean() - 0.8) < 0.05                  # 2000 draws: keep rate near 0.8
    expected = np.random.default_rng([3, 0]).random((40, 50)) < 0.8
    np.testing.assert_array_equal(a, expected)


def test_dropout_mask_scale_is_folded_into_its_entries():
    like = sg.var("h", (None, 30))
    m = sg.dropout_mask(sg.const(np.int64(2)), like, keep=0.6, seed=4, scale=1 / 0.6)
    m32 = sg.dropout_mask(sg.const(np.int64(2)), like, keep=0.6, seed=4, scale=1 / 0.6,
                          dtype="float32")
    a, b = sg.function([like], [m, m32])(np.zeros((20, 30)))
    kept = np.random.default_rng([4, 2]).random((20, 30)) < 0.6
    np.testing.assert_array_equal(a, np.where(kept, 1 / 0.6, 0.0))   # exactly 0 or 1/keep
    assert b.dtype == np.float32
    np.testing.assert_array_equal(b, a.astype(np.float32))
    with pytest.raises(sg.DTypeError, match="scale"):
        sg.dropout_mask(sg.const(np.int64(0)), like, keep=0.5, seed=0, dtype="int64", scale=2.5)


def test_dropout_mask_has_no_derivative():
    x = sg.var("x", (3, 4))
    m = sg.dropout_mask(sg.const(np.int64(1)), x, keep=0.5, seed=0)
    with pytest.raises(sg.DisconnectedError):
        sg.grad(sg.sum(m * 1.0), x, disconnected="raise")
