"""Reductions over axes (sum, mean, max, min, logsumexp) and the softmax family."""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from symgraph.graph import Node
from symgraph.ops.elementwise import cast, divide, equal, exp, multiply, subtract
from symgraph.ops.registry import Op, apply, as_node, const, register
from symgraph.ops.shape import broadcast_like, expand_dims
from symgraph.types import TensorType, normalize_axes


def _reduce_infer(name: str, float_out: bool = False):
    def infer(types, attrs, where):
        x = types[0]
        axes = normalize_axes(name, attrs["axis"], x.ndim, where)
        if attrs["keepdims"]:
            shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
        else:
            shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        dtype = x.dtype
        if name == "sum" and dtype.kind == "b":
            dtype = np.dtype(np.int64)
        if float_out and dtype.kind not in "fc":
            dtype = np.dtype(np.float64)
        return TensorType(shape, dtype)
    return infer


def _axes(node: Node) -> tuple[int, ...]:
    return normalize_axes(node.op, node.attr("axis"), node.inputs[0].ndim)


def _keep(node: Node, y: Node) -> Node:
    """``y`` (a reduction result) with the reduced axes put back as size 1."""
    return y if node.attr("keepdims") else expand_dims(y, _axes(node))


def _count(node: Node) -> Node:
    """How many elements each output of a reduction gathers, as a node of x's dtype."""
    x = node.inputs[0]
    sizes = [x.shape[a] for a in _axes(node)]
    if None not in sizes:
        return const(np.array(math.prod(sizes), dtype=node.dtype))
    return apply("axis_size", [x], axis=_axes(node), dtype=node.dtype)


def _sum_vjp(node, g): return (broadcast_like(_keep(node, g), node.inputs[0]),)
def _sum_jvp(node, t): return sum(t[0], node.attr("axis"), node.attr("keepdims"))
def _mean_vjp(node, g): return (divide(broadcast_like(_keep(node, g), node.inputs[0]), _count(node)),)
def _mean_jvp(node, t): return mean(t[0], node.attr("axis"), node.attr("keepdims"))


def _argmax_weights(node: Node) -> Node:
    # Ties share the derivative equally, so the rule is symmetric and matches the
    # subgradient that finite differences see in the average.
    x = node.inputs[0]
    mask = cast(equal(x, _keep(node, node)), x.dtype)
    return divide(mask, sum(mask, _axes(node), keepdims=True))


def _extremum_vjp(node, g): return (multiply(_keep(node, g), _argmax_weights(node)),)
def _extremum_jvp(node, t):
    return sum(multiply(t[0], _argmax_weights(node)), _axes(node), node.attr("keepdims"))


def _lse_weights(node: Node) -> Node:
    return exp(subtract(node.inputs[0], _keep(node, node)))


def _lse_vjp(node, g): return (multiply(_keep(node, g), _lse_weights(node)),)
def _lse_jvp(node, t):
    return sum(multiply(t[0], _lse_weights(node)), _axes(node), node.attr("keepdims"))


def _lse_kernel(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _axis_size_kernel(x, axis=(), dtype=None):
    return np.array(math.prod(np.shape(x)[a] for a in axis), dtype=dtype)


register(Op("sum", _reduce_infer("sum"), lambda x, axis=None, keepdims=False:
            np.sum(x, axis=axis, keepdims=keepdims), _sum_vjp, _sum_jvp))
register(Op("mean", _reduce_infer("mean", float_out=True), lambda x, axis=None, keepdims=False:
            np.mean(x, axis=axis, keepdims=keepdims), _mean_vjp, _mean_jvp))
register(Op("max", _reduce_infer("max"), lambda x, axis=None, keepdims=False:
            np.max(x, axis=axis, keepdims=keepdims), _extremum_vjp, _extremum_jvp))
register(Op("min", _reduce_infer("min"), lambda x, axis=None, keepdims=False:
            np.min(x, axis=axis, keepdims=keepdims), _extremum_vjp, _extremum_jvp))
register(Op("logsumexp", _reduce_infer("logsumexp", float_out=True), _lse_kernel, _lse_vjp, _lse_jvp))
register(Op("axis_size", lambda types, attrs, where: TensorType((), attrs["dtype"]),
            _axis_size_kernel, differentiable=False, shape_only_inputs=(0,)))


# --- softmax and log_softmax --------------------------------------------------------------
def _softmax_infer(name: str):
    def infer(types, attrs, where):
        x = types[0]
        normalize_axes(name, attrs["axis"], x.ndim, where)
        dtype = x.dtype if x.dtype.kind in "fc" else np.dtype(np.float64)
        return TensorType(x.shape, dtype)
    return infer


def _softmax_kernel(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def _log_softmax_kernel(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _softmax_vjp(node, g):
    # y * (g - sum(g * y))
    inner = sum(multiply(g, node), node.attr("axis"), keepdims=True)
    return (multiply(node, subtract(g, inner)),)


def _softmax_jvp(node, t):
    inner = sum(multiply(t[0], node), node.attr("axis"), keepdims=True)
    return multiply(node, subtract(t[0], inner))


def _log_softmax_vjp(node, g):
    # g - softmax(x) * sum(g)
    return (subtract(g, multiply(exp(node), sum(g, node.attr("axis"), keepdims=True))),)


def _log_softmax_jvp(node, t):
    return subtract(t[0], sum(multiply(exp(node), t[0]), node.attr("axis"), keepdims=True))


register(Op("softmax", _softmax_infer("softmax"), _softmax_kernel, _softmax_vjp, _softmax_jvp))
register(Op("log_softmax", _softmax_infer("log_softmax"), _log_softmax_kernel,
            _log_softmax_vjp, _log_softmax_jvp))


# --- the public functions ------------------------------------------------------------------
def _user_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``normalize_axes``; its error names the user's line (every SymgraphError does)."""
    return normalize_axes(op, axis, ndim)


def _reducer(name: str):
    def reduce(x: Any, axis: Any = None, keepdims: bool = False, name_: Optional[str] = None) -> Node:
        x = as_node(x)
        axes = _user_axes(name, axis, x.ndim)
        return apply(name, [x], name_, axis=axes, keepdims=bool(keepdims))
    reduce.__name__ = name
    reduce.__doc__ = (f"NumPy's ``{name}`` over ``axis`` (all axes by default)." if name != "logsumexp"
                      else "log(sum(exp(x))) over ``axis`` (all axes by default), without overflow.")
    return reduce


sum = _reducer("sum")  # noqa: A001 - NumPy's name
mean = _reducer("mean")
max = _reducer("max")  # noqa: A001
min = _reducer("min")  # noqa: A001
logsumexp = _reducer("logsumexp")


def softmax(x: Any, axis: int = -1, name_: Optional[str] = None) -> Node:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    x = as_node(x)
    return apply("softmax", [x], name_, axis=_user_axes("softmax", axis, x.ndim))


def log_softmax(x: Any, axis: int = -1, name_: Optional[str] = None) -> Node:
    """x - logsumexp(x) along ``axis``, computed stably."""
    x = as_node(x)
    return apply("log_softmax", [x], name_, axis=_user_axes("log_softmax", axis, x.ndim))
