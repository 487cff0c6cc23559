"""One table with a case for every registered op, and the tests that run over it.

Each case builds one op on float64 inputs chosen in the op's smooth domain (positive for
log, away from 0 for abs, without ties for max) and gives a NumPy reference. The tests check
the value and static type of every case, the VJP and JVP rules of every differentiable
case against central finite differences to second order, and that the derivative of every
non-differentiable case is zero. A registered op without a case fails the suite.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import pytest

import symgraph as sg
from symgraph.errors import DisconnectedError
from symgraph.ops import apply, broadcast_like, sum_to_like
from symgraph.ops.nn import conv2d_input_grad, conv2d_kernel_grad
from symgraph.ops.registry import REGISTRY
from symgraph.testing import check_grads

from op_case import Case, Inputs, apart, distinct, nonzero, normal, positive

_CLASSES = np.array([2, 0, 1, 2])


def _row_lse(z: np.ndarray) -> np.ndarray:
    """log sum exp over the last axis, the plain way (test inputs are small)."""
    return np.log(np.exp(z).sum(axis=-1))


def _sign_labels(z: sg.Node) -> sg.Node:
    """Class 1 where the first logit is positive, else 0 (far from ties for normal draws)."""
    return sg.cast(sg.greater(z[:, 0], 0.0), "int64")


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _lse(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _getitem_grad_ref(g, ref, index):
    out = np.zeros_like(ref)
    np.add.at(out, index, g)
    return out


_ROWS = np.array([0, 2, 0, 1])          # repeats on purpose: their gradients must add up
_LABELS = np.array([2, 0, 1])
_COND = np.array([[True, False, True], [False, False, True]])


def _unary(op: str, fn, ref, inputs: Inputs) -> Case:
    return Case(op, op, inputs, fn, ref)


# --- references for the neural-network ops (symgraph/ops/nn.py), written as plain loops -----
def _conv_ref(x, w, s, p):
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    o, _, kh, kw = w.shape
    ho, wo = (xp.shape[2] - kh) // s + 1, (xp.shape[3] - kw) // s + 1
    out = np.zeros((x.shape[0], o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = np.einsum("nchw,ochw->no", xp[:, :, i * s:i * s + kh, j * s:j * s + kw], w)
    return out


def _linear_map_transpose(fn, in_shape, g):
    # The transpose of a linear map, column by column: (M^T g)_k = <fn(e_k), g>.
    eye = np.eye(int(np.prod(in_shape)))
    return np.array([np.sum(fn(e.reshape(in_shape)) * g) for e in eye]).reshape(in_shape)


def _pool_windows(shape, k, s):
    for i in range((shape[2] - k) // s + 1):
        for j in range((shape[3] - k) // s + 1):
            yield i, j, (slice(None), slice(None), slice(i * s, i * s + k), slice(j * s, j * s + k))


def _pool_ref(x, k, s, reduce):
    out = np.zeros(x.shape[:2] + ((x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1))
    for i, j, win in _pool_windows(x.shape, k, s):
        out[:, :, i, j] = reduce(x[win], axis=(2, 3))
    return out


def _route_ref(x, g, k, s):
    out = np.zeros_like(x)
    for i, j, win in _pool_windows(x.shape, k, s):
        hit = x[win] == x[win].max(axis=(2, 3), keepdims=True)
        out[win] += hit * g[:, :, i:i + 1, j:j + 1] / hit.sum(axis=(2, 3), keepdims=True)
    return out


def _gather_ref(x, t, k, s):
    out = np.zeros(x.shape[:2] + ((x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1))
    for i, j, win in _pool_windows(x.shape, k, s):
        hit = x[win] == x[win].max(axis=(2, 3), keepdims=True)
        out[:, :, i, j] = np.sum(hit * t[win], axis=(2, 3)) / hit.sum(axis=(2, 3))
    return out


def _pool_pair(x_shape, g_shape) -> Inputs:
    # x without ties (so the routing never switches within finite-difference reach), g normal
    return lambda rng: [distinct(x_shape)(rng)[0], rng.standard_normal(g_shape)]


# --- the table ------------------------------------------------------------------------------
CASES: list[Case] = [
    # elementwise arithmetic, with broadcasting and unknown sizes
    Case("add", "add", normal((2, 3), (3,)), lambda a, b: a + b, np.add),
    Case("add-none-dims", "add", normal((2, 3), (2, 1)), lambda a, b: a + b, np.add,
         shapes=((None, 3), (None, 1))),
    Case("add-weak-scalar", "add", normal((2, 3)), lambda a: a + 1.5, lambda a: a + 1.5),
    Case("subtract", "subtract", normal((2, 1), (1, 3)), lambda a, b: a - b, np.subtract),
    Case("subtract-rscalar", "subtract", normal((3,)), lambda a: 2.0 - a, lambda a: 2.0 - a),
    Case("multiply", "multiply", normal((2, 3), (2, 1)), lambda a, b: a * b, np.multiply),
    Case("multiply-scalar-var", "multiply", normal((), (2, 3)), lambda a, b: a * b, np.multiply),
    Case("divide", "divide", lambda rng: normal((2, 3))(rng) + nonzero((3,))(rng),
         lambda a, b: a / b, np.divide),
    Case("divide-rscalar", "divide", nonzero((4,)), lambda a: 1.0 / a, lambda a: 1.0 / a),
    Case("power", "power", lambda rng: positive((2, 3))(rng) + normal((2, 3))(rng),
         lambda a, b: a ** b, np.power),
    Case("power-int-exponent", "power", normal((2, 3)), lambda a: a ** 3, lambda a: a ** 3),
    Case("power-scalar-base", "power", normal((3,)), lambda a: 2.0 ** a, lambda a: 2.0 ** a),
    Case("maximum", "maximum", apart((2, 3), (2, 3)), sg.maximum, np.maximum),
    Case("maximum-broadcast", "maximum", apart((2, 3), (3,)), sg.maximum, np.maximum),
    Case("maximum-scalar", "maximum", nonzero((2, 3)), lambda a: sg.maximum(a, 0.0),
         lambda a: np.maximum(a, 0.0)),
    Case("minimum", "minimum", apart((2, 3), (2, 3)), sg.minimum, np.minimum),
    Case("minimum-broadcast", "minimum", apart((3, 2), (3, 1)), sg.minimum, np.minimum),
    Case("negative", "negative", normal((2, 3)), lambda a: -a, np.negative),
    _unary("reciprocal", sg.reciprocal, lambda a: 1 / a, nonzero((2, 3))),
    # elementwise functions
    _unary("exp", sg.exp, np.exp, normal((2, 3))),
    _unary("log", sg.log, np.log, positive((2, 3))),
    _unary("log1p", sg.log1p, np.log1p, positive((2, 3), lo=-0.5, hi=2.0)),
    _unary("expm1", sg.expm1, np.expm1, normal((2, 3))),
    _unary("sqrt", sg.sqrt, np.sqrt, positive((2, 3))),
    _unary("square", sg.square, np.square, normal((2, 3))),
    _unary("abs", sg.abs, np.abs, nonzero((2, 3))),
    _unary("sin", sg.sin, np.sin, normal((2, 3))),
    _unary("cos", sg.cos, np.cos, normal((2, 3))),
    _unary("tanh", sg.tanh, np.tanh, normal((2, 3))),
    _unary("sigmoid", sg.sigmoid, _sigmoid, lambda rng: [rng.uniform(-6, 6, (2, 4))]),
    _unary("relu", sg.relu, lambda a: np.maximum(a, 0), nonzero((2, 3))),
    _unary("softplus", sg.softplus, lambda a: np.log1p(np.exp(a)),
           lambda rng: [rng.uniform(-6, 6, (2, 4))]),
    Case("where", "where", normal((2, 3), (3,)), lambda a, b: sg.where(_COND, a, b),
         lambda a, b: np.where(_COND, a, b)),
    Case("where-scalar-branch", "where", normal((2, 3)), lambda a: sg.where(a > 0.0, a, 0.0),
         lambda a: np.where(a > 0, a, 0.0)),
    Case("clip", "clip", lambda rng: [np.array([[-2.0, -0.3, 0.2], [0.7, 1.6, -1.2]])],
         lambda a: sg.clip(a, -1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0)),
    Case("clip-lo-only", "clip", nonzero((2, 3)), lambda a: sg.clip(a, lo=0.0),
         lambda a: np.clip(a, 0.0, None)),
    Case("clip-hi-only", "clip", nonzero((2, 3)), lambda a: sg.clip(a, hi=0.0),
         lambda a: np.clip(a, None, 0.0)),
    Case("cast", "cast", normal((2, 3)), lambda a: sg.cast(a, "float64"), lambda a: a,
         keeps_dtype=False),
    # reductions and the softmax family
    Case("sum-all", "sum", normal((2, 3)), lambda a: a.sum(), np.sum),
    Case("sum-axis-keepdims", "sum", normal((2, 3, 2)), lambda a: a.sum(axis=1, keepdims=True),
         lambda a: a.sum(axis=1, keepdims=True)),
    Case("sum-axes", "sum", normal((2, 3, 2)), lambda a: sg.sum(a, axis=(0, 2)),
         lambda a: a.sum(axis=(0, 2))),
    Case("mean", "mean", normal((2, 3)), lambda a: a.mean(axis=0), lambda a: a.mean(axis=0)),
    Case("mean-none-dims", "mean", normal((4, 3)), lambda a: a.mean(axis=0, keepdims=True),
         lambda a: a.mean(axis=0, keepdims=True), shapes=((None, 3),)),
    Case("mean-all", "mean", normal((2, 3)), lambda a: a.mean(), np.mean),
    Case("max", "max", distinct((3, 4)), lambda a: a.max(axis=1), lambda a: a.max(axis=1)),
    Case("max-all", "max", distinct((3, 4)), lambda a: a.max(), np.max),
    Case("min", "min", distinct((3, 4)), lambda a: a.min(axis=0, keepdims=True),
         lambda a: a.min(axis=0, keepdims=True)),
    Case("logsumexp", "logsumexp", normal((3, 4)), lambda a: sg.logsumexp(a, axis=-1),
         lambda a: _lse(a, axis=-1)),
    Case("logsumexp-all", "logsumexp", normal((3, 4)), sg.logsumexp, _lse),
    Case("softmax", "softmax", normal((3, 4)), sg.softmax, lambda a: _softmax(a, -1)),
    Case("softmax-axis0", "softmax", normal((3, 4)), lambda a: sg.softmax(a, axis=0),
         lambda a: _softmax(a, 0)),
    Case("log_softmax", "log_softmax", normal((3, 4)), sg.log_softmax,
         lambda a: np.log(_softmax(a, -1))),
    # matrix products
    Case("matmul", "matmul", normal((2, 3), (3, 4)), lambda a, b: a @ b, np.matmul),
    Case("matmul-vec-mat", "matmul", normal((3,), (3, 2)), lambda a, b: a @ b, np.matmul),
    Case("matmul-mat-vec", "matmul", normal((2, 3), (3,)), lambda a, b: a @ b, np.matmul),
    Case("matmul-vec-vec", "matmul", normal((3,), (3,)), lambda a, b: a @ b, np.matmul),
    Case("matmul-batched", "matmul", normal((2, 2, 3), (1, 3, 2)), lambda a, b: a @ b, np.matmul),
    Case("matmul-batch-mat", "matmul", normal((2, 2, 3), (3, 2)), lambda a, b: a @ b, np.matmul),
    Case("matmul-none-dims", "matmul", normal((3, 2), (2, 2)), lambda a, b: a @ b, np.matmul,
         shapes=((None, 2), (2, 2))),
    # moving data
    Case("reshape", "reshape", normal((2, 3)), lambda a: a.reshape(3, 2),
         lambda a: a.reshape(3, 2)),
    Case("reshape-minus-one", "reshape", normal((2, 3, 2)), lambda a: a.reshape((-1, 2)),
         lambda a: a.reshape(-1, 2)),
    Case("reshape-none-dims", "reshape", normal((3, 4)), lambda a: a.reshape((-1, 2, 2)),
         lambda a: a.reshape(-1, 2, 2), shapes=((None, 4),)),
    Case("transpose", "transpose", normal((2, 3)), lambda a: a.T, np.transpose),
    Case("transpose-axes", "transpose", normal((2, 3, 4)), lambda a: a.transpose(1, 2, 0),
         lambda a: a.transpose(1, 2, 0)),
    Case("expand_dims", "expand_dims", normal((2, 3)), lambda a: sg.expand_dims(a, (0, 2)),
         lambda a: np.expand_dims(a, (0, 2))),
    Case("squeeze", "squeeze", normal((2, 1, 3, 1)), lambda a: sg.squeeze(a, (1, 3)),
         lambda a: np.squeeze(a, (1, 3))),
    Case("broadcast_to", "broadcast_to", normal((3,)), lambda a: sg.broadcast_to(a, (2, 3)),
         lambda a: np.broadcast_to(a, (2, 3))),
    Case("broadcast_to-stretch", "broadcast_to", normal((2, 1)),
         lambda a: sg.broadcast_to(a, (2, 3)), lambda a: np.broadcast_to(a, (2, 3))),
    Case("broadcast_like", "broadcast_like", normal((3,), (2, 3)), broadcast_like,
         lambda a, ref: np.broadcast_to(a, ref.shape)),
    Case("sum_to_like", "sum_to_like", normal((2, 3), (1, 3)), sum_to_like,
         lambda a, ref: a.sum(axis=0, keepdims=True)),
    Case("sum_to_like-drop-axes", "sum_to_like", normal((2, 4, 3), (4, 1)), sum_to_like,
         lambda a, ref: a.sum(axis=(0, 2)).reshape(4, 1)),
    Case("getitem-basic", "getitem", normal((4, 5)), lambda a: a[1:4:2, ::-1],
         lambda a: a[1:4:2, ::-1]),
    Case("getitem-int-newaxis-ellipsis", "getitem", normal((3, 4, 2)),
         lambda a: a[1, None, ..., -1], lambda a: a[1, None, ..., -1]),
    Case("getitem-int-array-repeats", "getitem", normal((3, 2)), lambda a: a[_ROWS],
         lambda a: a[_ROWS]),
    Case("getitem-pick", "getitem", normal((3, 4)),
         lambda a: a[sg.arange(3), sg.const(_LABELS)], lambda a: a[np.arange(3), _LABELS]),
    Case("getitem_grad", "getitem_grad", normal((2, 3), (4, 3)),
         lambda g, ref: apply("getitem_grad", [g, ref], index=sg.getitem(ref, slice(1, 3)).attr("index")),
         lambda g, ref: _getitem_grad_ref(g, ref, slice(1, 3))),
    Case("getitem_grad-repeats", "getitem_grad", normal((4, 2), (3, 2)),
         lambda g, ref: apply("getitem_grad", [g, ref, sg.const(_ROWS)],
                              index=sg.getitem(ref, _ROWS).attr("index")),
         lambda g, ref: _getitem_grad_ref(g, ref, _ROWS)),
    Case("concatenate", "concatenate", normal((2, 1), (2, 3), (2, 2)),
         lambda *xs: sg.concatenate(xs, axis=1), lambda *xs: np.concatenate(xs, axis=1)),
    Case("stack", "stack", normal((2, 3), (2, 3)), lambda a, b: sg.stack([a, b], axis=1),
         lambda a, b: np.stack([a, b], axis=1)),
    # neural-network ops (symgraph/ops/nn.py)
    Case("conv2d", "conv2d", normal((2, 2, 5, 4), (3, 2, 3, 2)),
         lambda x, w: sg.conv2d(x, w, stride=2, padding=1), lambda x, w: _conv_ref(x, w, 2, 1)),
    Case("conv2d-none-batch", "conv2d", normal((2, 1, 4, 4), (2, 1, 2, 2)),
         lambda x, w: sg.conv2d(x, w), lambda x, w: _conv_ref(x, w, 1, 0),
         shapes=((None, 1, 4, 4), (2, 1, 2, 2))),
    Case("conv2d_input_grad", "conv2d_input_grad", normal((2, 3, 3, 3), (3, 2, 3, 2), (2, 2, 5, 4)),
         lambda g, w, ref: conv2d_input_grad(g, w, ref, stride=2, padding=1),
         lambda g, w, ref: _linear_map_transpose(lambda e: _conv_ref(e, w, 2, 1), ref.shape, g)),
    Case("conv2d_kernel_grad", "conv2d_kernel_grad", normal((2, 2, 5, 4), (2, 3, 3, 3)),
         lambda x, g: conv2d_kernel_grad(x, g, (3, 2), stride=2, padding=1),
         lambda x, g: _linear_map_transpose(lambda e: _conv_ref(x, e, 2, 1), (3, 2, 3, 2), g)),
    Case("max_pool2d", "max_pool2d", distinct((2, 2, 5, 5)), lambda x: sg.max_pool2d(x, 3, 2),
         lambda x: _pool_ref(x, 3, 2, np.max)),
    Case("max_pool2d_route", "max_pool2d_route", _pool_pair((2, 2, 5, 5), (2, 2, 2, 2)),
         lambda x, g: apply("max_pool2d_route", [x, g], size=3, stride=2),
         lambda x, g: _route_ref(x, g, 3, 2)),
    Case("max_pool2d_gather", "max_pool2d_gather", _pool_pair((2, 2, 5, 5), (2, 2, 5, 5)),
         lambda x, t: apply("max_pool2d_gather", [x, t], size=3, stride=2),
         lambda x, t: _gather_ref(x, t, 3, 2)),
    Case("avg_pool2d", "avg_pool2d", normal((2, 2, 4, 6)), lambda x: sg.avg_pool2d(x, 2),
         lambda x: _pool_ref(x, 2, 2, np.mean)),
    Case("avg_pool2d_grad", "avg_pool2d_grad", normal((2, 2, 2, 2), (2, 2, 5, 5)),
         lambda g, ref: apply("avg_pool2d_grad", [g, ref], size=3, stride=2),
         lambda g, ref: _linear_map_transpose(lambda e: _pool_ref(e, 3, 2, np.mean), ref.shape, g)),
    Case("dropout_mask", "dropout_mask", normal((3, 4)),
         lambda like: sg.dropout_mask(sg.const(np.int64(5)), like, keep=0.7, seed=11),
         lambda like: (np.random.default_rng([11, 5]).random((3, 4)) < 0.7).astype(np.float64),
         differentiable=False),
    Case("dropout_mask-scaled", "dropout_mask", normal((3, 4)),
         lambda like: sg.dropout_mask(sg.const(np.int64(5)), like, keep=0.7, seed=11, scale=1 / 0.7),
         lambda like: (np.random.default_rng([11, 5]).random((3, 4)) < 0.7) / 0.7,
         differentiable=False),
    Case("sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy", normal((4, 3)),
         lambda z: sg.sparse_softmax_cross_entropy(z, sg.const(_CLASSES)),
         lambda z: _row_lse(z) - z[np.arange(4), _CLASSES]),
    Case("sparse_softmax_cross_entropy-3d", "sparse_softmax_cross_entropy", normal((2, 2, 3)),
         lambda z: sg.sparse_softmax_cross_entropy(z, sg.const(_CLASSES.reshape(2, 2))),
         lambda z: (_row_lse(z.reshape(4, 3)) - z.reshape(4, 3)[np.arange(4), _CLASSES]).reshape(2, 2)),
    Case("sparse_softmax_cross_entropy-mean", "sparse_softmax_cross_entropy", normal((4, 3)),
         lambda z: sg.sparse_softmax_cross_entropy(z, sg.const(_CLASSES), "mean"),
         lambda z: np.mean(_row_lse(z) - z[np.arange(4), _CLASSES])),
    # labels computed from z (rows unknown until run time): the row count is read then
    Case("sparse_softmax_cross_entropy-mean-unknown-rows", "sparse_softmax_cross_entropy",
         normal((4, 3)),
         lambda z: sg.sparse_softmax_cross_entropy(z, _sign_labels(z), "mean"),
         lambda z: np.mean(_row_lse(z) - z[np.arange(4), (z[:, 0] > 0).astype(np.int64)]),
         shapes=((None, 3),)),
    Case("sparse_softmax_cross_entropy_grad-mean", "sparse_softmax_cross_entropy_grad",
         normal((4, 3), ()),
         lambda z, g: apply("sparse_softmax_cross_entropy_grad", [z, sg.const(_CLASSES), g],
                            reduction="mean"),
         lambda z, g: g / 4 * (np.exp(z - _row_lse(z)[:, None]) - np.eye(3)[_CLASSES])),
    Case("sparse_softmax_cross_entropy_grad-mean-unknown-rows", "sparse_softmax_cross_entropy_grad",
         normal((4, 3), ()),
         lambda z, g: apply("sparse_softmax_cross_entropy_grad", [z, _sign_labels(z), g],
                            reduction="mean"),
         lambda z, g: g / 4 * (np.exp(z - _row_lse(z)[:, None])
                               - np.eye(3)[(z[:, 0] > 0).astype(np.int64)]),
         shapes=((None, 3), ())),
    Case("sparse_softmax_cross_entropy_grad", "sparse_softmax_cross_entropy_grad",
         normal((4, 3), (4,)),
         lambda z, g: apply("sparse_softmax_cross_entropy_grad", [z, sg.const(_CLASSES), g],
                            reduction="none"),
         lambda z, g: g[:, None] * (np.exp(z - _row_lse(z)[:, None]) - np.eye(3)[_CLASSES])),
    # unknown sizes that broadcast only at run time (size 1 against size 4)
    Case("add-run-time-broadcast", "add", normal((1, 3), (4, 3)), lambda a, b: a + b, np.add,
         shapes=((None, 3), (None, 3))),
    Case("multiply-run-time-broadcast", "multiply", normal((4, 1), (4, 3)),
         lambda a, b: a * b, np.multiply, shapes=((4, None), (4, 3))),
    Case("maximum-run-time-broadcast", "maximum", apart((1, 3), (2, 3)), sg.maximum, np.maximum,
         shapes=((None, 3), (None, 3))),
    Case("where-run-time-broadcast", "where", normal((1, 3), (2, 3)),
         lambda a, b: sg.where(_COND, a, b), lambda a, b: np.where(_COND, a, b),
         shapes=((None, 3), (2, 3))),
    Case("getitem-none-dims", "getitem", normal((4, 5)), lambda a: a[1:, 2:4],
         lambda a: a[1:, 2:4], shapes=((None, 5),)),
    Case("matmul-batched-none-dims", "matmul", normal((3, 2, 3), (3, 2)), lambda a, b: a @ b,
         np.matmul, shapes=((None, 2, 3), (3, None))),
    Case("stack-none-dims", "stack", normal((2, 3), (2, 3)), lambda a, b: sg.stack([a, b]),
         lambda a, b: np.stack([a, b]), shapes=((None, 3), (2, None))),
    Case("concatenate-none-on-axis", "concatenate", normal((3, 2), (1, 2)),
         lambda a, b: sg.concatenate([a, b * b], axis=0),
         lambda a, b: np.concatenate([a, b * b], axis=0), shapes=((None, 2), (None, 2))),
    Case("concat_part", "concat_part", normal((5, 2), (3, 2), (2, 2)),
         lambda g, a, b: apply("concat_part", [g, a, b], axis=0, index=1),
         lambda g, a, b: g[3:5]),
    Case("concat_part-none", "concat_part", normal((2, 5), (2, 1), (2, 4)),
         lambda g, a, b: apply("concat_part", [g, a, b], axis=1, index=0),
         lambda g, a, b: g[:, :1], shapes=((2, None), (2, None), (2, None))),
    Case("concatenate-none-off-axis", "concatenate", normal((3, 2), (3, 1)),
         lambda a, b: sg.concatenate([a, b], axis=-1),
         lambda a, b: np.concatenate([a, b], axis=-1), shapes=((None, 2), (None, 1))),
    Case("logsumexp-none-dims", "logsumexp", normal((3, 4)),
         lambda a: sg.logsumexp(a, axis=0, keepdims=True), lambda a: _lse(a, 0, True),
         shapes=((None, 4),)),
    Case("log_softmax-none-dims", "log_softmax", normal((3, 4)), sg.log_softmax,
         lambda a: np.log(_softmax(a, -1)), shapes=((None, None),)),
    Case("sum_to_like-none-dims", "sum_to_like", normal((2, 4, 3), (4, 1)), sum_to_like,
         lambda a, ref: a.sum(axis=(0, 2)).reshape(4, 1), shapes=((None, 4, 3), (None, 1))),
    # no derivative: the value is checked, and that the derivative is zero
    Case("stop_gradient", "stop_gradient", normal((2, 3)), sg.stop_gradient, lambda a: a,
         differentiable=False),
    Case("sign", "sign", nonzero((2, 3)), sg.sign, np.sign, differentiable=False),
    Case("equal", "equal", lambda rng: [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])],
         sg.equal, np.equal, differentiable=False),
    Case("not_equal", "not_equal", lambda rng: [np.array([1.0, 2.0]), np.array([1.0, 0.0])],
         sg.not_equal, np.not_equal, differentiable=False),
    Case("less", "less", normal((2, 3), (3,)), lambda a, b: a < b, np.less, differentiable=False),
    Case("less_equal", "less_equal", lambda rng: [np.array([1.0, 2.0, 3.0]), np.array([2.0])],
         lambda a, b: a <= b, np.less_equal, differentiable=False),
    Case("greater", "greater", normal((2, 3), (3,)), lambda a, b: a > b, np.greater,
         differentiable=False),
    Case("greater_equal", "greater_equal", lambda rng: [np.array([1.0, 2.0, 3.0]),
                                                        np.array([2.0])],
         lambda a, b: a >= b, np.greater_equal, differentiable=False),
    Case("logical_and", "logical_and", normal((2, 3), (2, 3)),
         lambda a, b: sg.logical_and(a > 0.0, b < 0.0),
         lambda a, b: np.logical_and(a > 0, b < 0), differentiable=False),
    Case("logical_or", "logical_or", normal((2, 3), (3,)),
         lambda a, b: sg.logical_or(a > 0.0, b < 0.0),
         lambda a, b: np.logical_or(a > 0, b < 0), differentiable=False),
    Case("logical_not", "logical_not", normal((2, 3)), lambda a: sg.logical_not(a > 0.0),
         lambda a: ~(a > 0), differentiable=False),
    Case("one_hot", "one_hot", lambda rng: [np.array([0.2, 2.4, 1.1, 2.9])],
         lambda a: sg.one_hot(sg.cast(a, "int64"), 4),
         lambda a: np.eye(4)[a.astype(np.int64)], differentiable=False),
    Case("cast-to-int", "cast", lambda rng: [np.array([0.2, -2.4, 1.9])],
         lambda a: sg.cast(a, "int32"), lambda a: a.astype(np.int32), differentiable=False),
    Case("axis_size", "axis_size", normal((4, 3)),
         lambda a: apply("axis_size", [a], axis=(0,), dtype=np.dtype(np.float64)),
         lambda a: np.array(4.0), differentiable=False, shapes=((None, 3),)),
]

# Families added later keep their cases in tests/op_cases_<family>.py (one file each, so the
# table grows without one file holding every op); each defines CASES.
for _path in sorted(Path(__file__).parent.glob("op_cases_*.py")):
    CASES += importlib.import_module(_path.stem).CASES

LEAVES = ("var", "param", "const")
DIFFERENTIABLE = [c for c in CASES if c.differentiable]


def _vars(case: Case, arrays: Sequence[np.ndarray], dtype: Optional[str] = None) -> list:
    shapes = case.shapes or [a.shape for a in arrays]
    return [sg.var(f"x{k}", shape, dtype or a.dtype) for k, (a, shape) in
            enumerate(zip(arrays, shapes))]


def _fits(shape: tuple, static: tuple) -> bool:
    return len(shape) == len(static) and all(s is None or s == d for d, s in zip(shape, static))


# --- the table is complete and honest ------------------------------------------------------
def test_every_registered_op_has_a_case():
    covered = {c.op for c in CASES}
    missing = sorted(name for name in REGISTRY if name not in covered and name not in LEAVES)
    assert not missing, f"ops without a case in tests/test_op_table.py: {missing}"


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_non_differentiable_op_is_in_the_table_as_such():
    # An op the registry marks non-differentiable must not be checked by finite differences
    # alone (its "derivative" would be a kink), and vice versa.
    for name, op in sorted(REGISTRY.items()):
        if op.leaf:
            continue
        kinds = {c.differentiable for c in CASES if c.op == name}
        if kinds and not op.differentiable:
            assert kinds == {False}, name


# --- values and static types ---------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_value_and_static_type(case: Case, rng):
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    node = case.build(*xs)
    assert node.op == case.op, f"the case builds {node.op}, not {case.op}"
    out = sg.function(xs, node)(*arrays)
    expected = np.asarray(case.reference(*arrays))
    assert out.dtype == node.dtype, f"static dtype {node.dtype}, evaluated {out.dtype}"
    assert _fits(out.shape, node.shape), f"static shape {node.shape}, evaluated {out.shape}"
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    if np.issubdtype(expected.dtype, np.floating) and node.dtype.kind == "f":
        # a complex input counts by its precision (real(z64) is float32)
        assert node.dtype == np.result_type(expected.dtype, *[
            np.finfo(a.dtype).dtype if a.dtype.kind == "c" else a.dtype for a in arrays])


# --- derivatives ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.id)
def test_vjp_and_jvp_match_finite_differences_to_second_order(case: Case, rng):
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    node = case.build(*xs)
    assert node.op == case.op
    # the rules as written, to second order; then what the compiler makes of them
    check_grads(node, xs, arrays, order=2, modes=("rev", "fwd"), seed=7, optimize=False)
    check_grads(node, xs, arrays, order=1, modes=("rev", "fwd"), seed=8, optimize=True)


@pytest.mark.parametrize("case", [c for c in CASES if not c.differentiable], ids=lambda c: c.id)
def test_non_differentiable_ops_have_zero_derivative(case: Case, rng):
    arrays = case.inputs(rng)
    xs = _vars(case, arrays)
    node = case.build(*xs)
    out = sg.function(xs, node)(*arrays)
    if node.dtype.kind == "f":
        ct = rng.standard_normal(out.shape)
        with pytest.raises(DisconnectedError):
            sg.vjp(node, xs, ct, disconnected="raise")
        grads = sg.vjp(node, xs, ct)
        for g, a in zip(sg.function(xs, grads)(*arrays), arrays):
            assert g.shape == a.shape and not np.any(g)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    t = sg.jvp(node, xs, tangents)
    value = sg.function(xs, t)(*arrays)
    assert value.shape == out.shape and not np.any(value)


def test_sign_registered_without_derivative_rules():
    assert not REGISTRY["sign"].differentiable
    assert REGISTRY["sign"].vjp is None and REGISTRY["sign"].jvp is None


# --- float32 stays float32 -----------------------------------------------------------------
def test_weak_python_scalar_keeps_float32():
    x = sg.var("x", (3,), "float32")
    assert (x * 2.0).dtype == np.float32
    assert (2.0 * x + 1).dtype == np.float32
    assert (x ** 2).dtype == np.float32
    out = sg.function([x], x * 2.0)(np.ones(3, np.float32))
    assert out.dtype == np.float32


def test_float64_array_constant_promotes_float32():
    x = sg.var("x", (3,), "float32")
    assert (x * np.ones(3)).dtype == np.float64


@pytest.mark.parametrize("case", [c for c in DIFFERENTIABLE if c.keeps_dtype], ids=lambda c: c.id)
def test_float32_graph_and_its_derivatives_stay_float32(case: Case, rng):
    arrays = [a.astype(np.float32) for a in case.inputs(rng)]
    xs = _vars(case, arrays)
    node = case.build(*xs)
    assert node.dtype == np.float32
    cotangent = rng.standard_normal(sg.function(xs, node)(*arrays).shape).astype(np.float32)
    grads = sg.vjp(node, xs, cotangent)
    tangent = sg.jvp(node, xs, [a.copy() for a in arrays])
    values = sg.function(xs, [node, tangent, *grads])(*arrays)
    for n, v in zip([node, tangent, *grads], values):
        assert n.dtype == np.float32, n
        assert v.dtype == np.float32, n
    second = sg.vjp(grads, xs, [a.copy() for a in arrays])
    for n, v in zip(second, sg.function(xs, second)(*arrays)):
        assert n.dtype == np.float32 and v.dtype == np.float32, n


def test_grad_through_cast_comes_back_in_the_input_dtype():
    x = sg.var("x", (3,), "float32")
    y = (sg.cast(x, "float64") ** 2).sum()
    g = sg.grad(y, x)
    assert g.dtype == np.float32
    value = sg.function([x], g)(np.array([1.0, 2.0, 3.0], np.float32))
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, [2.0, 4.0, 6.0])


def test_arithmetic_on_weak_scalars_stays_weak_at_run_time():
    # Regression: 3 - 1 evaluated to an int64 NumPy scalar, which made x32 ** (3 - 1)
    # float64 at run time although its static dtype was float32.
    x = sg.var("x", (2,), "float32")
    y = x ** (sg.const(3) - 1)
    assert y.dtype == np.float32
    out = sg.function([x], y)(np.array([2.0, 3.0], np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [4.0, 9.0])


def test_functions_of_weak_scalars_stay_weak_at_run_time():
    x = sg.var("x", (2,), "float32")
    y = x * sg.sigmoid(sg.const(0.0)) * sg.exp(sg.const(0.0))
    assert y.dtype == np.float32
    out = sg.function([x], y)(np.array([2.0, 4.0], np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [1.0, 2.0])


# --- the checker itself catches wrong rules --------------------------------------------------
def _tanh_case_with(monkeypatch, **rules):
    import dataclasses
    monkeypatch.setitem(REGISTRY, "tanh", dataclasses.replace(REGISTRY["tanh"], **rules))
    x = sg.var("x", (2, 3))
    return sg.tanh(x), x, np.random.default_rng(0).standard_normal((2, 3))


def test_checker_rejects_a_wrong_vjp(monkeypatch):
    node, x, value = _tanh_case_with(monkeypatch, vjp=lambda n, g: (sg.multiply(g, n),))
    with pytest.raises(AssertionError, match="order 1 vjp"):
        check_grads(node, [x], [value], order=1, modes=("rev",))


def test_checker_rejects_a_wrong_jvp(monkeypatch):
    node, x, value = _tanh_case_with(monkeypatch, jvp=lambda n, t: sg.multiply(t[0], 2.0))
    with pytest.raises(AssertionError, match="order 1 jvp"):
        check_grads(node, [x], [value], order=1, modes=("fwd",))


def test_checker_rejects_a_rule_that_is_right_only_to_first_order(monkeypatch):
    # 1 - y**2 behind stop_gradient has the right value but no derivative of its own.
    def vjp(n, g):
        return (sg.multiply(g, sg.stop_gradient(sg.subtract(1, sg.square(n)))),)
    node, x, value = _tanh_case_with(monkeypatch, vjp=vjp)
    check_grads(node, [x], [value], order=1, modes=("rev",))
    with pytest.raises(AssertionError, match="order 2 vjp"):
        check_grads(node, [x], [value], order=2, modes=("rev",))


@pytest.mark.parametrize("build", [
    lambda: sg.broadcast_to(2.0, (3,)), lambda: sg.expand_dims(2.0, 0),
    lambda: sg.transpose(2.0), lambda: sg.reshape(2.0, ()), lambda: sg.const(2.0)[None],
    lambda: sg.cast(2, "float32"), lambda: sg.cast(2, "float64"), lambda: sg.const(3.0) - 1,
    lambda: sg.exp(sg.const(0.0)), lambda: sg.where(True, 2.0, 3.0), lambda: sg.stack([1.0, 2.0, 3.0]),
    lambda: sg.sum(2.0), lambda: sg.clip(sg.const(3.0), 0.0, 1.0),
], ids=["broadcast_to", "expand_dims", "transpose", "reshape", "getitem", "cast32", "cast64",
        "subtract", "exp", "where", "stack", "sum", "clip"])
@pytest.mark.parametrize("optimize", [False, True])
def test_static_dtype_of_python_scalar_expressions_matches_run_time(build, optimize):
    # Regression: shape ops on Python scalars were typed weak (float32 beside a float32
    # array) but ran as float64 arrays; getitem of a Python scalar failed at run time.
    x = sg.var("x", (3,), "float32")
    y = x * build()
    out = sg.function([x], y, optimize=optimize)(np.ones(3, np.float32))
    assert out.dtype == y.dtype


# --- random compositions: broadcasting, unknown sizes and shared nodes together ----------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SMOOTH_UNARY = {
    "tanh": sg.tanh, "sin": sg.sin, "sigmoid": sg.sigmoid, "softplus": sg.softplus,
    "square": sg.square, "exp-tanh": lambda a: sg.exp(sg.tanh(a)),
    "log-cosh": lambda a: sg.log(sg.cos(sg.tanh(a))),
    "sum-keep": lambda a: a.sum(axis=-1, keepdims=True) if a.ndim else a,
    "mean0": lambda a: a.mean(axis=0) if a.ndim == 2 else a,
    "lse": lambda a: sg.logsumexp(a, axis=-1, keepdims=True) if a.ndim else a,
    "softmax": lambda a: sg.softmax(a) if a.ndim else a,
    "T": lambda a: a.T,
}
_SMOOTH_BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (sg.square(b) + 1.0),
    "pow": lambda a, b: (sg.square(a) + 1.0) ** sg.tanh(b),
}


def _compose(program):
    # x: (2, 3); y: (3,) ; s: (); z: (None, 3) that is (1, 3) at run time and broadcasts
    xs = [sg.var("x", (2, 3)), sg.var("y", (3,)), sg.var("s"), sg.var("z", (None, 3))]
    nodes = list(xs)
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if op in _SMOOTH_UNARY:
            out = _SMOOTH_UNARY[op](a)
        else:
            try:
                out = _SMOOTH_BINARY[op](a, b)
            except sg.ShapeError:      # e.g. (3, 2) against (3,): skip this step
                continue
        nodes.append(out)
    total = nodes[-1].sum() + nodes[len(nodes) // 2].mean()
    return xs, total


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(_SMOOTH_UNARY) + sorted(_SMOOTH_BINARY)),
                          st.integers(0, 31), st.integers(0, 31)), min_size=1, max_size=8))
def test_random_compositions_match_finite_differences(program):
    xs, total = _compose(program)
    rng = np.random.default_rng(5)
    values = [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 3), np.array(0.4),
              rng.uniform(-1, 1, (1, 3))]
    check_grads(total, xs, values, order=2, optimize=False, seed=3)
    check_grads(total, xs, values, order=1, optimize=True, seed=4)


def test_numerical_helpers_against_closed_forms():
    from symgraph.testing import numerical_grad, numerical_jvp
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    s = np.array(3.0)
    gx, gs = numerical_grad(lambda a, b: np.sum(a ** 3) * b, [x, s])
    np.testing.assert_allclose(gx, 3 * x ** 2 * 3.0, rtol=1e-8)
    np.testing.assert_allclose(gs, np.sum(x ** 3), rtol=1e-8)
    (only,) = numerical_grad(lambda a, n: np.sum(a * n), [x, np.arange(4).reshape(2, 2)],
                             argnums=[0])
    np.testing.assert_allclose(only, np.arange(4).reshape(2, 2), rtol=1e-8)
    t = np.ones_like(x)
    (d,) = numerical_jvp(lambda a: np.sin(a), [x], [t])
    np.testing.assert_allclose(d, np.cos(x), rtol=1e-8)
