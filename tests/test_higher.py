"""Higher-order derivatives: n-th derivatives against closed forms, Hessians and Jacobians
against closed forms, Hessian-vector products (both methods and the linearised operator)
against finite differences of the gradient, and a CG solve through the operator."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.graph import Graph
from symgraph.passes.cse import cse
from symgraph.testing import check_grads

GRID = np.array([-1.7, -0.6, 0.0, 0.35, 1.2, 2.1])


# --- closed forms, computed without symgraph -----------------------------------------------
def _poly_chain(p0: np.poly1d, inner: np.poly1d, n: int) -> list[np.poly1d]:
    """P_0 = p0, P_{k+1} = P_k' * inner: the derivatives of f when f' = inner(f)."""
    out = [p0]
    for _ in range(n):
        out.append(np.polyder(out[-1]) * inner)
    return out


def tanh_derivatives(x: np.ndarray, n: int) -> list[np.ndarray]:
    # tanh' = 1 - tanh^2, so every derivative is a polynomial in t = tanh x
    t = np.tanh(x)
    return [p(t) for p in _poly_chain(np.poly1d([1.0, 0.0]), np.poly1d([-1.0, 0.0, 1.0]), n)]


def sigmoid_derivatives(x: np.ndarray, n: int) -> list[np.ndarray]:
    # s' = s (1 - s)
    s = 1 / (1 + np.exp(-x))
    return [p(s) for p in _poly_chain(np.poly1d([1.0, 0.0]), np.poly1d([-1.0, 1.0, 0.0]), n)]


def lorentzian_derivatives(x: np.ndarray, n: int) -> list[np.ndarray]:
    # 1/(1+x^2) = Im 1/(x - i), and d^k/dx^k 1/(x - i) = (-1)^k k! / (x - i)^(k+1)
    return [np.imag((-1) ** k * math.factorial(k) / (x - 1j) ** (k + 1)) for k in range(n + 1)]


def exp_sin_derivatives(x: np.ndarray, n: int) -> list[np.ndarray]:
    # Taylor coefficients of exp(sin(x + h)) in h: a_k of sin are sin^(k)(x) / k!, and
    # b = exp(a) obeys k b_k = sum_{j=1..k} j a_j b_{k-j}; the k-th derivative is k! b_k.
    a = [np.sin(x + k * np.pi / 2) / math.factorial(k) for k in range(n + 1)]
    b = [np.exp(a[0])]
    for k in range(1, n + 1):
        b.append(sum(j * a[j] * b[k - j] for j in range(1, k + 1)) / k)
    return [math.factorial(k) * b[k] for k in range(n + 1)]


FUNCTIONS = {
    "tanh": (sg.tanh, tanh_derivatives),
    "sigmoid": (sg.sigmoid, sigmoid_derivatives),
    "exp(sin x)": (lambda x: sg.exp(sg.sin(x)), exp_sin_derivatives),
    "1/(1+x^2)": (lambda x: 1.0 / (1.0 + x * x), lorentzian_derivatives),
}


def test_closed_forms_agree_with_finite_differences():
    # The references are themselves checked: their first two derivatives against central
    # differences of their own values.
    h = 1e-4
    for name, (_, ref) in FUNCTIONS.items():
        f0 = ref(GRID, 0)[0]
        up, down = ref(GRID + h, 0)[0], ref(GRID - h, 0)[0]
        d1, d2 = ref(GRID, 2)[1:]
        np.testing.assert_allclose((up - down) / (2 * h), d1, rtol=1e-7, atol=1e-8, err_msg=name)
        np.testing.assert_allclose((up - 2 * f0 + down) / h ** 2, d2, rtol=1e-5, atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_nth_derivatives_forward_to_order_six(name):
    build, ref = FUNCTIONS[name]
    x = sg.var("x", (len(GRID),))
    ds = sg.nth_derivatives(build(x), x, 6)
    got = sg.function([x], ds)(GRID)
    for k, (g, e) in enumerate(zip(got, ref(GRID, 6))):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11 * math.factorial(k),
                                   err_msg=f"{name}, order {k}")


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_nth_derivative_by_repeated_grad_to_order_six(name):
    build, ref = FUNCTIONS[name]
    x = sg.var("x", ())
    d6 = sg.nth_derivative(build(x), x, 6, mode="reverse")
    run = sg.function([x], d6)
    expected = ref(GRID, 6)[6]
    for a, e in zip(GRID, expected):
        np.testing.assert_allclose(run(a), e, rtol=1e-11, atol=1e-8, err_msg=f"{name} at {a}")


def test_nth_derivative_of_zero_order_is_the_function_and_rejects_bad_n():
    x = sg.var("x", ())
    f = sg.sin(x)
    assert sg.nth_derivative(f, x, 0) is f
    with pytest.raises(ValueError):
        sg.nth_derivative(f, x, -1)
    with pytest.raises(sg.ShapeError):
        sg.nth_derivative(sg.sum(sg.var("v", (3,)) * x), sg.var("z", (2,)), 1)


def test_nth_derivative_of_an_unrelated_function_is_zero():
    x, y = sg.var("x", ()), sg.var("y", ())
    d = sg.nth_derivative(sg.exp(y), x, 3)
    assert d.eval({y: 1.0}) == 0.0


def test_deep_composition_grows_polynomially_after_cse():
    # tanh applied 8 times: the n-th derivative's graph after CSE stays near CasADi's
    # counts (33, 76, 215, 636, 1941, 5705) and far under them from n = 3 on.
    w = sg.var("w", ())
    f = w
    for _ in range(8):
        f = sg.tanh(f)
    ds = sg.nth_derivatives(f, w, 6)[1:]
    sizes = [len(Graph(cse([d]).outputs)) for d in ds]
    assert all(s <= c for s, c in zip(sizes[2:], [215, 636, 1941, 5705])), sizes
    growth = [b / a for a, b in zip(sizes, sizes[1:])]
    assert growth[-1] < 2.0, sizes   # ratios shrink: polynomial, not exponential
    # ... and the derivatives are right: tanh^8 at 0 has f' = 1, f''' = -16 (8 times -2).
    d1, d3 = sg.function([w], [ds[0], ds[2]])(0.0)
    assert d1 == 1.0 and abs(d3 + 16.0) < 1e-12


# --- Hessians and Jacobians against closed forms -------------------------------------------
def rosenbrock_hessian(a: np.ndarray) -> np.ndarray:
    n = len(a)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * a[i] ** 2 - 400 * a[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * a[i]
    return H


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_rosenbrock_hessian_is_its_closed_form(mode, rng):
    x = sg.var("x", (5,))
    f = sg.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    H = sg.hessian(f, x, mode=mode)
    assert H.shape == (5, 5)
    a = rng.uniform(-1.5, 1.5, 5)
    np.testing.assert_allclose(H.eval({x: a}), rosenbrock_hessian(a), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_softmax_jacobian_is_diag_p_minus_p_pT(mode, rng):
    x = sg.var("x", (5,))
    J = sg.jacobian(sg.softmax(x), x, mode=mode)
    a = rng.standard_normal(5)
    p = np.exp(a - a.max())
    p /= p.sum()
    np.testing.assert_allclose(J.eval({x: a}), np.diag(p) - np.outer(p, p), atol=1e-15)


@pytest.mark.parametrize("symmetric", [True, False])
def test_hessian_of_a_quadratic_form(symmetric, rng):
    A = rng.standard_normal((4, 4))
    if symmetric:
        A = A + A.T
    x = sg.var("x", (4,))
    H = sg.hessian(0.5 * (x @ (sg.const(A) @ x)), x).eval({x: rng.standard_normal(4)})
    np.testing.assert_allclose(H, (A + A.T) / 2, rtol=1e-14, atol=1e-14)
    if symmetric:
        np.testing.assert_allclose(H, A, rtol=1e-14, atol=1e-14)


def test_hessian_of_a_matrix_argument_has_shape_x_by_x(rng):
    X = sg.var("X", (2, 3))
    f = sg.sum(sg.tanh(X) ** 3) + sg.sum(X[0] * X[1])
    H = sg.hessian(f, X)
    assert H.shape == (2, 3, 2, 3)
    a = rng.standard_normal((2, 3))
    got = H.eval({X: a}).reshape(6, 6)
    # Column j of the Hessian by central differences of the gradient.
    g = sg.function([X], sg.grad(f, X))
    eps = 1e-6
    fd = np.stack([(g(a + eps * e.reshape(2, 3)) - g(a - eps * e.reshape(2, 3))).ravel() / (2 * eps)
                   for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(got, got.T, atol=1e-14)


def test_hessian_blocks_for_a_list_of_arguments(rng):
    x, y = sg.var("x", (2,)), sg.var("y", (3,))
    f = sg.sum(sg.outer(x, y) ** 2)
    blocks = sg.hessian(f, [x, y])
    a, b = rng.standard_normal(2), rng.standard_normal(3)
    vals = sg.function([x, y], [blocks[0][0], blocks[0][1], blocks[1][0], blocks[1][1]])(a, b)
    # f = |x|^2 |y|^2
    np.testing.assert_allclose(vals[0], 2 * (b @ b) * np.eye(2))
    np.testing.assert_allclose(vals[1], 4 * np.outer(a, b))
    np.testing.assert_allclose(vals[2], 4 * np.outer(b, a))
    np.testing.assert_allclose(vals[3], 2 * (a @ a) * np.eye(3))


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_jacobian_shape_and_values_for_tensor_output(mode, rng):
    x = sg.var("x", (4,))
    W = rng.standard_normal((2, 3, 4))
    out = sg.sin(sg.const(W) @ x)            # (2, 3)
    J = sg.jacobian(out, x, mode=mode)
    assert J.shape == (2, 3, 4)
    a = rng.standard_normal(4)
    expected = np.cos(W @ a)[..., None] * W
    np.testing.assert_allclose(J.eval({x: a}), expected, rtol=1e-13, atol=1e-14)


def test_jacobian_picks_the_cheaper_side():
    x = sg.var("x", (6,))
    wide = sg.sum(sg.tanh(x))                 # 1 output, 6 inputs: one reverse pass
    assert len(Graph(sg.jacobian(wide, x))) < len(Graph(sg.jacobian(wide, x, mode="forward")))
    t = sg.var("t", ())
    tall = sg.sin(t * np.arange(1.0, 7.0))    # 6 outputs, 1 input: one forward pass
    assert len(Graph(sg.jacobian(tall, t))) < len(Graph(sg.jacobian(tall, t, mode="reverse")))
    assert sg.jacobian(tall, t).shape == (6,)


def test_jacobian_needs_static_shapes():
    x = sg.var("x", (None, 2))
    with pytest.raises(sg.ShapeError, match="static shape"):
        sg.jacobian(sg.tanh(x), x)


# --- Hessian-vector products ---------------------------------------------------------------
def _mlp(rng, sizes=(6, 5, 4, 3), batch=7):
    x = sg.var("x", (batch, sizes[0]))
    labels = sg.var("labels", (batch,), "int64")
    params = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        params += [sg.param(rng.standard_normal((a, b)) / np.sqrt(a), name=f"W{k}"),
                   sg.param(0.1 * rng.standard_normal(b), name=f"b{k}")]
    h = x
    for k in range(len(sizes) - 1):
        h = h @ params[2 * k] + params[2 * k + 1]
        if k < len(sizes) - 2:
            h = sg.tanh(h)
    loss = -sg.mean(sg.log_softmax(h)[sg.arange(batch), labels])
    X = rng.standard_normal((batch, sizes[0]))
    Y = rng.integers(0, sizes[-1], batch)
    return x, labels, params, loss, X, Y


def _fd_hvp(loss, params, inputs, values, vs, eps=1e-5):
    """Central differences of the gradient along v: (g(p + eps v) - g(p - eps v)) / 2 eps."""
    g = sg.function(inputs, sg.grad(loss, params))
    start = [p.value.copy() for p in params]
    try:
        for p, s, v in zip(params, start, vs):
            p.value = s + eps * v
        up = g(*values)
        for p, s, v in zip(params, start, vs):
            p.value = s - eps * v
        down = g(*values)
    finally:
        for p, s in zip(params, start):
            p.value = s
    return [(u - d) / (2 * eps) for u, d in zip(up, down)]


def _flat(blocks):
    return np.concatenate([np.ravel(b) for b in blocks])


def _rel(a, b):
    return np.linalg.norm(_flat(a) - _flat(b)) / np.linalg.norm(_flat(b))


def test_mlp_hvp_both_methods_and_linearisation_match_finite_differences(rng):
    x, labels, params, loss, X, Y = _mlp(rng)
    vs = [rng.standard_normal(p.shape) for p in params]
    dirs = [sg.var(f"v{k}", p.shape) for k, p in enumerate(params)]
    results = {}
    for method in sg.HVP_METHODS:
        run = sg.function([x, labels, *dirs], sg.hvp(loss, params, dirs, method=method))
        results[method] = run(X, Y, *vs)
    H = sg.linearize_hvp(loss, params, inputs=[x, labels]).at(X, Y)
    results["linearised"] = H.matvec(vs)
    fd = _fd_hvp(loss, params, [x, labels], [X, Y], vs)
    for name, hv in results.items():
        assert _rel(hv, fd) < 1e-6, name
    ref = results["forward_over_reverse"]
    for name, hv in results.items():
        assert _rel(hv, ref) < 1e-12, name


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 31 - 1), method=st.sampled_from(sg.HVP_METHODS))
def test_hvp_matches_finite_differences_of_the_gradient(seed, method):
    rng = np.random.default_rng(seed)
    x = sg.var("x", (3,))
    f = sg.sum(sg.sin(x) * sg.exp(0.3 * x)) + sg.logsumexp(x * x[::-1])
    a, v = rng.uniform(-1, 1, 3), rng.standard_normal(3)
    hv = sg.hvp(f, x, v, method=method).eval({x: a})
    g = sg.function([x], sg.grad(f, x))
    eps = 1e-5
    fd = (g(a + eps * v) - g(a - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("method", sg.HVP_METHODS)
def test_hvp_never_differentiates_the_graph_of_v(method, rng):
    # v = grad f depends on x; H v must treat it as a fixed vector (no third derivatives).
    x = sg.var("x", (4,))
    f = sg.sum(sg.exp(x) * sg.sin(x[::-1]))
    g = sg.grad(f, x)
    hv = sg.hvp(f, x, g, method=method)
    a = rng.uniform(-1, 1, 4)
    H, gv = sg.function([x], [sg.hessian(f, x), g])(a)
    np.testing.assert_allclose(hv.eval({x: a}), H @ gv, rtol=1e-12)


def test_hvp_takes_arrays_and_checks_them():
    x = sg.var("x", (3,))
    f = sg.sum(x ** 3)
    np.testing.assert_allclose(sg.hvp(f, x, np.array([1.0, 0.0, 2.0])).eval({x: np.ones(3)}),
                               [6.0, 0.0, 12.0])
    with pytest.raises(sg.ShapeError):
        sg.hvp(f, x, np.ones(4))
    with pytest.raises(ValueError, match="method"):
        sg.hvp(f, x, np.ones(3), method="sideways")
    with pytest.raises(ValueError, match="directions"):
        sg.hvp(f, [x], [np.ones(3), np.ones(3)])


def test_hvp_graph_passes_check_grads():
    # The HVP graph is an ordinary graph: its own derivatives check out numerically.
    x = sg.var("x", (3,))
    f = sg.sum(sg.tanh(x) * x)
    hv = sg.hvp(f, x, np.array([0.5, -1.0, 2.0]))
    check_grads(hv, [x], [np.array([0.1, -0.4, 0.9])], order=2)


# --- the linearised operator ----------------------------------------------------------------
def test_operator_shape_flat_and_block_forms_and_dense_hessian(rng):
    x, labels, params, loss, X, Y = _mlp(rng, sizes=(3, 4, 2), batch=5)
    H = sg.linearize_hvp(loss, params, inputs=[x, labels])
    n = sum(p.value.size for p in params)
    assert H.shape == (n, n)
    with pytest.raises(RuntimeError, match="at"):
        H.matvec(np.ones(n))
    H.at(X, Y)
    v = rng.standard_normal(n)
    flat = H.matvec(v)
    blocks = H.matvec(H.unflatten(v))
    np.testing.assert_array_equal(flat, _flat(blocks))
    np.testing.assert_array_equal(H @ v, flat)
    dense = H.to_dense()
    np.testing.assert_allclose(dense, dense.T, atol=1e-12)
    np.testing.assert_allclose(dense @ v, flat, atol=1e-12)
    # value and gradient at the point come for free
    loss_value, *grads = sg.function([x, labels], [loss, *sg.grad(loss, params)])(X, Y)
    np.testing.assert_allclose(H.value, loss_value)
    np.testing.assert_allclose(H.grad, _flat(grads))
    with pytest.raises(sg.ShapeError):
        H.matvec(np.ones(n + 1))


def test_operator_moves_only_when_at_is_called(rng):
    x = sg.var("x", (3,))
    w = sg.param(np.array([0.5, -0.2, 1.0]), name="w")
    f = sg.sum(sg.exp(w * x))
    H = sg.linearize_hvp(f, w, inputs=[x]).at(np.ones(3))
    v = np.array([1.0, 2.0, 3.0])
    first = H.matvec(v)
    np.testing.assert_allclose(first, np.exp(w.value) * v)
    w.value = np.zeros(3)
    np.testing.assert_array_equal(H.matvec(v), first)          # still the old point
    np.testing.assert_allclose(H.at(np.ones(3)).matvec(v), v)  # the new point: exp(0) = 1
    np.testing.assert_allclose(H.at(2 * np.ones(3)).matvec(v), 4 * v)


def test_operator_with_respect_to_an_input(rng):
    x = sg.var("x", (4,))
    f = sg.sum(sg.cos(x)) + 0.5 * sg.sum(x * x)
    H = sg.linearize_hvp(f, x, inputs=[x], method="reverse_over_reverse")
    a, v = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(H.at(a).matvec(v), (1 - np.cos(a)) * v, rtol=1e-13)


def test_conjugate_gradients_through_the_operator_solve_a_newton_step(rng):
    # Newton step of a strictly convex function: solve H d = -g by CG using matvecs only.
    x = sg.var("x", (6,))
    A = rng.standard_normal((6, 6))
    A = A @ A.T + 6 * np.eye(6)
    f = 0.5 * (x @ (sg.const(A) @ x)) + sg.sum(sg.softplus(x))
    H = sg.linearize_hvp(f, x, inputs=[x])
    a = rng.standard_normal(6)
    H.at(a)
    b = -H.grad
    d, r = np.zeros(6), b.copy()
    p = r.copy()
    for _ in range(6):
        Hp = H.matvec(p)
        alpha = (r @ r) / (p @ Hp)
        d, r_new = d + alpha * p, r - alpha * Hp
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    s = 1 / (1 + np.exp(-a))
    exact = np.linalg.solve(A + np.diag(s * (1 - s)), b)
    np.testing.assert_allclose(d, exact, rtol=1e-8, atol=1e-10)
    assert H.matvecs == 6


def test_operator_float32_keeps_float32(rng):
    x = sg.var("x", (3,), "float32")
    w = sg.param(np.ones(3, np.float32), name="w")
    H = sg.linearize_hvp(sg.sum(sg.tanh(w * x) ** 2), w, inputs=[x])
    out = H.at(np.arange(3, dtype=np.float32)).matvec(np.ones(3, np.float32))
    assert out.dtype == np.float32 and H.dtype == np.float32


# --- sg.check_grads(f, args, order=k) -------------------------------------------------------
def test_check_grads_takes_a_function_and_arrays():
    sg.check_grads(lambda x, y: sg.sum(sg.tanh(x) * y ** 2),
                   [np.array([0.1, 0.5]), np.array([1.0, -2.0])], order=3)


def test_check_grads_catches_a_wrong_derivative():
    # stop_gradient hides half the derivative of x * x: the check must see it.
    with pytest.raises(AssertionError, match="order 1"):
        sg.check_grads(lambda x: sg.sum(sg.stop_gradient(x) * x), [np.array([0.3, -1.2])],
                       order=1)


def test_operator_matvecs_leave_their_inputs_and_the_point_unchanged(rng):
    # The runtime may write in place; neither v nor the kept residuals may be overwritten.
    x, labels, params, loss, X, Y = _mlp(rng)
    H = sg.linearize_hvp(loss, params, inputs=[x, labels]).at(X, Y)
    v = rng.standard_normal(H.shape[0])
    v0, X0 = v.copy(), X.copy()
    first = H.matvec(v)
    for _ in range(3):
        np.testing.assert_array_equal(H.matvec(v), first)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(X, X0)


@pytest.mark.parametrize("method", sg.HVP_METHODS)
def test_hvp_block_of_an_unused_argument_is_zero(method):
    x, y = sg.var("x", (2,)), sg.var("y", (3,))
    hx, hy = sg.hvp(sg.sum(x ** 3), [x, y], [np.ones(2), np.ones(3)], method=method)
    vx, vy = sg.function([x, y], [hx, hy])(np.array([1.0, 2.0]), np.zeros(3))
    np.testing.assert_array_equal(vx, [6.0, 12.0])
    np.testing.assert_array_equal(vy, np.zeros(3))


def test_operator_drops_into_scipy_krylov_solvers(rng):
    # Optional: SciPy is not a dependency, but the operator has the shape it expects.
    spla = pytest.importorskip("scipy.sparse.linalg")
    x = sg.var("x", (8,))
    f = sg.sum(sg.softplus(x) * x) + 0.5 * sg.sum(x * x)
    H = sg.linearize_hvp(f, x, inputs=[x]).at(rng.standard_normal(8))
    op = spla.LinearOperator(H.shape, matvec=H.matvec, dtype=H.dtype)
    dense = H.to_dense()
    top = spla.eigsh(op, k=1, which="LA", return_eigenvectors=False)
    np.testing.assert_allclose(top[0], np.linalg.eigvalsh(dense)[-1], rtol=1e-8)
    sol, info = spla.cg(op, H.grad, rtol=1e-12, atol=0.0)
    assert info == 0
    np.testing.assert_allclose(sol, np.linalg.solve(dense, H.grad), rtol=1e-7, atol=1e-9)
