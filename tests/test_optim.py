"""Optimisers: steps against NumPy transcriptions of each update rule, convergence to the
known minimum of a convex quadratic, Newton in one step, Newton-CG, Lanczos, schedules and
the perceptron rule."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph import optim

A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])   # positive definite
B = np.array([1.0, -2.0, 0.5])
W_STAR = np.linalg.solve(A, B)                                     # argmin of 0.5 w'Aw - b'w
W0 = np.array([0.3, -0.1, 0.8])


def quadratic():
    w = sg.param(W0.copy(), name="w")
    loss = 0.5 * sg.sum(w * (sg.const(A) @ w)) - sg.sum(sg.const(B) * w)
    return w, loss


def grad_np(w):
    return A @ w - B


# NumPy transcriptions of each rule: state -> (new w, new state)
def sgd_np(w, s, k, lr):
    return w - lr * grad_np(w), s


def momentum_np(w, s, k, lr, alpha=0.9):
    v = s.get("v", np.zeros_like(w))
    v = alpha * v - lr * grad_np(w)
    return w + v, {"v": v}


def nesterov_textbook_np(w, s, k, lr, alpha=0.9):
    v = s.get("v", np.zeros_like(w))
    v = alpha * v - lr * grad_np(w + alpha * v)        # gradient at the look-ahead point
    return w + v, {"v": v}


def adagrad_np(w, s, k, lr, eps=1e-8):
    g = grad_np(w)
    m = s.get("m", np.zeros_like(w)) + g ** 2
    return w - lr * g / (np.sqrt(m) + eps), {"m": m}


def rmsprop_np(w, s, k, lr, beta=0.9, eps=1e-8):
    g = grad_np(w)
    m = beta * s.get("m", np.zeros_like(w)) + (1 - beta) * g ** 2
    return w - lr * g / (np.sqrt(m) + eps), {"m": m}


def adam_np(w, s, k, lr, b1=0.9, b2=0.999, eps=1e-8):
    g = grad_np(w)
    t = k + 1
    G = b1 * s.get("G", np.zeros_like(w)) + (1 - b1) * g
    M = b2 * s.get("M", np.zeros_like(w)) + (1 - b2) * g ** 2
    return w - lr * (G / (1 - b1 ** t)) / (np.sqrt(M / (1 - b2 ** t)) + eps), {"G": G, "M": M}


RULES = [(optim.SGD, sgd_np, 0.1), (optim.Momentum, momentum_np, 0.05),
         (optim.AdaGrad, adagrad_np, 0.5), (optim.RMSProp, rmsprop_np, 0.01),
         (optim.Adam, adam_np, 0.05)]


@pytest.mark.parametrize("cls,ref,lr", RULES, ids=[r[0].__name__ for r in RULES])
def test_steps_match_numpy_transcription(cls, ref, lr):
    w, loss = quadratic()
    step = optim.step_function([], loss, [w], cls(lr))
    expected, state = W0.copy(), {}
    for k in range(5):
        step()
        expected, state = ref(expected, state, k, lr)
        np.testing.assert_allclose(w.value, expected, rtol=1e-12, atol=1e-14)


def test_nesterov_matches_the_textbook_look_ahead_rule():
    # The parameter holds u = w + alpha v; the textbook iterate is w = u - alpha v.
    w, loss = quadratic()
    opt = optim.Nesterov(0.05, alpha=0.9)
    step = optim.step_function([], loss, [w], opt)
    v = opt.slots["velocity"][0]
    expected, state = W0.copy(), {}
    for k in range(6):
        step()
        expected, state = nesterov_textbook_np(expected, state, k, 0.05)
        np.testing.assert_allclose(w.value - 0.9 * v.value, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt", [optim.SGD(0.2), optim.Momentum(0.05), optim.Nesterov(0.05),
                                 optim.AdaGrad(0.5), optim.RMSProp(0.01), optim.Adam(0.05),
                                 optim.SGD(optim.LinearAnnealing(0.3, 0.05, 100))],
                         ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "annealed"])
def test_each_optimiser_reaches_the_quadratic_minimum(opt):
    w, loss = quadratic()
    step = optim.step_function([], loss, [w], opt)
    for _ in range(1500):
        step()
    # RMSProp's steps stay ~lr in size, so it hovers within about lr of the minimum
    tol = 2e-2 if isinstance(opt, optim.RMSProp) else 1e-6
    np.testing.assert_allclose(w.value, W_STAR, atol=tol)


def test_optimiser_state_lives_in_parameters_and_one_call_is_one_step():
    w, loss = quadratic()
    opt = optim.Adam(0.1)
    step = optim.step_function([], loss, [w], opt)
    assert [p.op for p in opt.slots["mean"] + opt.slots["mean_sq"]] == ["param", "param"]
    step()
    step()
    assert opt.step_counter.value == 2.0


def test_newton_reaches_a_quadratic_minimum_in_one_step():
    w, loss = quadratic()
    newton = optim.Newton(loss, [w])
    before = newton.step()
    np.testing.assert_allclose(w.value, W_STAR, rtol=1e-12)
    assert before > loss.eval()


def test_newton_hessian_matches_the_closed_form():
    w, loss = quadratic()
    model = optim.FlatModel(loss, [w], [])
    np.testing.assert_allclose(model.hessian(), A, rtol=1e-12)


def test_newton_cg_on_a_quadratic_with_several_parameters():
    # two parameters: the flat view must split and join them correctly
    a = sg.param(W0[:2].copy(), name="a")
    b = sg.param(W0[2:].copy(), name="b")
    w = sg.concatenate([a, b])
    loss = 0.5 * sg.sum(w * (sg.const(A) @ w)) - sg.sum(sg.const(B) * w)
    solver = optim.NewtonCG(loss, [a, b], cg_iters=3, line_search=False)
    solver.step()
    # CG on a 3x3 positive definite system is exact after 3 iterations
    np.testing.assert_allclose(np.concatenate([a.value, b.value]), W_STAR, rtol=1e-10)


def test_newton_cg_on_a_logistic_regression_matches_newton():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(40) > 0).astype(float)
    x, t = sg.var("x", (None, 3)), sg.var("t", (None,))
    w1, w2 = sg.param(np.zeros(3), name="w1"), sg.param(np.zeros(3), name="w2")
    reg = lambda w: 0.05 * sg.sum(sg.square(w))
    loss1 = sg.nn.binary_cross_entropy(x @ w1, t) + reg(w1)
    loss2 = sg.nn.binary_cross_entropy(x @ w2, t) + reg(w2)
    newton, ncg = optim.Newton(loss1, [w1], [x, t]), optim.NewtonCG(loss2, [w2], [x, t], cg_iters=10)
    for _ in range(8):
        newton.step(X, y)
        ncg.step(X, y)
    np.testing.assert_allclose(w2.value, w1.value, rtol=1e-6)
    g = sg.grad(loss1, w1).eval({x: X, t: y})
    assert np.linalg.norm(g) < 1e-8


def test_conjugate_gradient_stops_at_negative_curvature():
    M = np.diag([2.0, -1.0])
    x, iters = optim.conjugate_gradient(lambda v: M @ v, np.array([0.0, 1.0]))
    np.testing.assert_array_equal(x, [0.0, 1.0])   # first direction already has p'Mp < 0
    assert iters == 0


def test_lanczos_finds_the_extreme_eigenvalues():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((60, 60)))
    eig = np.concatenate([[-3.0], np.linspace(0.5, 4.0, 58), [9.0]])
    M = (Q * eig) @ Q.T
    spec = optim.lanczos(lambda v: M @ v, 60, k=30, seed=0)
    assert abs(spec.min + 3.0) < 1e-6 and abs(spec.max - 9.0) < 1e-6
    assert spec.is_saddle
    full = optim.lanczos(lambda v: A @ v, 3, k=10)
    np.testing.assert_allclose(full.ritz, np.linalg.eigvalsh(A), rtol=1e-10)
    assert not full.is_saddle


def test_hessian_spectrum_tells_a_saddle_from_a_minimum():
    w = sg.param(np.zeros(2), name="w")
    saddle = sg.square(w[0]) - sg.square(w[1])        # Hessian diag(2, -2)
    spec = optim.hessian_spectrum(saddle, [w], [], [], k=2)
    np.testing.assert_allclose(spec.ritz, [-2.0, 2.0], atol=1e-12)
    assert spec.is_saddle
    bowl = optim.hessian_spectrum(sg.square(w[0]) + 3 * sg.square(w[1]), [w], [], [], k=2)
    np.testing.assert_allclose(bowl.ritz, [2.0, 6.0], atol=1e-12)
    assert not bowl.is_saddle


@pytest.mark.parametrize("schedule", [optim.LinearAnnealing(0.5, 0.1, 4), optim.ExponentialDecay(0.5, 0.5, 2),
                                      optim.Constant(0.3)])
def test_schedules_in_the_graph_match_their_formula(schedule):
    k = sg.var("k", ())
    f = sg.function([k], sg.const(0.0) + schedule(k))
    for step in range(7):
        assert np.isclose(f(float(step)), schedule.value(step))
    if isinstance(schedule, optim.LinearAnnealing):
        assert [schedule.value(s) for s in (0, 2, 4, 6)] == pytest.approx([0.5, 0.3, 0.1, 0.1])


def test_annealed_sgd_uses_the_scheduled_rate_at_each_step():
    w, loss = quadratic()
    sched = optim.LinearAnnealing(0.2, 0.02, 3)
    step = optim.step_function([], loss, [w], optim.SGD(sched))
    expected = W0.copy()
    for k in range(5):
        step()
        expected = expected - sched.value(k) * grad_np(expected)
        np.testing.assert_allclose(w.value, expected, rtol=1e-12)


def test_perceptron_learns_and_but_not_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    p = optim.Perceptron(2, lr=1.0)
    epochs = p.fit(X, np.array([-1.0, -1.0, -1.0, 1.0]))
    assert epochs > 0
    np.testing.assert_array_equal(p.predict(X), [-1, -1, -1, 1])
    assert optim.Perceptron(2).fit(X, np.array([-1.0, 1.0, 1.0, -1.0]), epochs=50) == -1


def test_perceptron_step_matches_the_rule():
    p = optim.Perceptron(2, lr=0.5)
    p.w.value = np.array([0.2, 1.0, -1.0])
    x = np.array([1.0, 3.0])                       # w . (-1, x) = -0.2 + 1 - 3 < 0
    assert p.step(x, 1.0) is True                  # wrong: w += lr * t * (-1, x)
    np.testing.assert_allclose(p.w.value, [0.2 - 0.5, 1.5, 0.5])
    before = p.w.value.copy()
    assert p.step(np.array([3.0, 0.0]), 1.0) is False
    np.testing.assert_array_equal(p.w.value, before)


FLOAT32_OPTIMISERS = {
    "Adam": lambda: optim.Adam(0.05), "AdamW": lambda: optim.AdamW(0.05),
    "SGD-annealed": lambda: optim.SGD(optim.LinearAnnealing(0.1, 0.01, 10)),
    "RMSProp-decayed": lambda: optim.RMSProp(optim.ExponentialDecay(0.05, 0.5, 4)),
}


def _quadratic_steps(make, dtype, n=3):
    w = sg.param(W0.astype(dtype), name="w")
    a, b = sg.const(A.astype(dtype)), sg.const(B.astype(dtype))
    step = optim.step_function([], 0.5 * sg.sum(w * (a @ w)) - sg.sum(b * w), [w], make())
    for _ in range(n):
        step()
    return step, w.value


@pytest.mark.parametrize("name", list(FLOAT32_OPTIMISERS))
def test_float32_parameters_update_in_float32(name):
    # Regression: the float64 step counter made Adam's bias corrections and scheduled
    # learning rates float64 scalars, which ran every float32 update in float64 (twice the
    # memory traffic, then a cast back at the commit). Only scalars may be float64 now.
    step, w32 = _quadratic_steps(FLOAT32_OPTIMISERS[name], np.float32)
    wide = [n for n in step.graph if n.dtype == np.float64 and n.shape != ()]
    assert wide == [], wide
    assert w32.dtype == np.float32
    _, w64 = _quadratic_steps(FLOAT32_OPTIMISERS[name], np.float64)
    np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)
