"""sg.linalg against NumPy (float32 and float64, several shapes), the closed forms of
d det and d inv, the conventions (norm at 0, eigh's degenerate case, NumPy's named
tuples), the compositions (lstsq, matrix_power, multi_dot) and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph import linalg as la
from symgraph.testing import check_grads


def _run(build, *arrays):
    xs = [sg.var(f"x{k}", a.shape, a.dtype) for k, a in enumerate(arrays)]
    out = build(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    values = sg.function(xs, outs)(*arrays)
    return outs, values


def _dominant(rng, shape, dtype):
    return (rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def _spd(rng, shape, dtype):
    a = rng.standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


_TOL = {np.float32: 2e-4, np.float64: 1e-10}
_SQUARE = [(3, 3), (2, 4, 4), (2, 1, 3, 3)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", _SQUARE, ids=str)
@pytest.mark.parametrize("name", ["inv", "det", "cholesky", "eigvalsh", "svdvals", "pinv",
                                  "matrix_rank"])
def test_unary_values_match_numpy(name, shape, dtype, rng):
    a = _spd(rng, shape, dtype)
    (node,), (value,) = _run(getattr(la, name), a)
    expected = getattr(np.linalg, name)(a)
    assert value.dtype == node.dtype == np.asarray(expected).dtype
    assert value.shape == node.shape == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=_TOL[dtype], atol=_TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 5, 3)], ids=str)
def test_decompositions_match_numpy(shape, dtype, rng):
    a = rng.standard_normal(shape).astype(dtype)
    tol = _TOL[dtype]
    outs, values = _run(lambda x: la.svd(x, full_matrices=False), a)
    for got, want in zip(values, np.linalg.svd(a, full_matrices=False)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    assert [v.dtype for v in values] == [np.dtype(dtype)] * 3
    outs, values = _run(la.qr, a)
    for got, want in zip(values, np.linalg.qr(a)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    sym = a @ np.swapaxes(a, -1, -2)
    outs, values = _run(la.eigh, sym)
    for got, want in zip(values, np.linalg.eigh(sym)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solves_and_slogdet_match_numpy(dtype, rng):
    a = _dominant(rng, (2, 3, 3), dtype)
    for b in [rng.standard_normal(3).astype(dtype), rng.standard_normal((2, 3, 4)).astype(dtype)]:
        (node,), (value,) = _run(la.solve, a, b)
        np.testing.assert_allclose(value, np.linalg.solve(a, b), rtol=_TOL[dtype])
        assert value.dtype == node.dtype == dtype
    a = a[:, [1, 0, 2]]          # negative determinants
    (sign, logdet), values = _run(la.slogdet, a)
    expected = np.linalg.slogdet(a)
    np.testing.assert_array_equal(values[0], expected.sign)
    np.testing.assert_allclose(values[1], expected.logabsdet, rtol=_TOL[dtype])
    (node,), (value,) = _run(la.det, a)
    np.testing.assert_allclose(value, np.linalg.det(a), rtol=_TOL[dtype])
    b = rng.standard_normal((3, 2)).astype(dtype)
    (node,), (value,) = _run(lambda x, y: la.solve_triangular(x, y, lower=True), a[0], b)
    np.testing.assert_allclose(value, np.linalg.solve(np.tril(a[0]), b), rtol=_TOL[dtype])


def test_solve_triangular_matches_scipy(rng):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a, b = _dominant(rng, (4, 4), np.float64), rng.standard_normal((4, 2))
    for kw in [dict(lower=True), dict(lower=False, trans="T"), dict(lower=True, unit_diagonal=True),
               dict(trans=1)]:
        (node,), (value,) = _run(lambda x, y: la.solve_triangular(x, y, **kw), a, b)
        np.testing.assert_allclose(value, scipy_linalg.solve_triangular(a, b, **kw), rtol=1e-10)


# --- norms ---------------------------------------------------------------------------------
_VECTOR_ORDS = [None, 1, 2, 3, 0.5, -1, -2.5, 0, np.inf, -np.inf]
_MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ord", _VECTOR_ORDS, ids=str)
def test_vector_norms_match_numpy(ord, dtype, rng):
    x = rng.standard_normal((3, 4)).astype(dtype)
    for axis, keepdims in [(0, False), (1, True), (-1, False)]:
        (node,), (value,) = _run(lambda v: la.norm(v, ord, axis, keepdims), x)
        expected = np.linalg.norm(x, ord, axis, keepdims)
        assert value.dtype == node.dtype == expected.dtype
        np.testing.assert_allclose(value, expected, rtol=_TOL[dtype])
    (node,), (value,) = _run(lambda v: la.norm(v, ord), x[0])
    np.testing.assert_allclose(value, np.linalg.norm(x[0], ord), rtol=_TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ord", _MATRIX_ORDS, ids=str)
def test_matrix_norms_match_numpy(ord, dtype, rng):
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    for axis, keepdims in [((1, 2), False), ((2, 0), True), ((0, 1), False)]:
        (node,), (value,) = _run(lambda v: la.norm(v, ord, axis, keepdims), x)
        expected = np.linalg.norm(x, ord, axis, keepdims)
        np.testing.assert_allclose(value, expected, rtol=_TOL[dtype])
        assert value.shape == expected.shape
    (node,), (value,) = _run(lambda v: la.norm(v, ord), x[0])
    np.testing.assert_allclose(value, np.linalg.norm(x[0], ord), rtol=_TOL[dtype])


@pytest.mark.parametrize("ord", [None, 1, 3, 0.5, -1.5, np.inf, -np.inf, "fro", "nuc", 2])
def test_norm_derivatives_to_second_order(ord, rng):
    x = rng.standard_normal((3, 4))
    check_grads(lambda v: la.norm(v, ord) if isinstance(ord, str) or ord in (2,)
                else la.norm(v, ord, axis=1), [x], order=2, optimize=False)


@pytest.mark.parametrize("ord", [None, 1, 2, 3, 0.5, -1.5, np.inf, -np.inf])
def test_norm_at_zero_has_the_finite_subgradient_zero(ord):
    x = sg.var("x", (3,))
    g = sg.grad(la.norm(x, ord), x)
    hess = sg.hvp(la.norm(x, ord) if ord != 2 and ord is not None else la.norm(x) ** 2, x,
                  np.ones(3))
    value, h = sg.function([x], [g, hess])(np.zeros(3))
    np.testing.assert_array_equal(value, np.zeros(3))
    assert np.all(np.isfinite(h))


def test_norm_subgradient_is_zero_on_a_zero_row_only(rng):
    x = sg.var("x", (2, 3))
    g = sg.grad(la.norm(x, axis=1).sum(), x)
    a = np.vstack([np.zeros(3), [3.0, 4.0, 0.0]])
    np.testing.assert_allclose(sg.function([x], g)(a), [[0, 0, 0], [0.6, 0.8, 0]])


# --- closed forms ----------------------------------------------------------------------------
def test_d_det_is_det_times_trace_of_inverse_times_da(rng):
    # d det(A) = det(A) tr(A^-1 dA), and the gradient is det(A) A^-T
    a, da = _dominant(rng, (4, 4), np.float64), rng.standard_normal((4, 4))
    x = sg.var("A", (4, 4))
    d = la.det(x)
    tangent, gradient = sg.function([x], [sg.jvp(d, [x], [da]), sg.grad(d, x)])(a)
    det, inv = np.linalg.det(a), np.linalg.inv(a)
    np.testing.assert_allclose(tangent, det * np.trace(inv @ da), rtol=1e-12)
    np.testing.assert_allclose(gradient, det * inv.T, rtol=1e-12)


def test_d_inv_is_minus_inv_da_inv(rng):
    a, da, g = _dominant(rng, (3, 3), np.float64), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    x = sg.var("A", (3, 3))
    y = la.inv(x)
    tangent, cotangent = sg.function([x], [sg.jvp(y, [x], [da]), sg.vjp(y, x, g)])(a)
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(tangent, -inv @ da @ inv, rtol=1e-12)
    np.testing.assert_allclose(cotangent, -inv.T @ g @ inv.T, rtol=1e-12)


def test_eigenvalue_derivative_is_diag_of_vt_da_v(rng):
    s = rng.standard_normal((3, 3))
    a = s + s.T + np.diag([0.0, 4.0, 8.0])
    da = rng.standard_normal((3, 3))
    da = da + da.T
    x = sg.var("A", (3, 3))
    tangent = sg.function([x], sg.jvp(la.eigvalsh(x), [x], [da]))(a)
    v = np.linalg.eigh(a).eigenvectors
    np.testing.assert_allclose(tangent, np.diag(v.T @ da @ v), rtol=1e-10)


def test_logdet_gradient_of_spd_matrix_through_cholesky(rng):
    # log det A = 2 sum log diag(L): its gradient on the lower triangle is 2 A^-1 off the
    # diagonal and A^-1 on it (NumPy's cholesky reads only the lower triangle)
    a = _spd(rng, (3, 3), np.float64)
    x = sg.var("A", (3, 3))
    logdet = 2 * sg.sum(sg.log(sg.einsum("ii->i", la.cholesky(x))))
    g = sg.function([x], sg.grad(logdet, x))(a)
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(g, np.tril(2 * inv) - np.diag(np.diag(inv)), rtol=1e-10)


def test_eigh_degenerate_eigenvalues_keep_finite_derivatives():
    # a doubly degenerate spectrum: the eigenvalue derivatives stay right (the sum of the
    # degenerate pair), and the projector onto the eigenspace differentiates finitely
    x = sg.var("A", (3, 3))
    w, v = la.eigh(x)
    a = np.diag([1.0, 1.0, 3.0])
    gw = sg.function([x], sg.grad(w.sum(), x))(a)
    np.testing.assert_allclose(gw, np.eye(3), atol=1e-12)
    gv = sg.function([x], sg.grad(sg.sum(v[:, 2:] @ v[:, 2:].T * np.arange(9.0).reshape(3, 3)), x))(a)
    assert np.all(np.isfinite(gv))


# --- compositions ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstsq_matches_numpy(dtype, rng):
    a = rng.standard_normal((6, 3)).astype(dtype)
    for b in [rng.standard_normal(6).astype(dtype), rng.standard_normal((6, 2)).astype(dtype)]:
        outs, values = _run(la.lstsq, a, b)
        expected = np.linalg.lstsq(a, b)
        for got, want in zip(values, expected):
            np.testing.assert_allclose(got, want, rtol=50 * _TOL[dtype], atol=50 * _TOL[dtype])
    x = sg.var("a", (6, 3))
    check_grads(lambda m, y: la.lstsq(m, y).x, [rng.standard_normal((6, 3)), rng.standard_normal(6)],
                order=2, optimize=False)


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5])
def test_matrix_power_matches_numpy(n, rng):
    a = _dominant(rng, (2, 3, 3), np.float64) / 3
    (node,), (value,) = _run(lambda x: la.matrix_power(x, n), a)
    np.testing.assert_allclose(value, np.linalg.matrix_power(a, n), rtol=1e-10)
    if n:
        check_grads(lambda x: la.matrix_power(x, n), [a[0]], order=2, optimize=False)


def test_multi_dot_matches_numpy_and_picks_the_cheap_order(rng):
    arrays = [rng.standard_normal(s) for s in [(10,), (10, 2), (2, 30), (30, 4)]]
    (node,), (value,) = _run(lambda *xs: la.multi_dot(xs), *arrays)
    np.testing.assert_allclose(value, np.linalg.multi_dot(arrays), rtol=1e-10)
    arrays = [rng.standard_normal(s) for s in [(40, 2), (2, 30), (30, 3)]]
    (node,), (value,) = _run(lambda *xs: la.multi_dot(xs), *arrays)
    np.testing.assert_allclose(value, np.linalg.multi_dot(arrays), rtol=1e-10)
    # (A B) C costs 40*2*30 + 40*30*3 = 6000 flops; A (B C) costs 2*30*3 + 40*2*3 = 420
    assert node.inputs[0].op == "var" and node.inputs[1].op == "matmul"


def test_named_tuples_have_numpys_fields(rng):
    a = sg.var("a", (3, 3))
    assert la.eigh(a).eigenvalues.op == "eigh_values"
    assert la.svd(a).Vh.op == "svd_vh"
    assert la.qr(a).R.op == "qr_r"
    assert la.slogdet(a).logabsdet.op == "logabsdet"
    assert la.lstsq(sg.var("m", (4, 3)), sg.var("b", (4,))).rank.dtype == np.int64


# --- errors ----------------------------------------------------------------------------------
def test_errors_name_the_function_shapes_and_line():
    with pytest.raises(sg.ShapeError, match=r"inv: needs square matrices, got shape \(2, 3\).*test_linalg.py"):
        la.inv(sg.var("a", (2, 3)))
    with pytest.raises(sg.ShapeError, match=r"solve: a of shape \(3, 3\) and b of shape \(2, 2\)"):
        la.solve(sg.var("a", (3, 3)), sg.var("b", (2, 2)))
    with pytest.raises(sg.ShapeError, match="full_matrices=False"):
        la.svd(sg.var("a", (4, 3)))
    with pytest.raises(sg.ShapeError, match="invalid ord 3 for a matrix"):
        la.norm(sg.var("a", (4, 3)), 3)
    a = sg.var("w", (2, 3))
    with pytest.raises(sg.ShapeError, match="qr: derivatives need a tall or square matrix"):
        sg.grad(la.qr(a).R.sum(), a)


def test_namespaces_load_lazily():
    import subprocess
    import sys
    code = ("import sys, symgraph as sg; assert 'symgraph.linalg' not in sys.modules; "
            "assert 'scipy' not in sys.modules; sg.linalg.det; sg.fft.fft; sg.special.erf; "
            "assert 'scipy' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond_matches_numpy_and_differentiates(p, rng):
    a = _dominant(rng, (3, 3), np.float64)
    (node,), (value,) = _run(lambda x: la.cond(x, p), a)
    np.testing.assert_allclose(value, np.linalg.cond(a, p), rtol=1e-10)
    check_grads(lambda x: la.cond(x, p), [a], order=2, optimize=False)


def test_tensorinv_and_tensorsolve_match_numpy(rng):
    t = (0.3 * rng.standard_normal((24, 24)) + 3 * np.eye(24)).reshape(4, 6, 8, 3)
    (node,), (value,) = _run(la.tensorinv, t)
    np.testing.assert_allclose(value, np.linalg.tensorinv(t), rtol=1e-10)
    a = (rng.standard_normal((6, 6)) + 3 * np.eye(6)).reshape(2, 3, 2, 3)
    b = rng.standard_normal((2, 3))
    for axes in [None, (0,)]:
        (node,), (value,) = _run(lambda x, y: la.tensorsolve(x, y, axes), a, b)
        np.testing.assert_allclose(value, np.linalg.tensorsolve(a, b, axes), rtol=1e-10)
    check_grads(lambda x, y: la.tensorsolve(x, y), [a, b], order=2, optimize=False)


@pytest.mark.skipif("eig_values" not in sg.ops.REGISTRY, reason="eig comes with complex support")
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_eig_values_match_numpy_always_complex(dtype, rng):
    a = rng.standard_normal((2, 4, 4))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal((2, 4, 4))
    a = a.astype(dtype)
    (w, v), (wv, vv) = _run(la.eig, a)
    expected = np.linalg.eig(a)
    assert w.dtype.kind == "c" and wv.dtype == w.dtype and vv.dtype == v.dtype
    tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-10
    np.testing.assert_allclose(wv, expected.eigenvalues, rtol=tol, atol=tol)
    np.testing.assert_allclose(vv, expected.eigenvectors, rtol=tol, atol=tol)


@pytest.mark.skipif("real" not in sg.ops.REGISTRY, reason="complex parts come with np-elementwise")
def test_eig_derivatives_match_finite_differences_of_phase_free_functions(rng):
    a = rng.standard_normal((3, 3)) + np.diag([0.0, 3.0, 6.0])
    check_grads(lambda m: [sg.abs(la.eig(m).eigenvalues), sg.abs(la.eig(m).eigenvectors)], [a],
                order=2)
    # the trace is the sum of the eigenvalues: its gradient is the identity
    x = sg.var("a", (3, 3))
    g = sg.function([x], sg.grad(sg.real(sg.sum(la.eigvals(x))), x))(a)
    np.testing.assert_allclose(g, np.eye(3), atol=1e-10)


@pytest.mark.skipif("real" not in sg.ops.REGISTRY, reason="complex parts come with np-elementwise")
def test_norm_of_complex_vectors_follows_the_complex_convention(rng):
    # grad |z| = conj(z)/|z| (JAX's convention): for ||z||_2 that is conj(z)/||z||
    z = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    x = sg.var("z", (4,), "complex128")
    g = sg.function([x], sg.grad(la.norm(x), x))(z)
    np.testing.assert_allclose(g, np.conj(z) / np.linalg.norm(z), rtol=1e-12)
    for ord in [1, 3, np.inf]:
        check_grads(lambda a: la.norm(a, ord), [z], order=2)
