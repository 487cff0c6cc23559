"""Neural-network ops: 2-D convolution, max and average pooling, and dropout masks.

Layout is NCHW: a batch of ``N`` images with ``C`` channels of ``H x W`` pixels; a
convolution kernel is ``(O, C, kh, kw)``. Convolution here is cross-correlation (the
kernel is not flipped), as in every deep-learning library.

Every derivative is another op of this file, so derivatives of any order exist:

- ``conv2d(x, w)``, ``conv2d_input_grad(g, w, x)`` and ``conv2d_kernel_grad(x, g)`` are
  the three partial derivatives of one trilinear form ``T(x, w, g) = <conv2d(x, w), g>``,
  so each one's VJP and JVP is written with the other two.
- ``max_pool2d``'s VJP routes the cotangent to each window's maximum
  (``max_pool2d_route``); its transpose, ``max_pool2d_gather``, collects from the maxima.
  Both are linear in their second input and piecewise constant in ``x``.
- ``avg_pool2d`` is linear; its transpose ``avg_pool2d_grad`` spreads a cotangent evenly.
- ``dropout_mask`` draws a fresh Bernoulli mask from ``(seed, counter)``; it is not
  differentiable, and the caller advances the counter through ``updates``.
- ``sparse_softmax_cross_entropy(z, labels)`` is ``logsumexp(z) - z[label]`` per row for
  integer labels, in one kernel; its VJP, ``sparse_softmax_cross_entropy_grad(z, labels,
  g)``, is ``g[..., None] * (softmax(z) - one_hot(labels))`` in one kernel too (the
  textbook's ``p - y``). The derivatives of the gradient op are written with softmax and one_hot.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from symgraph.errors import ArgumentError, DTypeError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import _sum_tangents, divide, multiply, subtract
from symgraph.ops.reduce import softmax, sum as reduce_sum
from symgraph.ops.registry import Op, apply, as_node, register
from symgraph.ops.shape import expand_dims, one_hot
from symgraph.types import TensorType, as_dtype, format_shape, promote


# --- shape rules --------------------------------------------------------------------------
def _out_size(op: str, size: Optional[int], k: int, stride: int, pad: int, where: str) -> Optional[int]:
    if size is None:
        return None
    span = size + 2 * pad - k
    if span < 0:
        raise ShapeError(f"{op}: window {k} is larger than the (padded) input size "
                         f"{size + 2 * pad}{where}")
    return span // stride + 1


def _check_4d(op: str, t: TensorType, what: str, where: str) -> None:
    if t.ndim != 4:
        raise ShapeError(f"{op}: {what} must be 4-d (N, C, H, W), got "
                         f"{format_shape(t.shape)}{where}")
    if t.dtype.kind not in "fc":
        raise DTypeError(f"{op}: {what} must be floating point, got {t.dtype}{where}")


def _conv_infer(types, attrs, where):
    x, w = types
    _check_4d("conv2d", x, "input", where)
    _check_4d("conv2d", w, "kernel (O, C, kh, kw)", where)
    if x.shape[1] is not None and w.shape[1] is not None and x.shape[1] != w.shape[1]:
        raise ShapeError(f"conv2d: input {format_shape(x.shape)} has {x.shape[1]} channels "
                         f"but kernel {format_shape(w.shape)} expects {w.shape[1]}{where}")
    if w.shape[2] is None or w.shape[3] is None:
        raise ShapeError(f"conv2d: the kernel's spatial size must be static, got "
                         f"{format_shape(w.shape)}{where}")
    s, p = attrs["stride"], attrs["padding"]
    ho = _out_size("conv2d", x.shape[2], w.shape[2], s, p, where)
    wo = _out_size("conv2d", x.shape[3], w.shape[3], s, p, where)
    return TensorType((x.shape[0], w.shape[0], ho, wo), promote("conv2d", types, where).dtype)


def _input_grad_infer(types, attrs, where):
    g, w, ref = types
    _check_4d("conv2d_input_grad", g, "cotangent", where)
    _check_4d("conv2d_input_grad", w, "kernel", where)
    return TensorType(ref.shape, promote("conv2d_input_grad", types[:2], where).dtype)


def _kernel_grad_infer(types, attrs, where):
    x, g = types
    _check_4d("conv2d_kernel_grad", x, "input", where)
    _check_4d("conv2d_kernel_grad", g, "cotangent", where)
    kh, kw = attrs["ksize"]
    return TensorType((g.shape[1], x.shape[1], kh, kw),
                      promote("conv2d_kernel_grad", types, where).dtype)


def _pool_infer(op: str):
    def infer(types, attrs, where):
        x = types[0]
        _check_4d(op, x, "input", where)
        k, s = attrs["size"], attrs["stride"]
        ho = _out_size(op, x.shape[2], k, s, 0, where)
        wo = _out_size(op, x.shape[3], k, s, 0, where)
        return TensorType(x.shape[:2] + (ho, wo), x.dtype)
    return infer


def _like_input_infer(index: int, dtype_from: int):
    # Ops whose result has the shape of input ``index`` and the dtype of ``dtype_from``.
    def infer(types, attrs, where):
        return TensorType(types[index].shape, types[dtype_from].dtype)
    return infer


def _gather_infer(types, attrs, where):
    x, t = types
    out = _pool_infer("max_pool2d_gather")([x], attrs, where)
    return TensorType(out.shape, t.dtype)


# --- kernels ------------------------------------------------------------------------------
# Every kernel works on strided slices of its input, one per window tap, and does its
# arithmetic in one GEMM (convolution) or a few whole-array ufunc calls per tap (pooling):
# there is no per-window Python work and no (N, C, ho, wo, k, k) temporary.
def _pad(x: np.ndarray, p: int) -> np.ndarray:
    if not p:
        return x
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * p, x.shape[3] + 2 * p), dtype=x.dtype)
    out[:, :, p:-p, p:-p] = x      # cheaper than np.pad, which is written in Python
    return out


def _tap(x: np.ndarray, i: int, j: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """The (N, C, ho, wo) view of the pixels kernel tap (i, j) reads at every position."""
    return x[:, :, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]


def _im2col(x: np.ndarray, kh: int, kw: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """(N, C*kh*kw, ho*wo): column l of image n holds the window output pixel l reads."""
    view = sliding_window_view(x, (kh, kw), axis=(2, 3))
    view = view[:, :, : (ho - 1) * stride + 1 : stride, : (wo - 1) * stride + 1 : stride]
    n, c = x.shape[:2]
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)


def _conv_kernel(x, w, stride=1, padding=0):
    # out[n] = W (O, C*kh*kw) @ cols[n]: one batched GEMM, already in NCHW order
    o, c, kh, kw = w.shape
    ho = (x.shape[2] + 2 * padding - kh) // stride + 1
    wo = (x.shape[3] + 2 * padding - kw) // stride + 1
    cols = _im2col(_pad(x, padding), kh, kw, stride, ho, wo)
    return np.matmul(w.reshape(o, c * kh * kw), cols).reshape(x.shape[0], o, ho, wo)


def _input_grad_kernel(g, w, ref, stride=1, padding=0):
    # dcols[n] = W^T @ g[n] (one GEMM); each tap's row of dcols goes back to the pixels
    # that tap read (col2im): one strided add per tap
    n, c, h, wd = np.shape(ref)
    o, _, kh, kw = w.shape
    ho, wo = g.shape[2:]
    dcols = np.matmul(w.reshape(o, c * kh * kw).T, g.reshape(n, o, ho * wo))
    dcols = dcols.reshape(n, c, kh, kw, ho, wo)
    out = np.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            _tap(out, i, j, stride, ho, wo)[...] += dcols[:, :, i, j]
    return out[:, :, padding : padding + h, padding : padding + wd] if padding else out


def _kernel_grad_kernel(x, g, stride=1, padding=0, ksize=(1, 1)):
    # dW = sum over n of g[n] (O, ho*wo) @ cols[n]^T (ho*wo, C*kh*kw)
    kh, kw = ksize
    n, o, ho, wo = g.shape
    cols = _im2col(_pad(x, padding), kh, kw, stride, ho, wo)
    per_image = np.matmul(g.reshape(n, o, ho * wo), cols.transpose(0, 2, 1))
    return np.add.reduce(per_image, axis=0).reshape(o, x.shape[1], kh, kw)


def _pool_shape(x: np.ndarray, size: int, stride: int) -> tuple[int, int]:
    return (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1


def _taps(size: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(size) for j in range(size)]


def _max_pool_kernel(x, size=2, stride=2):
    ho, wo = _pool_shape(x, size, stride)
    out = None
    for i, j in _taps(size):
        tap = _tap(x, i, j, stride, ho, wo)
        out = tap.copy() if out is None else np.maximum(out, tap, out=out)
    return out


def _max_hits(x: np.ndarray, size: int, stride: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Per tap, where that tap holds its window's maximum (as x's dtype, 0 or 1), and the
    number of maxima in each window (ties share, as for ``max``)."""
    ho, wo = _pool_shape(x, size, stride)
    top = _max_pool_kernel(x, size, stride)
    hits = [np.equal(_tap(x, i, j, stride, ho, wo), top).astype(x.dtype) for i, j in _taps(size)]
    count = hits[0].copy()
    for h in hits[1:]:
        count += h
    return hits, count


def _route_kernel(x, g, size=2, stride=2):
    # each window's value, shared by its maxima, added back where those maxima sit
    hits, count = _max_hits(x, size, stride)
    ho, wo = count.shape[2:]
    share = np.divide(g, count, dtype=np.result_type(g, count))
    out = np.zeros(x.shape, dtype=share.dtype)
    for (i, j), h in zip(_taps(size), hits):
        h *= share
        _tap(out, i, j, stride, ho, wo)[...] += h
    return out.astype(g.dtype, copy=False)


def _gather_kernel(x, t, size=2, stride=2):
    # the mean of t over each window's maxima
    hits, count = _max_hits(x, size, stride)
    ho, wo = count.shape[2:]
    total = None
    for (i, j), h in zip(_taps(size), hits):
        part = np.multiply(h, _tap(t, i, j, stride, ho, wo))
        total = part if total is None else np.add(total, part, out=total)
    return total / count


def _avg_pool_kernel(x, size=2, stride=2):
    ho, wo = _pool_shape(x, size, stride)
    total = None
    for i, j in _taps(size):
        tap = _tap(x, i, j, stride, ho, wo)
        total = tap.copy() if total is None else np.add(total, tap, out=total)
    return total / (size * size)


def _avg_grad_kernel(g, ref, size=2, stride=2):
    share = g / (size * size)
    out = np.zeros(np.shape(ref)[:2] + np.shape(ref)[2:], dtype=share.dtype)
    ho, wo = g.shape[2:]
    for i, j in _taps(size):
        _tap(out, i, j, stride, ho, wo)[...] += share
    return out


def _dropout_mask_kernel(counter, like, seed=0, keep=0.5, dtype=None, scale=1.0):
    # The mask is a pure function of (seed, counter): the same call gives the same mask,
    # and advancing the counter (a parameter) gives a fresh one on every training step.
    rng = np.random.default_rng([int(seed), int(counter)])
    draws = rng.random(np.shape(like))
    if dtype == draws.dtype:
        # bool * scale is exactly 0 or scale; the draws' buffer is dead, so write there
        return np.multiply(draws < keep, scale, out=draws)
    return np.multiply(draws < keep, scale).astype(dtype)


def _label_rows(z: np.ndarray, labels: Any) -> tuple[np.ndarray, tuple]:
    """``z`` as (rows, classes) and the (row, label) index of each row's label entry."""
    flat = z.reshape(-1, z.shape[-1])
    idx = np.asarray(labels).reshape(-1)
    # NumPy's bounds check catches labels >= K; a negative one would quietly pick from
    # the end of the row.
    if idx.size and idx.min() < 0:
        raise _bad_labels(labels, z.shape[-1])
    return flat, (np.arange(len(idx)), idx)


def _bad_labels(labels: Any, k: int) -> IndexError:
    idx = np.asarray(labels)
    return IndexError(f"labels must lie in [0, {k}), got values from {idx.min()} to "
                      f"{idx.max()}")


def _sce_kernel(logits, labels, reduction="none"):
    # log sum_k exp(z_k) - z_label, with the row maximum taken out first (never overflows)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    flat, at = _label_rows(shifted, labels)
    try:
        picked = flat[at]
    except IndexError:
        raise _bad_labels(labels, logits.shape[-1]) from None
    lse = np.log(np.add.reduce(np.exp(shifted), axis=-1))
    rows = lse - (picked if lse.ndim == 1 else picked.reshape(lse.shape))
    if reduction == "none":
        return rows
    total = np.add.reduce(rows, axis=None)
    return total / rows.size if reduction == "mean" else total


def _sce_grad_kernel(logits, labels, g, reduction="none"):
    # g * (softmax(z) - one_hot(labels)), written into one fresh array
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= np.add.reduce(p, axis=-1, keepdims=True)
    flat, at = _label_rows(p, labels)
    try:
        flat[at] -= 1.0
    except IndexError:
        raise _bad_labels(labels, logits.shape[-1]) from None
    if reduction == "none":
        p *= np.asarray(g)[..., None]
    else:   # one weight for every row: g, or g / rows for the mean
        p *= g / len(at[1]) if reduction == "mean" else g
    return p


# --- derivative rules ---------------------------------------------------------------------
def _conv_attrs(node: Node) -> dict:
    return {"stride": node.attr("stride"), "padding": node.attr("padding")}


def _conv_vjp(node, g):
    x, w = node.inputs
    return (conv2d_input_grad(g, w, x, **_conv_attrs(node)),
            conv2d_kernel_grad(x, g, w.shape[2:], **_conv_attrs(node)))


def _conv_jvp(node, t):
    x, w = node.inputs
    a = _conv_attrs(node)
    return _sum_tangents(None if t[0] is None else conv2d(t[0], w, **a),
                         None if t[1] is None else conv2d(x, t[1], **a))


def _input_grad_vjp(node, ct):
    g, w, ref = node.inputs
    a = _conv_attrs(node)
    return (conv2d(ct, w, **a), conv2d_kernel_grad(ct, g, w.shape[2:], **a), None)


def _input_grad_jvp(node, t):
    g, w, ref = node.inputs
    a = _conv_attrs(node)
    return _sum_tangents(None if t[0] is None else conv2d_input_grad(t[0], w, ref, **a),
                         None if t[1] is None else conv2d_input_grad(g, t[1], ref, **a))


def _kernel_grad_vjp(node, ct):
    x, g = node.inputs
    a = _conv_attrs(node)
    return (conv2d_input_grad(g, ct, x, **a), conv2d(x, ct, **a))


def _kernel_grad_jvp(node, t):
    x, g = node.inputs
    a = _conv_attrs(node)
    k = node.attr("ksize")
    return _sum_tangents(None if t[0] is None else conv2d_kernel_grad(t[0], g, k, **a),
                         None if t[1] is None else conv2d_kernel_grad(x, t[1], k, **a))


def _pool_attrs(node: Node) -> dict:
    return {"size": node.attr("size"), "stride": node.attr("stride")}


def _max_pool_vjp(node, g):
    return (apply("max_pool2d_route", [node.inputs[0], g], **_pool_attrs(node)),)


def _max_pool_jvp(node, t):
    return apply("max_pool2d_gather", [node.inputs[0], t[0]], **_pool_attrs(node))


# Route and gather are linear in their second input; in x they are piecewise constant, so
# their derivative with respect to x is zero (almost everywhere) and is left out.
def _route_vjp(node, ct):
    return (None, apply("max_pool2d_gather", [node.inputs[0], ct], **_pool_attrs(node)))


def _route_jvp(node, t):
    return None if t[1] is None else apply("max_pool2d_route", [node.inputs[0], t[1]], **_pool_attrs(node))


def _gather_vjp(node, ct):
    return (None, apply("max_pool2d_route", [node.inputs[0], ct], **_pool_attrs(node)))


def _gather_jvp(node, t):
    return None if t[1] is None else apply("max_pool2d_gather", [node.inputs[0], t[1]], **_pool_attrs(node))


def _avg_pool_vjp(node, g):
    return (apply("avg_pool2d_grad", [g, node.inputs[0]], **_pool_attrs(node)),)


def _avg_pool_jvp(node, t):
    return apply("avg_pool2d", [t[0]], **_pool_attrs(node))


def _avg_grad_vjp(node, ct):
    return (apply("avg_pool2d", [ct], **_pool_attrs(node)), None)


def _avg_grad_jvp(node, t):
    return None if t[0] is None else apply("avg_pool2d_grad", [t[0], node.inputs[1]], **_pool_attrs(node))


def _p_minus_y(z: Node, labels: Node) -> Node:
    return subtract(softmax(z, axis=-1), one_hot(labels, z.shape[-1], dtype=z.dtype))


def _softmax_vjp_of(z: Node, c: Node) -> Node:
    # s * (c - sum(c * s)): the softmax Jacobian (symmetric) applied to c
    s = softmax(z, axis=-1)
    return multiply(s, subtract(c, reduce_sum(multiply(c, s), -1, keepdims=True)))


def _row_count(labels: Node, dtype: Any) -> Node:
    """The number of rows (labels), known at build time or read at run time."""
    if None not in labels.shape:
        return as_node(np.array(math.prod(labels.shape), dtype=dtype))
    return apply("axis_size", [labels], axis=tuple(range(labels.ndim)), dtype=dtype)


def _row_weights(g: Node, labels: Node, reduction: str, dtype: Any) -> Node:
    """What multiplies each row's p - y: g per row, g itself (sum) or g / rows (mean)."""
    if reduction == "none":
        return expand_dims(g, -1)
    return g if reduction == "sum" else divide(g, _row_count(labels, dtype))


def _reduce_rows(rows: Node, labels: Node, reduction: str) -> Node:
    # the same reduction the op applies to its per-row values, as symgraph ops
    if reduction == "none":
        return rows
    total = reduce_sum(rows)
    return divide(total, _row_count(labels, rows.dtype)) if reduction == "mean" else total


def _sce_vjp(node, g):
    z, labels = node.inputs
    return (apply("sparse_softmax_cross_entropy_grad", [z, labels, g],
                  reduction=node.attr("reduction")), None)


def _sce_jvp(node, t):
    z, labels = node.inputs
    if t[0] is None:
        return None
    rows = reduce_sum(multiply(_p_minus_y(z, labels), t[0]), -1)
    return _reduce_rows(rows, labels, node.attr("reduction"))


def _sce_grad_vjp(node, ct):
    z, labels, g = node.inputs
    how = node.attr("reduction")
    rows = reduce_sum(multiply(ct, _p_minus_y(z, labels)), -1)
    return (_softmax_vjp_of(z, multiply(ct, _row_weights(g, labels, how, z.dtype))), None,
            _reduce_rows(rows, labels, how))


def _sce_grad_jvp(node, t):
    z, labels, g = node.inputs
    how = node.attr("reduction")
    return _sum_tangents(
        None if t[0] is None else multiply(_row_weights(g, labels, how, z.dtype),
                                           _softmax_vjp_of(z, t[0])),
        None if t[2] is None else multiply(_row_weights(t[2], labels, how, z.dtype),
                                           _p_minus_y(z, labels)))


def _sce_check(op: str, z: TensorType, labels: TensorType, where: str) -> None:
    if z.ndim < 1 or z.dtype.kind != "f":
        raise DTypeError(f"{op}: logits must be a floating array with a class axis, got "
                         f"{z}{where}")
    if z.shape[-1] is None:
        raise ShapeError(f"{op}: the number of classes must be static, got logits of shape "
                         f"{format_shape(z.shape)}{where}")
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"{op}: labels must be integers, got {labels.dtype}{where}")
    if labels.ndim != z.ndim - 1 or any(a is not None and b is not None and a != b
                                         for a, b in zip(labels.shape, z.shape)):
        raise ShapeError(f"{op}: labels {format_shape(labels.shape)} must have the logits' "
                         f"shape {format_shape(z.shape)} without the class axis{where}")


def _sce_infer(types, attrs, where):
    z, labels = types
    _sce_check("sparse_softmax_cross_entropy", z, labels, where)
    return TensorType(z.shape[:-1] if attrs["reduction"] == "none" else (), z.dtype)


def _sce_grad_infer(types, attrs, where):
    z, labels, g = types
    _sce_check("sparse_softmax_cross_entropy_grad", z, labels, where)
    rows = attrs["reduction"] == "none"
    if g.ndim != (labels.ndim if rows else 0) or g.dtype.kind != "f":
        raise ShapeError(f"sparse_softmax_cross_entropy_grad: the cotangent {g} must be a "
                         f"floating array shaped like the labels "
                         f"{format_shape(labels.shape) if rows else '()'}{where}")
    return TensorType(z.shape, z.dtype)


def _dropout_mask_infer(types, attrs, where):
    counter, like = types
    if counter.ndim != 0 or counter.dtype.kind not in "iu":
        raise DTypeError(f"dropout_mask: the counter must be an integer scalar, got "
                         f"{counter}{where}")
    scale = attrs.get("scale", 1.0)
    if attrs["dtype"].kind not in "fc" and scale != int(scale):
        raise DTypeError(f"dropout_mask: scale {scale!r} is not a whole number, so the mask "
                         f"needs a floating dtype, got {attrs['dtype']}{where}")
    return TensorType(like.shape, attrs["dtype"])


register(Op("conv2d", _conv_infer, _conv_kernel, _conv_vjp, _conv_jvp,
            doc="2-D cross-correlation, NCHW input, (O, C, kh, kw) kernel"))
register(Op("conv2d_input_grad", _input_grad_infer, _input_grad_kernel, _input_grad_vjp,
            _input_grad_jvp, shape_only_inputs=(2,),
            doc="transposed convolution: conv2d's derivative with respect to its input"))
register(Op("conv2d_kernel_grad", _kernel_grad_infer, _kernel_grad_kernel, _kernel_grad_vjp,
            _kernel_grad_jvp, doc="correlation of input and cotangent: conv2d's kernel derivative"))
register(Op("max_pool2d", _pool_infer("max_pool2d"), _max_pool_kernel, _max_pool_vjp,
            _max_pool_jvp, doc="maximum over size x size windows"))
register(Op("max_pool2d_route", _like_input_infer(0, 1), _route_kernel, _route_vjp, _route_jvp,
            doc="sends each window's value to that window's maxima in x"))
register(Op("max_pool2d_gather", _gather_infer, _gather_kernel, _gather_vjp, _gather_jvp,
            doc="reads t at each window's maxima in x"))
register(Op("avg_pool2d", _pool_infer("avg_pool2d"), _avg_pool_kernel, _avg_pool_vjp,
            _avg_pool_jvp, doc="mean over size x size windows"))
register(Op("avg_pool2d_grad", _like_input_infer(1, 0), _avg_grad_kernel, _avg_grad_vjp,
            _avg_grad_jvp, shape_only_inputs=(1,), doc="spreads each value evenly over its window"))
register(Op("dropout_mask", _dropout_mask_infer, _dropout_mask_kernel, differentiable=False,
            shape_only_inputs=(1,),
            doc="Bernoulli(keep) mask of like's shape from (seed, counter), entries 0 or scale"))

register(Op("sparse_softmax_cross_entropy", _sce_infer, _sce_kernel, _sce_vjp, _sce_jvp,
            doc="logsumexp(z) - z[label] per row, integer labels"))
register(Op("sparse_softmax_cross_entropy_grad", _sce_grad_infer, _sce_grad_kernel,
            _sce_grad_vjp, _sce_grad_jvp,
            doc="g * (softmax(z) - one_hot(labels)): the cross-entropy's VJP"))


# --- the public functions ------------------------------------------------------------------
def _positive(op: str, **values: int) -> None:
    for key, v in values.items():
        if not isinstance(v, (int, np.integer)) or v < (0 if key == "padding" else 1):
            raise ArgumentError(f"{op}: {key} must be a {'non-negative' if key == 'padding' else 'positive'} "
                             f"int, got {v!r}")


def conv2d(x: Any, w: Any, stride: int = 1, padding: int = 0, name_: Optional[str] = None) -> Node:
    """2-D cross-correlation of ``x`` (N, C, H, W) with ``w`` (O, C, kh, kw): (N, O, H', W')."""
    _positive("conv2d", stride=stride, padding=padding)
    return apply("conv2d", [as_node(x), as_node(w)], name_, stride=int(stride), padding=int(padding))


def conv2d_input_grad(g: Any, w: Any, x: Node, stride: int = 1, padding: int = 0) -> Node:
    """The transposed convolution of ``g`` with ``w``, shaped like ``x``."""
    return apply("conv2d_input_grad", [as_node(g), as_node(w), x], stride=int(stride),
                 padding=int(padding))


def conv2d_kernel_grad(x: Any, g: Any, ksize: tuple, stride: int = 1, padding: int = 0) -> Node:
    """The correlation of ``x`` with ``g``: a (O, C, kh, kw) kernel-shaped array."""
    return apply("conv2d_kernel_grad", [as_node(x), as_node(g)], stride=int(stride),
                 padding=int(padding), ksize=tuple(int(k) for k in ksize))


def max_pool2d(x: Any, size: int = 2, stride: Optional[int] = None, name_: Optional[str] = None) -> Node:
    """Maximum over ``size x size`` windows every ``stride`` pixels (no padding)."""
    stride = size if stride is None else stride
    _positive("max_pool2d", size=size, stride=stride)
    return apply("max_pool2d", [as_node(x)], name_, size=int(size), stride=int(stride))


def avg_pool2d(x: Any, size: int = 2, stride: Optional[int] = None, name_: Optional[str] = None) -> Node:
    """Mean over ``size x size`` windows every ``stride`` pixels (no padding)."""
    stride = size if stride is None else stride
    _positive("avg_pool2d", size=size, stride=stride)
    return apply("avg_pool2d", [as_node(x)], name_, size=int(size), stride=int(stride))


def dropout_mask(counter: Node, like: Node, keep: float, seed: int, dtype: Any = None,
                 name_: Optional[str] = None, scale: float = 1.0) -> Node:
    """A mask shaped like ``like``, each entry ``scale`` with probability ``keep``, else 0.

    The mask depends only on ``seed`` and the integer scalar ``counter``: keep the counter
    in a parameter and add ``counter + 1`` to a training step's updates for a new mask
    on every call. Inverted dropout passes ``scale=1/keep``, so ``x * mask`` is the whole
    layer (one multiply forward, one backward).
    """
    if not 0.0 < keep <= 1.0:
        raise ArgumentError(f"dropout_mask: keep must be in (0, 1], got {keep!r}")
    dtype = like.dtype if dtype is None else as_dtype(dtype)
    scale = float(scale)
    attrs = {"scale": scale} if scale != 1.0 else {}   # the 0/1 mask keeps its old attrs
    return apply("dropout_mask", [as_node(counter), like], name_, seed=int(seed),
                 keep=float(keep), dtype=dtype, **attrs)


def sparse_softmax_cross_entropy(logits: Any, labels: Any, reduction: str = "none",
                                 name_: Optional[str] = None) -> Node:
    """Cross-entropy ``logsumexp(z) - z[label]`` of each row of logits ``z`` (..., K)
    against integer ``labels`` (...), per row (``reduction="none"``) or their ``"sum"`` or
    ``"mean"``: one stable kernel, whose gradient ``softmax(z) - one_hot`` is one kernel too.
    """
    if reduction not in ("none", "sum", "mean"):
        raise ArgumentError(f"sparse_softmax_cross_entropy: reduction must be 'none', 'sum' or "
                         f"'mean', got {reduction!r}")
    return apply("sparse_softmax_cross_entropy", [as_node(logits), as_node(labels)], name_,
                 reduction=reduction)
