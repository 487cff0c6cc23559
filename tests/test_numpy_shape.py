"""NumPy's shape, indexing and creation functions against NumPy itself: several shapes and
axes, float32 and float64, the symgraph function (sg.*) and its snp spelling; the errors."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.numpy as snp
from symgraph.errors import ShapeError, UnsupportedError

SHAPES = [(5,), (3, 4), (2, 3, 4)]
DTYPES = ["float32", "float64"]


def _run(fn, x: np.ndarray):
    v = sg.var("x", x.shape, x.dtype)
    out = fn(v)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return sg.function([v], outs)(x), outs


def _agree(sym_fn, np_fn, x: np.ndarray) -> None:
    got, nodes = _run(sym_fn, x)
    want = np_fn(x)
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    assert len(got) == len(want)
    for g, w, n in zip(got, want, nodes):
        w = np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype == n.dtype, (g.dtype, w.dtype, n.dtype)
        tol = 1e-6 if x.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def _axes(shape):
    return [None] + list(range(-len(shape), len(shape)))


# (name, function of (x, axis)) for the functions that take an axis (None = flattened)
AXIS_FUNCS = {
    "flip": lambda m, x, a: m.flip(x, a),
    "roll": lambda m, x, a: m.roll(x, 3, a),
    "sort": lambda m, x, a: m.sort(x, a),
    "argsort": lambda m, x, a: m.argsort(x, a),
    "median": lambda m, x, a: m.median(x, a),
    "percentile": lambda m, x, a: m.percentile(x, [5, 50, 80], a),
    "quantile": lambda m, x, a: m.quantile(x, 0.3, a, keepdims=True),
    "take": lambda m, x, a: m.take(x, [1, 0, 1], a),
    "repeat": lambda m, x, a: m.repeat(x, 2, a),
    "cumulative-split": lambda m, x, a: m.array_split(x, 2, a if a is not None else 0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(AXIS_FUNCS))
def test_axis_functions_match_numpy(name, shape, dtype):
    rng = np.random.default_rng(len(shape))
    x = rng.permutation(np.arange(np.prod(shape))).reshape(shape).astype(dtype) * 0.25
    fn = AXIS_FUNCS[name]
    for axis in _axes(shape):
        _agree(lambda v: fn(sg, v, axis), lambda a: fn(np, a, axis), x)
        _agree(lambda v: fn(snp, v, axis), lambda a: fn(np, a, axis), x)


WHOLE_FUNCS = {
    "swapaxes": lambda m, x: m.swapaxes(x, 0, -1),
    "moveaxis": lambda m, x: m.moveaxis(x, -1, 0),
    "transpose": lambda m, x: m.transpose(x, tuple(range(x.ndim))[::-1]),
    "ravel": lambda m, x: m.ravel(x),
    "tile": lambda m, x: m.tile(x, (2, 1)),
    "pad-constant": lambda m, x: m.pad(x, 1, constant_values=-2.0),
    "pad-edge": lambda m, x: m.pad(x, 2, mode="edge"),
    "pad-reflect": lambda m, x: m.pad(x, (1, 2), mode="reflect"),
    "rot90": lambda m, x: m.rot90(x, 1, (0, x.ndim - 1)) if x.ndim > 1 else m.flip(x),
    "atleast_3d": lambda m, x: m.atleast_3d(x),
    "atleast_2d": lambda m, x: m.atleast_2d(x),
    "hstack": lambda m, x: m.hstack([x, x]),
    "vstack": lambda m, x: m.vstack([x, x]),
    "dstack": lambda m, x: m.dstack([x, x]),
    "column_stack": lambda m, x: m.column_stack([x, x]),
    "split": lambda m, x: m.split(x, [1, 2], axis=-1),
    "kron": lambda m, x: m.kron(x, x[..., :2]),
    "broadcast_arrays": lambda m, x: m.broadcast_arrays(x, x[..., :1]),
    "take_along_axis": lambda m, x: m.take_along_axis(x, m.argsort(x, -1)[..., ::-1], -1),
    "sort-desc": lambda m, x: m.sort(x)[..., ::-1],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(WHOLE_FUNCS))
def test_functions_match_numpy(name, shape, dtype):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    fn = WHOLE_FUNCS[name]
    _agree(lambda v: fn(sg, v), lambda a: fn(np, a), x)
    _agree(lambda v: fn(snp, v), lambda a: fn(np, a), x)


MATRIX_FUNCS = {
    "diagonal": lambda m, x, k: m.diagonal(x, k),
    "diagonal-last": lambda m, x, k: m.diagonal(x, k, -2, -1),
    "trace": lambda m, x, k: m.trace(x, k),
    "tril": lambda m, x, k: m.tril(x, k),
    "triu": lambda m, x, k: m.triu(x, k),
    "diag": lambda m, x, k: m.diag(x[0, 0] if x.ndim == 3 else x, k),
    "diag-vector": lambda m, x, k: m.diag(m.ravel(x)[:3] if m is not np else np.ravel(x)[:3], k),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (4, 2), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", sorted(MATRIX_FUNCS))
def test_matrix_functions_match_numpy(name, shape, dtype):
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    fn = MATRIX_FUNCS[name]
    for k in (-2, -1, 0, 1, 3):
        _agree(lambda v: fn(sg, v, k), lambda a: fn(np, a, k), x)


def test_meshgrid_matches_numpy():
    a, b, c = np.arange(3.0), np.arange(2.0) + 5, np.arange(4.0)
    for indexing in ("xy", "ij"):
        for sparse in (False, True):
            got = sg.function([], list(sg.meshgrid(a, b, c, indexing=indexing, sparse=sparse)))()
            want = np.meshgrid(a, b, c, indexing=indexing, sparse=sparse)
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)


CREATION = [
    ("zeros", lambda m: m.zeros((2, 3))),
    ("zeros-int", lambda m: m.zeros(4, dtype=np.int32)),
    ("ones", lambda m: m.ones((3,), dtype="float32")),
    ("full", lambda m: m.full((2, 2), 7.5)),
    ("full-int", lambda m: m.full(3, 2)),
    ("eye", lambda m: m.eye(3, 4, k=1)),
    ("identity", lambda m: m.identity(3, dtype=np.float32)),
    ("tri", lambda m: m.tri(3, 5, -1)),
    ("arange", lambda m: m.arange(5)),
    ("arange-range", lambda m: m.arange(1.0, 2.0, 0.25)),
    ("arange-dtype", lambda m: m.arange(2, 9, 3, dtype=np.float32)),
    ("linspace", lambda m: m.linspace(0, 1, 7)),
    ("linspace-open", lambda m: m.linspace(-1, 1, 4, endpoint=False, dtype=np.float32)),
]


@pytest.mark.parametrize("name,fn", CREATION, ids=[c[0] for c in CREATION])
def test_creation_matches_numpy(name, fn):
    want = fn(np)
    for m in (sg, snp):
        if m is sg and name.startswith("arange-"):
            continue   # sg.arange(n, dtype) keeps its one-argument form; snp.arange is NumPy's
        node = fn(m)
        got = sg.function([], node)()
        assert got.dtype == want.dtype == node.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_like_functions_follow_the_reference_shape_and_dtype():
    x = sg.var("x", (None, 3), "float32")
    data = np.ones((2, 3), np.float32)
    for fn, want in ((snp.ones_like, np.ones_like(data)), (snp.zeros_like, np.zeros_like(data)),
                     (lambda v: snp.full_like(v, 3), np.full_like(data, 3)),
                     (snp.empty_like, np.zeros_like(data)),
                     (lambda v: snp.ones_like(v, dtype="int64"), np.ones_like(data, "int64"))):
        node = fn(x)
        got = sg.function([x], node)(data)
        assert got.dtype == want.dtype == node.dtype
        np.testing.assert_array_equal(got, want)


def test_sg_arange_keeps_its_form():
    assert sg.function([], sg.arange(4))().tolist() == [0, 1, 2, 3]
    assert sg.arange(3, "int32").dtype == np.int32


# --- scatter-add -----------------------------------------------------------------------------
def test_index_add_repeated_positions_and_its_gradients():
    x = sg.var("x", (4, 2))
    v = sg.var("v", (3, 2))
    rows = np.array([1, 3, 1])
    y = sg.index_add(x, rows, v)
    xs, vs = np.arange(8.0).reshape(4, 2), np.ones((3, 2))
    want = xs.copy()
    np.add.at(want, rows, vs)
    np.testing.assert_array_equal(sg.function([x, v], y)(xs, vs), want)
    # d/dx is the identity, d/dv gathers: ∂ sum(w * y)/∂v = w[rows]
    w = np.random.default_rng(0).standard_normal((4, 2))
    gx, gv = sg.function([x, v], sg.grad(sg.sum(y * w), [x, v]))(xs, vs)
    np.testing.assert_allclose(gx, w)
    np.testing.assert_allclose(gv, w[rows])
    sg.check_grads(sg.sum(y * y), [x, v], [xs, vs], order=2)


def test_at_add_set_and_get():
    x = sg.var("x", (3, 3))
    v = sg.var("v", (2,))
    data = np.arange(9.0).reshape(3, 3)
    vals = np.array([-1.0, -2.0])
    out = sg.function([x, v], [x.at[1, 1:].add(10.0), x.at[:, 0].get(), x.at[0].subtract(1.0),
                               x.at[np.array([2, 0]), 1].set(v)])(data, vals)
    want = data.copy()
    want[1, 1:] += 10
    np.testing.assert_array_equal(out[0], want)
    np.testing.assert_array_equal(out[1], data[:, 0])
    np.testing.assert_array_equal(out[2][0], data[0] - 1)
    placed = data.copy()
    placed[[2, 0], 1] = vals
    np.testing.assert_array_equal(out[3], placed)
    # set's derivative: through x where nothing is set, through v where it is
    y = sg.sum(x.at[np.array([2, 0]), 1].set(v) ** 2)
    sg.check_grads(y, [x, v], [data, vals], order=2)
    gx, gv = sg.function([x, v], sg.grad(y, [x, v]))(data, vals)
    was_set = np.zeros((3, 3), bool)
    was_set[[2, 0], 1] = True
    np.testing.assert_allclose(gx, np.where(was_set, 0.0, 2 * data))
    np.testing.assert_allclose(gv, 2 * vals)


# --- errors ----------------------------------------------------------------------------------
def test_clear_errors():
    x = sg.var("x", (3, 4))
    with pytest.raises(UnsupportedError, match="nonzero"):
        snp.where(x > 0)
    with pytest.raises(UnsupportedError, match="nonzero"):
        np.where(x > 0)
    with pytest.raises(UnsupportedError, match="not differentiable"):
        sg.where(x > 0)
    with pytest.raises(ShapeError, match="equal parts"):
        sg.split(x, 3, axis=1)
    with pytest.raises(ValueError, match="mode 'median'"):
        sg.pad(x, 1, mode="median")
    with pytest.raises(ShapeError, match="pad_width"):
        sg.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ShapeError, match="axis 1 of"):
        sg.sort(sg.var("y", (2, None)), axis=0)
    with pytest.raises(ValueError, match="method='linear'"):
        sg.quantile(x, 0.5, method="nearest")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sg.quantile(x, 1.5)
    with pytest.raises(ShapeError, match="out of range"):
        sg.swapaxes(x, 0, 2)
    with pytest.raises(ShapeError, match="vector or a matrix"):
        sg.diag(sg.var("z", (2, 2, 2)))


def test_node_methods_of_this_family():
    x = sg.var("x", (2, 3, 4))
    data = np.random.default_rng(5).standard_normal((2, 3, 4))
    nodes = [x.transpose((2, 0, 1)), x.transpose(2, 0, 1), x.take([0, 2], axis=1),
             x.argsort(axis=0), x.at[0, 1].get()]
    want = [data.transpose((2, 0, 1)), data.transpose(2, 0, 1), data.take([0, 2], axis=1),
            data.argsort(axis=0), data[0, 1]]
    for got, w in zip(sg.function([x], nodes)(data), want):
        np.testing.assert_array_equal(got, w)


def test_index_tricks_whole_node_sequences_and_arrays_of_nodes():
    x = sg.var("x", (3, 2))
    a = np.arange(6.0).reshape(3, 2)
    c = np.full((3, 2), 7.0)
    built = [snp.r_[x], snp.r_[x, c, x], snp.c_[x, c, x], snp.r_[x[:, 0], c[:, 0], 1:4],
             snp.vstack(x), snp.hstack(x), snp.column_stack(x), snp.concatenate(x),
             snp.stack(x, 1), x[None].squeeze(), snp.squeeze(x[:, None]),
             snp.array([[x[0, 0], x[0, 1] * 2.0], [x[1, 0] ** 2, 3.0]]), snp.array(x[0, 0]),
             snp.append([1.0, 2.0], x[2, 1])]
    want = [np.r_[a], np.r_[a, c, a], np.c_[a, c, a], np.r_[a[:, 0], c[:, 0], 1:4],
            np.vstack(a), np.hstack(a), np.column_stack(a), np.concatenate(a), np.stack(a, 1),
            a, a, np.array([[a[0, 0], a[0, 1] * 2.0], [a[1, 0] ** 2, 3.0]]), a[0, 0],
            np.append([1.0, 2.0], a[2, 1])]
    for got, w in zip(sg.function([x], built)(a), want):
        assert got.shape == np.shape(w)
        np.testing.assert_allclose(got, w)
    # the arrays built from nodes differentiate: d/dx of sum(array([[x00, 2 x01], [x10^2, 3]]))
    g = sg.function([x], sg.grad(sg.sum(built[11]), x))(a)
    np.testing.assert_allclose(g, [[1.0, 2.0], [2 * a[1, 0], 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="directives"):
        snp.r_["0,2", x, x]


def test_polyfit_matches_numpy_and_differentiates():
    pytest.importorskip("symgraph.linalg")      # polyfit solves with sg.linalg.lstsq
    rng = np.random.default_rng(4)
    xs = np.sort(rng.uniform(-2, 2, 9))
    ys = 0.5 * xs ** 2 - xs + 0.1 * rng.standard_normal(9)
    w = rng.uniform(0.5, 2.0, 9)
    x, y = sg.var("x", (9,)), sg.var("y", (9,))
    fits = [snp.polyfit(x, y, 2), snp.polyfit(x, y, 3, w=w),
            snp.polyfit(x, snp.stack([y, 2 * y], 1), 1)]
    for got, want in zip(sg.function([x, y], fits)(xs, ys),
                         [np.polyfit(xs, ys, 2), np.polyfit(xs, ys, 3, w=w),
                          np.polyfit(xs, np.stack([ys, 2 * ys], 1), 1)]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
    sg.check_grads(sg.sum(fits[0] ** 2), [x, y], [xs, ys], order=2)
