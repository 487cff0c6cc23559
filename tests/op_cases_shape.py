"""Op-table cases for NumPy's shape and indexing functions (symgraph/ops/rearrange.py,
join.py, indexing.py): the two new ops (pad, argsort) and the compositions, each case named
after the NumPy function and checked under the op its result node applies."""
from __future__ import annotations

import numpy as np

import symgraph as sg
from op_case import Case, distinct, normal

_IDX = np.array([[0, 2, 1], [1, 1, 0]])         # repeats on purpose: their gradients add up
_ROWS = np.array([0, 2, 0, 3])


_KNOTS = np.array([0.0, 1.0, 2.5, 3.0])


def _between_knots(rng):
    # points inside the segments (and one on each side outside), never near a knot
    x = np.array([-0.7, 0.3, 0.6, 1.4, 2.0, 2.7, 3.6]) + rng.uniform(-0.05, 0.05, 7)
    return [x, rng.standard_normal(4)]


def _with_nans(rng):
    # distinct values with NaN at fixed places (a column with one valid entry, none empty)
    a = distinct((3, 4))(rng)[0]
    a[[0, 0, 1, 2], [1, 3, 3, 0]] = np.nan
    return [a]


def _pick(a):
    return np.argsort(a, axis=1, kind="stable")[:, :2]


def _index_add_ref(x, v):
    out = x.copy()
    np.add.at(out, _ROWS, v)
    return out


CASES: list[Case] = [
    # the two ops
    Case("pad", "pad", normal((2, 3)), lambda a: sg.pad(a, ((1, 0), (2, 1))),
         lambda a: np.pad(a, ((1, 0), (2, 1)))),
    Case("pad-constant-value", "pad", normal((3,)), lambda a: sg.pad(a, 2, constant_values=1.5),
         lambda a: np.pad(a, 2, constant_values=1.5)),
    Case("pad-none-dims", "pad", normal((3, 2)), lambda a: sg.pad(a, ((0, 2), (1, 1))),
         lambda a: np.pad(a, ((0, 2), (1, 1))), shapes=((None, 2),)),
    Case("argsort", "argsort", distinct((3, 4)), lambda a: sg.argsort(a, axis=0),
         lambda a: np.argsort(a, axis=0), differentiable=False),
    Case("argsort-flat", "argsort", distinct((2, 3)), lambda a: sg.argsort(a, axis=None),
         lambda a: np.argsort(a, axis=None), differentiable=False),
    # reordering axes
    Case("swapaxes", "transpose", normal((2, 3, 4)), lambda a: sg.swapaxes(a, 0, -1),
         lambda a: np.swapaxes(a, 0, -1)),
    Case("moveaxis", "transpose", normal((2, 3, 4)), lambda a: sg.moveaxis(a, 0, -1),
         lambda a: np.moveaxis(a, 0, -1)),
    Case("moveaxis-many", "transpose", normal((2, 3, 4, 1)),
         lambda a: sg.moveaxis(a, (0, 3), (2, 0)), lambda a: np.moveaxis(a, (0, 3), (2, 0))),
    Case("ravel", "reshape", normal((2, 3)), sg.ravel, np.ravel),
    Case("flatten", "reshape", normal((2, 1, 3)), sg.flatten, lambda a: a.flatten()),
    # reordering elements
    Case("flip", "getitem", normal((2, 3)), lambda a: sg.flip(a, 1), lambda a: np.flip(a, 1)),
    Case("flip-all", "getitem", normal((2, 3)), sg.flip, np.flip),
    Case("roll", "concatenate", normal((2, 5)), lambda a: sg.roll(a, 2, axis=1),
         lambda a: np.roll(a, 2, axis=1)),
    Case("roll-negative-flat", "reshape", normal((2, 3)), lambda a: sg.roll(a, -4),
         lambda a: np.roll(a, -4)),
    Case("roll-two-axes", "concatenate", normal((3, 4)), lambda a: sg.roll(a, (1, -1), (0, 1)),
         lambda a: np.roll(a, (1, -1), (0, 1))),
    Case("rot90", "transpose", normal((2, 3)), sg.rot90, np.rot90),
    Case("rot90-k2", "getitem", normal((2, 3, 2)), lambda a: sg.rot90(a, 2, (1, 2)),
         lambda a: np.rot90(a, 2, (1, 2))),
    Case("rot90-k3", "getitem", normal((2, 3)), lambda a: sg.rot90(a, -1),
         lambda a: np.rot90(a, -1)),
    Case("repeat", "reshape", normal((2, 3)), lambda a: sg.repeat(a, 2, axis=1),
         lambda a: np.repeat(a, 2, axis=1)),
    Case("repeat-flat", "reshape", normal((2, 2)), lambda a: sg.repeat(a, 3),
         lambda a: np.repeat(a, 3)),
    Case("repeat-counts", "getitem", normal((3, 2)), lambda a: sg.repeat(a, [2, 0, 1], axis=0),
         lambda a: np.repeat(a, [2, 0, 1], axis=0)),
    Case("tile", "reshape", normal((2, 3)), lambda a: sg.tile(a, (2, 1, 2)),
         lambda a: np.tile(a, (2, 1, 2))),
    Case("tile-int", "reshape", normal((3,)), lambda a: sg.tile(a, 2), lambda a: np.tile(a, 2)),
    Case("pad-edge", "getitem", normal((2, 3)), lambda a: sg.pad(a, ((1, 2), (0, 2)), "edge"),
         lambda a: np.pad(a, ((1, 2), (0, 2)), "edge")),
    Case("pad-reflect", "getitem", normal((3, 4)), lambda a: sg.pad(a, 2, "reflect"),
         lambda a: np.pad(a, 2, "reflect")),
    Case("pad-symmetric", "getitem", normal((4,)), lambda a: sg.pad(a, (3, 1), "symmetric"),
         lambda a: np.pad(a, (3, 1), "symmetric")),
    Case("pad-wrap", "getitem", normal((3,)), lambda a: sg.pad(a, (2, 4), "wrap"),
         lambda a: np.pad(a, (2, 4), "wrap")),
    # joining and splitting
    Case("hstack", "concatenate", normal((2, 1), (2, 3)), lambda a, b: sg.hstack([a, b]),
         lambda a, b: np.hstack([a, b])),
    Case("hstack-vectors", "concatenate", normal((2,), (3,)), lambda a, b: sg.hstack([a, b]),
         lambda a, b: np.hstack([a, b])),
    Case("vstack", "concatenate", normal((3,), (2, 3)), lambda a, b: sg.vstack([a, b]),
         lambda a, b: np.vstack([a, b])),
    Case("dstack", "concatenate", normal((2, 3), (2, 3, 2)), lambda a, b: sg.dstack([a, b]),
         lambda a, b: np.dstack([a, b])),
    Case("column_stack", "concatenate", normal((3,), (3, 2)),
         lambda a, b: sg.column_stack([a, b]), lambda a, b: np.column_stack([a, b])),
    Case("atleast_1d", "expand_dims", normal(()), sg.atleast_1d, np.atleast_1d),
    Case("atleast_2d", "expand_dims", normal((3,)), sg.atleast_2d, np.atleast_2d),
    Case("atleast_3d", "expand_dims", normal((3,)), sg.atleast_3d, np.atleast_3d),
    Case("atleast_3d-matrix", "expand_dims", normal((2, 3)), sg.atleast_3d, np.atleast_3d),
    Case("split", "getitem", normal((4, 3)), lambda a: sg.split(a, 2)[1],
         lambda a: np.split(a, 2)[1]),
    Case("split-indices", "getitem", normal((2, 5)), lambda a: sg.split(a, [1, 3], axis=1)[1],
         lambda a: np.split(a, [1, 3], axis=1)[1]),
    Case("array_split", "getitem", normal((7,)), lambda a: sg.array_split(a, 3)[0],
         lambda a: np.array_split(a, 3)[0]),
    Case("broadcast_arrays", "broadcast_to", normal((3,), (2, 1)),
         lambda a, b: sg.broadcast_arrays(a, b)[0], lambda a, b: np.broadcast_arrays(a, b)[0]),
    Case("broadcast_arrays-none-dims", "broadcast_like", normal((3,), (2, 1)),
         lambda a, b: sg.broadcast_arrays(a, b)[1], lambda a, b: np.broadcast_arrays(a, b)[1],
         shapes=((3,), (None, 1))),
    Case("meshgrid-xy", "broadcast_to", normal((3,), (2,)), lambda a, b: sg.meshgrid(a, b)[0],
         lambda a, b: np.meshgrid(a, b)[0]),
    Case("meshgrid-ij", "broadcast_to", normal((3,), (2,), (2,)),
         lambda a, b, c: sg.meshgrid(a, b, c, indexing="ij")[1],
         lambda a, b, c: np.meshgrid(a, b, c, indexing="ij")[1]),
    Case("kron", "reshape", normal((2, 3), (2, 2)), sg.kron, np.kron),
    Case("kron-vector-matrix", "reshape", normal((2,), (2, 3)), sg.kron, np.kron),
    # gathering and scattering
    Case("take", "getitem", normal((3, 4)), lambda a: sg.take(a, [2, 0, 2], axis=1),
         lambda a: np.take(a, [2, 0, 2], axis=1)),
    Case("take-flat", "getitem", normal((2, 3)), lambda a: sg.take(a, _IDX),
         lambda a: np.take(a, _IDX)),
    Case("take_along_axis", "getitem", normal((2, 3)),
         lambda a: sg.take_along_axis(a, _IDX, axis=1),
         lambda a: np.take_along_axis(a, _IDX, axis=1)),
    Case("take_along_axis-axis0", "getitem", normal((3, 2)),
         lambda a: sg.take_along_axis(a, _IDX.T, axis=0),
         lambda a: np.take_along_axis(a, _IDX.T, axis=0)),
    Case("index_add", "add", normal((4, 2), (4, 2)), lambda x, v: sg.index_add(x, _ROWS, v),
         _index_add_ref),
    Case("index_add-broadcast-values", "add", normal((4, 2), (2,)),
         lambda x, v: x.at[_ROWS].add(v), lambda x, v: _index_add_ref(x, np.broadcast_to(v, (4, 2)))),
    Case("index_add-slice", "add", normal((3, 4), (2, 4)),
         lambda x, v: sg.index_add(x, slice(1, 3), v),
         lambda x, v: np.concatenate([x[:1], x[1:] + v])),
    # ordering
    Case("sort", "getitem", distinct((3, 4)), sg.sort, np.sort),
    Case("sort-axis0", "getitem", distinct((3, 4)), lambda a: sg.sort(a, axis=0),
         lambda a: np.sort(a, axis=0)),
    Case("sort-flat", "getitem", distinct((2, 3)), lambda a: sg.sort(a, axis=None),
         lambda a: np.sort(a, axis=None)),
    Case("take_along_axis-argsort", "getitem", distinct((2, 4)),
         lambda a: sg.take_along_axis(a, sg.argsort(a, 1)[:, :2], 1),
         lambda a: np.take_along_axis(a, _pick(a), 1)),
    Case("median-odd", "getitem", distinct((5,)), sg.median, np.median),
    Case("median-even-axis", "getitem", distinct((4, 3)), lambda a: sg.median(a, axis=0),
         lambda a: np.median(a, axis=0)),
    Case("median-keepdims", "getitem", distinct((3, 4)),
         lambda a: sg.median(a, axis=1, keepdims=True),
         lambda a: np.median(a, axis=1, keepdims=True)),
    Case("percentile", "getitem", distinct((3, 5)), lambda a: sg.percentile(a, 30, axis=1),
         lambda a: np.percentile(a, 30, axis=1)),
    Case("percentile-many", "add", distinct((6, 2)), lambda a: sg.percentile(a, [10, 50, 95], axis=0),
         lambda a: np.percentile(a, [10, 50, 95], axis=0), keeps_dtype=False),  # q's float64
    Case("quantile-axes", "getitem", distinct((2, 3, 4)),
         lambda a: sg.quantile(a, 0.4, axis=(0, 2)), lambda a: np.quantile(a, 0.4, axis=(0, 2))),
    Case("quantile-grid", "reshape", distinct((7,)),
         lambda a: sg.quantile(a, [[0.1, 0.2], [0.7, 1.0]]),
         lambda a: np.quantile(a, [[0.1, 0.2], [0.7, 1.0]]), keeps_dtype=False),
    # diagonals, triangles, trace
    Case("diagonal", "getitem", normal((3, 4)), sg.diagonal, np.diagonal),
    Case("diagonal-offset-axes", "getitem", normal((3, 2, 4)),
         lambda a: sg.diagonal(a, -1, 2, 0), lambda a: np.diagonal(a, -1, 2, 0)),
    Case("diagonal-above", "getitem", normal((4, 3)), lambda a: sg.diagonal(a, 1),
         lambda a: a.diagonal(1)),
    Case("diag-matrix", "getitem", normal((3, 3)), lambda a: sg.diag(a, 1),
         lambda a: np.diag(a, 1)),
    Case("diag-vector", "add", normal((3,)), sg.diag, np.diag),
    Case("diag-vector-offset", "add", normal((2,)), lambda a: sg.diag(a, -2),
         lambda a: np.diag(a, -2)),
    Case("trace", "sum", normal((3, 4)), sg.trace, np.trace),
    Case("trace-offset-batch", "sum", normal((2, 3, 3)), lambda a: sg.trace(a, 1, 1, 2),
         lambda a: np.trace(a, 1, 1, 2)),
    Case("tril", "where", normal((3, 4)), sg.tril, np.tril),
    Case("tril-k-batch", "where", normal((2, 3, 3)), lambda a: sg.tril(a, -1),
         lambda a: np.tril(a, -1)),
    Case("triu", "where", normal((4, 3)), lambda a: sg.triu(a, 1), lambda a: np.triu(a, 1)),
    # NumPy's other rearrangements, choices and products
    Case("rollaxis", "transpose", normal((2, 3, 4)), lambda a: sg.rollaxis(a, 2, 0),
         lambda a: np.rollaxis(a, 2, 0)),
    Case("unstack", "getitem", normal((3, 2)), lambda a: sg.unstack(a, 1)[1],
         lambda a: np.unstack(a, axis=1)[1]),
    Case("resize", "reshape", normal((2, 3)), lambda a: sg.resize(a, (4, 2)),
         lambda a: np.resize(a, (4, 2))),
    Case("append", "concatenate", normal((2, 2), (3,)), sg.append, np.append),
    Case("append-axis", "concatenate", normal((2, 2), (1, 2)), lambda a, b: sg.append(a, b, 0),
         lambda a, b: np.append(a, b, 0)),
    Case("delete", "getitem", normal((3, 4)), lambda a: sg.delete(a, [0, 2], axis=1),
         lambda a: np.delete(a, [0, 2], axis=1)),
    Case("take-wrap", "getitem", normal((4,)), lambda a: sg.take(a, [5, -6, 1], mode="wrap"),
         lambda a: np.take(a, [5, -6, 1], mode="wrap")),
    Case("select", "where", normal((2, 3), (2, 3)),
         lambda a, b: sg.select([a > 0.5, b > 0.0], [a, b * b], -1.0),
         lambda a, b: np.select([a > 0.5, b > 0.0], [a, b * b], -1.0)),
    Case("choose", "where", normal((3,), (3,)),
         lambda a, b: sg.choose(np.array([1, 0, 1]), [a, b]),
         lambda a, b: np.choose(np.array([1, 0, 1]), [a, b])),
    Case("partition-sorted", "getitem", distinct((5,)), lambda a: sg.partition(a, 2),
         lambda a: np.sort(a)),
    Case("diagflat", "add", normal((2, 1)), lambda a: sg.diagflat(a, 1),
         lambda a: np.diagflat(a, 1)),
    Case("block", "concatenate", normal((2, 2), (2, 1), (1, 3)),
         lambda a, b, c: sg.block([[a, b], [c]]), lambda a, b, c: np.block([[a, b], [c]])),
    Case("cross", "subtract", normal((4, 3), (3,)), sg.cross, np.cross),
    Case("cross-axis0", "transpose", normal((3, 2), (3, 2)), lambda a, b: sg.cross(a, b, axis=0),
         lambda a, b: np.cross(a, b, axis=0)),
    Case("vander", "power", normal((3,)), lambda a: sg.vander(a, 4), lambda a: np.vander(a, 4)),
    Case("vander-increasing", "power", normal((3,)), lambda a: sg.vander(a, increasing=True),
         lambda a: np.vander(a, increasing=True)),
    Case("convolve", "matmul", normal((5,), (3,)), sg.convolve, np.convolve),
    Case("convolve-same-long-kernel", "matmul", normal((3,), (4,)),
         lambda a, v: sg.convolve(a, v, "same"), lambda a, v: np.convolve(a, v, "same")),
    Case("correlate", "matmul", normal((5,), (2,)), sg.correlate, np.correlate),
    Case("correlate-full-long", "getitem", normal((2,), (4,)),
         lambda a, v: sg.correlate(a, v, "full"), lambda a, v: np.correlate(a, v, "full")),
    # searching
    Case("searchsorted", "searchsorted", lambda rng: [np.sort(distinct((5,))(rng)[0]),
                                                      rng.standard_normal((2, 3))],
         lambda a, v: sg.searchsorted(a, v, "right"),
         lambda a, v: np.searchsorted(a, v, "right"), differentiable=False),
    Case("digitize", "searchsorted", normal((7,)),
         lambda x: sg.digitize(x, np.array([-1.0, 0.0, 0.5])),
         lambda x: np.digitize(x, np.array([-1.0, 0.0, 0.5])), differentiable=False),
    Case("interp", "where", _between_knots, lambda x, fp: sg.interp(x, _KNOTS, fp),
         lambda x, fp: np.interp(x, _KNOTS, fp), keeps_dtype=False),   # float64 knots
    Case("interp-knots-vary", "where", lambda rng: _between_knots(rng) + [_KNOTS.copy()],
         lambda x, fp, xp: sg.interp(x, xp, fp), lambda x, fp, xp: np.interp(x, xp, fp)),
    Case("insert", "getitem", normal((3, 4), (3,)), lambda a, v: sg.insert(a, 1, v, axis=1),
         lambda a, v: np.insert(a, 1, v, axis=1)),
    Case("insert-many-flat", "getitem", normal((2, 3), (2,)),
         lambda a, v: sg.insert(a, [0, 4], v), lambda a, v: np.insert(a, [0, 4], v)),
    Case("lexsort", "getitem", lambda rng: [rng.integers(0, 3, 6).astype(float),
                                            rng.integers(0, 3, 6).astype(float)],
         lambda a, b: sg.lexsort([a, b]), lambda a, b: np.lexsort([a, b]), differentiable=False),
    Case("isin", "greater", lambda rng: [rng.integers(0, 5, (2, 3)).astype(float)],
         lambda a: sg.isin(a, [1.0, 3.0]), lambda a: np.isin(a, [1.0, 3.0]),
         differentiable=False),
    Case("nanquantile", "squeeze", _with_nans, lambda a: sg.nanquantile(a, 0.3, axis=1),
         lambda a: np.nanquantile(a, 0.3, axis=1)),
    Case("nanmedian-flat", "squeeze", _with_nans, sg.nanmedian, np.nanmedian),
    Case("nanpercentile-many", "stack", _with_nans,
         lambda a: sg.nanpercentile(a, [20, 90], axis=0),
         lambda a: np.nanpercentile(a, [20, 90], axis=0), keeps_dtype=False),
    # polynomials and sequences (symgraph/ops/series.py)
    Case("polyval", "add", normal((4,), (2, 3)), sg.polyval, np.polyval),
    Case("polyadd", "add", normal((3,), (5,)), sg.polyadd, np.polyadd),
    Case("polysub", "subtract", normal((4,), (2,)), sg.polysub, np.polysub),
    Case("polymul", "matmul", normal((3,), (2,)), sg.polymul, np.polymul),
    Case("polyder", "multiply", normal((5,)), lambda p: sg.polyder(p, 2),
         lambda p: np.polyder(p, 2)),
    Case("polyint", "concatenate", normal((3,)), lambda p: sg.polyint(p, 2, [1.0, -1.0]),
         lambda p: np.polyint(p, 2, [1.0, -1.0])),
    Case("poly", "matmul", normal((3,)), sg.poly, np.poly),
    Case("ediff1d", "concatenate", normal((2, 3)), lambda a: sg.ediff1d(a, to_begin=[0.5]),
         lambda a: np.ediff1d(a, to_begin=[0.5])),
    Case("trapezoid", "sum", normal((3, 5)), lambda y: sg.trapezoid(y, dx=0.5),
         lambda y: np.trapezoid(y, dx=0.5)),
    Case("trapezoid-x", "sum", lambda rng: [rng.standard_normal((4, 3)), np.sort(rng.standard_normal(4))],
         lambda y, x: sg.trapezoid(y, x, axis=0), lambda y, x: np.trapezoid(y, x, axis=0)),
]
