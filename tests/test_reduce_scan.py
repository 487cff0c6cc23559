"""Reductions, statistics and scans against NumPy: values on several shapes and axes in
float32 and float64, derivatives against finite differences to second order (the
compositions: variance, std, average, cumprod, diff, nansum, nanmean), and the max/min
tie convention."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.ops import diff
from symgraph.testing import check_grads

SHAPES_AXES = [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), 1),
               ((3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), 1), ((2, 3, 4), None)]
SCAN_SHAPES_AXES = [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), 1),
                    ((2, 3, 4), -1), ((2, 3, 4), 1)]

# name -> (symgraph, NumPy); each called as f(x, axis=..., keepdims=...)
REDUCERS = {
    "sum": (sg.sum, np.sum), "mean": (sg.mean, np.mean), "prod": (sg.prod, np.prod),
    "max": (sg.max, np.max), "min": (sg.min, np.min), "ptp": (sg.ptp, np.ptp),
    "variance": (sg.variance, np.var), "std": (sg.std, np.std),
    "variance-ddof1": (lambda x, **k: sg.variance(x, ddof=1, **k), lambda x, **k: np.var(x, ddof=1, **k)),
    "std-ddof1": (lambda x, **k: sg.std(x, ddof=1, **k), lambda x, **k: np.std(x, ddof=1, **k)),
    "average": (sg.average, np.average),
    "nansum": (sg.nansum, np.nansum), "nanmean": (sg.nanmean, np.nanmean),
    "nanprod": (sg.nanprod, np.nanprod), "nanmax": (sg.nanmax, np.nanmax),
    "nanmin": (sg.nanmin, np.nanmin), "nanvar": (sg.nanvar, np.nanvar),
    "nanstd": (sg.nanstd, np.nanstd),
    "nanvar-ddof1": (lambda x, **k: sg.nanvar(x, ddof=1, **k), lambda x, **k: np.nanvar(x, ddof=1, **k)),
    "count_nonzero": (sg.count_nonzero, np.count_nonzero),
    "all": (sg.all, np.all), "any": (sg.any, np.any),
}
SCANS = {
    "cumsum": (sg.cumsum, np.cumsum), "cumprod": (sg.cumprod, np.cumprod),
    "nancumsum": (sg.nancumsum, np.nancumsum), "nancumprod": (sg.nancumprod, np.nancumprod),
    "diff": (lambda x, axis: diff(x, axis=-1 if axis is None else axis),
             lambda x, axis: np.diff(x, axis=-1 if axis is None else axis)),
    "diff2": (lambda x, axis: diff(x, 2, axis=-1 if axis is None else axis),
              lambda x, axis: np.diff(x, 2, axis=-1 if axis is None else axis)),
}
DIFFERENTIABLE = ["sum", "mean", "prod", "ptp", "variance", "std", "variance-ddof1", "std-ddof1",
                  "average", "nansum", "nanmean", "nanprod", "nanmax", "nanmin", "nanvar", "nanstd"]


def _draw(shape, dtype, seed=0, zeros=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    if zeros:
        x.reshape(-1)[::3] = 0.0
    return x.astype(dtype)


def _tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCERS))
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, shape, axis, dtype, keepdims):
    ours, theirs = REDUCERS[name]
    if name == "average" and isinstance(axis, tuple):
        pass  # NumPy's average takes tuples of axes too
    x = _draw(shape, dtype, zeros=name in ("count_nonzero", "all", "any", "prod"))
    if name.startswith("nan"):
        x.reshape(-1)[1::5] = np.nan
    v = sg.var("x", shape, dtype)
    node = ours(v, axis=axis, keepdims=keepdims)
    got = sg.function([v], node)(x)
    want = np.asarray(theirs(x, axis=axis, keepdims=keepdims))
    assert got.shape == want.shape and node.shape == want.shape
    assert got.dtype == want.dtype or (name == "count_nonzero" and got.dtype.kind == "i"), \
        (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, **_tol(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", SCAN_SHAPES_AXES, ids=str)
@pytest.mark.parametrize("name", sorted(SCANS))
def test_scans_match_numpy(name, shape, axis, dtype):
    ours, theirs = SCANS[name]
    x = _draw(shape, dtype, zeros=name == "cumprod")
    if name.startswith("nan"):
        x.reshape(-1)[1::5] = np.nan
    v = sg.var("x", shape, dtype)
    node = ours(v, axis=axis)
    got = sg.function([v], node)(x)
    want = theirs(x, axis=axis)
    assert got.shape == want.shape and got.dtype == want.dtype == node.dtype
    np.testing.assert_allclose(got, want, **_tol(dtype))


@pytest.mark.parametrize("shape,axis", [((4,), None), ((3, 4), 1), ((2, 3, 2), (0, 2)),
                                        ((3, 4), None)], ids=str)
@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_reduction_derivatives_match_finite_differences(name, shape, axis):
    ours, _ = REDUCERS[name]
    x = _draw(shape, np.float64, seed=3)
    v = sg.var("x", shape)
    check_grads(ours(v, axis=axis), [v], [x], order=2, optimize=False)
    check_grads(ours(v, axis=axis, keepdims=True), [v], [x], order=1, optimize=True)


@pytest.mark.parametrize("name", sorted(SCANS))
@pytest.mark.parametrize("shape,axis", [((5,), 0), ((3, 4), 1), ((3, 4), 0)], ids=str)
def test_scan_derivatives_match_finite_differences(name, shape, axis):
    ours, _ = SCANS[name]
    x = _draw(shape, np.float64, seed=4)
    v = sg.var("x", shape)
    check_grads(ours(v, axis=axis), [v], [x], order=2, optimize=False)
    check_grads(ours(v, axis=axis), [v], [x], order=1, optimize=True)


@pytest.mark.parametrize("build", [lambda v: sg.prod(v, axis=1), lambda v: sg.prod(v),
                                   lambda v: sg.cumprod(v, axis=1)], ids=["prod", "prod-all", "cumprod"])
def test_products_differentiate_exactly_with_zeros(build):
    # Rows with no zero, one zero and two zeros: d prod / dx_i is the product of the
    # others (nonzero where x_i is the only zero), which y / x_i would make NaN.
    x = np.array([[1.5, -2.0, 0.5], [0.0, 3.0, -1.0], [0.0, 2.0, 0.0]])
    v = sg.var("x", (3, 3))
    check_grads(build(v), [v], [x], order=3, optimize=False)
    check_grads(build(v), [v], [x], order=2, optimize=True)
    g = sg.function([v], sg.grad(sg.prod(v, axis=1).sum(), v))(x)
    np.testing.assert_array_equal(g, [[-1.0, 0.75, -3.0], [-3.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_average_with_weights_along_an_axis_and_returned():
    x = _draw((3, 4), np.float64)
    w = np.array([0.5, 1.0, 2.0, 0.25])
    v = sg.var("x", (3, 4))
    avg, scl = sg.average(v, axis=1, weights=w, returned=True)
    got = sg.function([v], [avg, scl])(x)
    want = np.average(x, axis=1, weights=w, returned=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    wv = sg.var("w", (4,))
    check_grads(sg.average(v, axis=1, weights=wv), [v, wv], [x, w], order=2, optimize=False)
    full = np.abs(_draw((3, 4), np.float64, seed=9))
    np.testing.assert_allclose(sg.average(v, weights=full).eval({v: x}),
                               np.average(x, weights=full), rtol=1e-12)
    with pytest.raises(sg.ShapeError, match="average"):
        sg.average(v, weights=w)


def test_variance_of_unknown_sizes_and_correction():
    x = _draw((5, 3), np.float64)
    v = sg.var("x", (None, 3))
    np.testing.assert_allclose(sg.variance(v, axis=0, correction=1).eval({v: x}),
                               np.var(x, axis=0, ddof=1), rtol=1e-12)
    check_grads(sg.std(v, axis=0), [v], [x], order=2, optimize=False)


def test_integer_inputs_give_numpy_dtypes():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    v = sg.var("x", (3, 4), "int32")
    for ours, theirs in [(sg.sum, np.sum), (sg.prod, np.prod), (sg.variance, np.var),
                         (sg.cumsum, np.cumsum), (sg.cumprod, np.cumprod), (sg.mean, np.mean)]:
        node = ours(v, axis=1)
        got = sg.function([v], node)(x)
        want = theirs(x, axis=1)
        assert node.dtype == got.dtype == want.dtype, ours
        np.testing.assert_allclose(got, want)


def test_sum_and_prod_take_numpy_dtype():
    x = _draw((3, 4), np.float32)
    v = sg.var("x", (3, 4), "float32")
    node = sg.sum(v, axis=0, dtype="float64")
    assert node.dtype == np.float64
    np.testing.assert_allclose(node.eval({v: x}), np.sum(x, axis=0, dtype=np.float64), rtol=1e-12)
    assert v.prod(dtype="float64").dtype == np.float64


def test_max_and_min_share_the_derivative_among_ties():
    # The documented convention (docs/higher-order.md): tied maxima share the cotangent
    # equally, the average of the one-sided derivatives that finite differences see.
    x = np.array([[1.0, 3.0, 3.0, -2.0], [0.5, 0.5, 0.5, 0.5]])
    v = sg.var("x", (2, 4))
    g = sg.function([v], sg.grad(sg.max(v, axis=1).sum(), v))(x)
    np.testing.assert_array_equal(g, [[0, 0.5, 0.5, 0], [0.25, 0.25, 0.25, 0.25]])
    g = sg.function([v], sg.grad(sg.min(v), v))(x)
    np.testing.assert_array_equal(g, [[0, 0, 0, 1.0], [0, 0, 0, 0]])


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_elementwise_pick_shares_the_derivative_at_ties_as_central_differences_do(name):
    # Regression: maximum(a, b) used to give all of the derivative to a at a == b. The
    # central difference there measures 1/2 for each input, as JAX, autograd and PyTorch
    # give; away from ties the winner takes all, and a NaN of fmax/fmin takes nothing.
    f = getattr(sg, name)
    a0 = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    b0 = np.array([1.0, 3.0, 2.0, 4.0, 0.5])
    w = np.array([1.0, 2.0, 3.0, 5.0, 7.0])
    a, b = sg.var("a", (5,)), sg.var("b", (5,))
    out = sg.sum(f(a, b) * w)
    ga, gb = sg.function([a, b], sg.grad(out, [a, b]))(a0, b0)
    ta = sg.function([a, b], sg.jvp(f(a, b), [a, b], [np.ones(5), None]))
    npf, h = getattr(np, name), 1e-6
    fd_a = (npf(a0 + h, b0) - npf(a0 - h, b0)) / (2 * h) * w
    fd_b = (npf(a0, b0 + h) - npf(a0, b0 - h)) / (2 * h) * w
    finite = slice(0, 4)
    np.testing.assert_allclose(ga[finite], fd_a[finite], rtol=1e-6)
    np.testing.assert_allclose(gb[finite], fd_b[finite], rtol=1e-6)
    np.testing.assert_allclose(ga[:4] + gb[:4], w[:4])     # the shares add up at a tie
    np.testing.assert_allclose(ta(a0, b0)[:4], fd_a[:4] / w[:4], rtol=1e-6)
    if name.startswith("f"):                  # fmax(nan, b) is b: all of it to b
        assert ga[4] == 0 and gb[4] == w[4]


def test_argmax_takes_the_first_of_ties_and_has_no_derivative():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    v = sg.var("x", (2, 3))
    np.testing.assert_array_equal(v.argmax(axis=1).eval({v: x}), [1, 0])
    assert v.argmax().eval({v: x}) == 1
    with pytest.raises(sg.DisconnectedError):
        sg.vjp(sg.cast(v.argmax(axis=1), "float64"), v, np.ones(2), disconnected="raise")


def test_cumprod_of_unknown_size_is_a_clear_error():
    v = sg.var("x", (None,))
    with pytest.raises(sg.ShapeError, match="cumprod: the size of axis 0"):
        sg.cumprod(v)


def test_diff_with_prepend_and_append():
    x = _draw((3, 4), np.float64)
    v = sg.var("x", (3, 4))
    got = diff(v, axis=1, prepend=0.0, append=np.ones((3, 1))).eval({v: x})
    np.testing.assert_allclose(got, np.diff(x, axis=1, prepend=0.0, append=np.ones((3, 1))))
    assert diff(v, 0).eval({v: x}).shape == (3, 4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", [((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 0),
                                        ((3, 4), -1), ((2, 3, 4), 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_and_argmin_match_numpy(shape, axis, dtype, keepdims):
    x = np.round(_draw(shape, dtype, seed=6), 1)     # rounding makes some ties
    v = sg.var("x", shape, dtype)
    for ours, theirs in [(sg.argmax, np.argmax), (sg.argmin, np.argmin)]:
        node = ours(v, axis=axis, keepdims=keepdims)
        got = sg.function([v], node)(x)
        want = theirs(x, axis=axis, keepdims=keepdims)
        assert node.shape == want.shape and got.dtype == want.dtype == node.dtype
        np.testing.assert_array_equal(got, want)


def test_nan_reductions_send_no_derivative_to_the_nans():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, 2.0, 4.0]])
    v = sg.var("x", (2, 3))
    g_sum = sg.function([v], sg.grad(sg.nansum(v), v))(x)
    np.testing.assert_array_equal(g_sum, [[1, 0, 1], [0, 1, 1]])
    g_mean = sg.function([v], sg.grad(sg.nanmean(v, axis=1).sum(), v))(x)
    np.testing.assert_array_equal(g_mean, [[0.5, 0, 0.5], [0, 0.5, 0.5]])


def test_functions_take_numpys_positional_order_and_refuse_out():
    a = _draw((3, 4), np.float32, seed=8)
    x = sg.var("x", (3, 4), "float32")
    for got, want in [(sg.prod(x, 0, "float64"), np.prod(a, 0, "float64")),
                      (sg.variance(x, 1, None, None, 1, True), np.var(a, 1, None, None, 1, True)),
                      (sg.std(x, 0, "float64", None, 1), np.std(a, 0, "float64", None, 1)),
                      (sg.argmax(x, 1, None, keepdims=True), np.argmax(a, 1, None, keepdims=True)),
                      (sg.cumsum(x, 0, "float64"), np.cumsum(a, 0, "float64")),
                      (sg.cumprod(x, 1, "float64"), np.cumprod(a, 1, "float64")),
                      (sg.nansum(x, 0, "float64", None, True), np.nansum(a, 0, "float64", None, True)),
                      (sg.nanmean(x, 1, None, None, True), np.nanmean(a, 1, None, None, True)),
                      (sg.all(x > 0, 0, None, True), np.all(a > 0, 0, None, True)),
                      (sg.ptp(x, 1, None, True), np.ptp(a, 1, None, True))]:
        value = got.eval({x: a})
        assert value.dtype == want.dtype and value.shape == want.shape, got
        np.testing.assert_allclose(value, want, rtol=1e-6)
    for fn in (sg.prod, sg.variance, sg.std, sg.argmax, sg.cumsum, sg.nansum, sg.any, sg.round):
        with pytest.raises(TypeError, match="out= is not supported"):
            fn(x, out=np.zeros(4))


# --- random compositions of the new functions -------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_STEPS = {
    "arctan": sg.arctan, "sinh": lambda a: sg.sinh(0.5 * a), "cosh": lambda a: sg.cosh(0.5 * a),
    "arcsinh": sg.arcsinh, "tan": lambda a: sg.tan(0.3 * sg.tanh(a)), "exp2": lambda a: sg.exp2(sg.tanh(a)),
    "log2": lambda a: sg.log2(sg.square(a) + 1.0), "sinc": lambda a: sg.sinc(0.4 * a),
    "cumsum": lambda a: sg.cumsum(a, axis=-1), "cumprod": lambda a: sg.cumprod(sg.tanh(a), axis=0),
    "prod": lambda a: a * sg.prod(sg.tanh(a), axis=-1, keepdims=True),
    "var": lambda a: a - sg.variance(a, axis=0, keepdims=True),
    "std": lambda a: a * sg.std(a, keepdims=True), "avg": lambda a: a - sg.average(a, axis=-1, keepdims=True),
}
_PAIRS = {"hypot": sg.hypot, "logaddexp": sg.logaddexp, "logaddexp2": sg.logaddexp2,
          "arctan2": lambda a, b: sg.arctan2(a, sg.square(b) + 1.0)}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(_STEPS) + sorted(_PAIRS)), st.integers(0, 9)),
                min_size=1, max_size=5))
def test_random_compositions_of_the_new_functions_match_finite_differences(program):
    x = sg.var("x", (3, 4))
    nodes = [x]
    for name, j in program:
        a = nodes[-1]
        nodes.append(_STEPS[name](a) if name in _STEPS else _PAIRS[name](a, nodes[j % len(nodes)]))
    total = nodes[-1].sum()
    value = np.random.default_rng(12).uniform(-1, 1, (3, 4))
    check_grads(total, [x], [value], order=2, optimize=False, seed=1)
    check_grads(total, [x], [value], order=1, optimize=True, seed=2)


def test_reductions_over_a_single_element_or_none():
    # std over one element is constant 0: its derivative is 0, not sqrt'(0) * 0 = NaN;
    # prod over no axes (a 0-d input) is the input itself
    v = sg.var("x", (1, 3))
    x = np.array([[0.3, -1.2, 0.8]])
    check_grads(sg.std(v, axis=0), [v], [x], order=2, optimize=False)
    check_grads(sg.std(v, axis=0, keepdims=True), [v], [x], order=1, optimize=True)
    g = sg.function([v], sg.grad(sg.std(v * 0.0 + 1.0), v))(x)    # all equal: 0, not NaN
    np.testing.assert_array_equal(g, np.zeros((1, 3)))
    s = sg.var("s")
    for build in (sg.prod, sg.std, sg.variance, sg.cumprod):
        check_grads(build(s), [s], [np.array(3.5)], order=2, optimize=False)


@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanprod", "nanmax", "nanmin", "nanvar",
                                  "nanstd", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nan_functions_differentiate_around_the_nans(name, axis):
    # The NaNs stay NaN when moved, so finite differences see 0 there, as the rules give.
    ours = REDUCERS[name][0] if name in REDUCERS else SCANS[name][0]
    x = _draw((3, 4), np.float64, seed=10)
    x[0, 1] = x[2, 3] = x[1, 0] = np.nan
    v = sg.var("x", (3, 4))
    check_grads(ours(v, axis=axis), [v], [x], order=2, optimize=False)
    check_grads(ours(v, axis=axis), [v], [x], order=1, optimize=True)


def test_nan_extrema_of_slices_of_nans_only():
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    v = sg.var("x", (2, 2))
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmax(x, axis=1)
    np.testing.assert_array_equal(sg.nanmax(v, axis=1).eval({v: x}), want)
    g = sg.function([v], sg.grad(sg.nansum(sg.nanmin(v, axis=1)), v))(x)
    np.testing.assert_array_equal(g, [[0, 0], [1, 0]])
    np.testing.assert_array_equal(sg.nanargmax(v, axis=0).eval({v: x}), [1, 0])
    np.testing.assert_array_equal(sg.nanargmin(v.T, axis=1).eval({v: x}), [1, 0])
