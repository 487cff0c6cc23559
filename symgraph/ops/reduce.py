"""Reductions over axes (sum, prod, mean, max, min, logsumexp, argmax/argmin, all/any), the
statistics built from them (variance, std, average, ptp, count_nonzero) and the softmax
family. The NaN-ignoring versions are in ``nanfunctions.py``.

max and min share the derivative equally among tied maxima (see ``_argmax_weights``);
argmax, argmin, all, any and count_nonzero have no derivative.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import (abs, cast, divide, equal, exp, greater,
                                      multiply, not_equal, sqrt, square, subtract, where)
from symgraph.ops.registry import Op, apply, as_node, const, no_out, register
from symgraph.ops.scan import accumulator_dtype, exclusive_product
from symgraph.ops.shape import broadcast_like, expand_dims, reshape
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
        if name in ("sum", "prod"):
            dtype = accumulator_dtype(dtype)
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


def _others_product(x: Node, axes: tuple[int, ...]) -> Node:
    """prod over ``axes`` of every element but the one at each position, exact with zeros.

    Over axes (a, rest...): the product of the others along a, times (broadcast along a)
    the same for ``rest`` of the products along a. Recursion is over axes, not the graph.
    """
    out = exclusive_product(x, axes[0])
    if len(axes) > 1:
        out = multiply(out, _others_product(prod(x, axes[0], keepdims=True), axes[1:]))
    return out


# d prod(x) = sum_i (prod_{j != i} x_j) dx_i: no division, so zeros are no special case
def _prod_vjp(node, g):
    x = node.inputs[0]
    if not _axes(node):              # a product over no axes (of a 0-d x) is x itself
        return (g,)
    return (multiply(broadcast_like(_keep(node, g), x), _others_product(x, _axes(node))),)


def _prod_jvp(node, t):
    if not _axes(node):
        return t[0]
    others = _others_product(node.inputs[0], _axes(node))
    return sum(multiply(t[0], others), _axes(node), node.attr("keepdims"))


def _arg_infer(name: str):
    def infer(types, attrs, where):
        x = types[0]
        axis, keep = attrs["axis"], attrs["keepdims"]
        if axis is None:
            shape = (1,) * x.ndim if keep else ()
        else:
            axis = normalize_axes(name, axis, x.ndim, where)[0]
            shape = x.shape[:axis] + ((1,) if keep else ()) + x.shape[axis + 1:]
        return TensorType(shape, np.dtype(np.intp))
    return infer


def _bool_reduce_infer(name: str):
    base = _reduce_infer(name)

    def infer(types, attrs, where):
        return TensorType(base(types, attrs, where).shape, np.dtype(bool))
    return infer


register(Op("sum", _reduce_infer("sum"), lambda x, axis=None, keepdims=False:
            np.sum(x, axis=axis, keepdims=keepdims), _sum_vjp, _sum_jvp, complex_ok=True))
register(Op("prod", _reduce_infer("prod"), lambda x, axis=None, keepdims=False:
            np.prod(x, axis=axis, keepdims=keepdims), _prod_vjp, _prod_jvp, complex_ok=True))
register(Op("mean", _reduce_infer("mean", float_out=True), lambda x, axis=None, keepdims=False:
            np.mean(x, axis=axis, keepdims=keepdims), _mean_vjp, _mean_jvp, complex_ok=True))
register(Op("argmax", _arg_infer("argmax"), lambda x, axis=None, keepdims=False:
            np.argmax(x, axis=axis, keepdims=keepdims), differentiable=False))
register(Op("argmin", _arg_infer("argmin"), lambda x, axis=None, keepdims=False:
            np.argmin(x, axis=axis, keepdims=keepdims), differentiable=False))
register(Op("all", _bool_reduce_infer("all"), lambda x, axis=None, keepdims=False:
            np.all(x, axis=axis, keepdims=keepdims), differentiable=False))
register(Op("any", _bool_reduce_infer("any"), lambda x, axis=None, keepdims=False:
            np.any(x, axis=axis, keepdims=keepdims), differentiable=False))
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
    def reduce(x: Any, axis: Any = None, keepdims: bool = False, name_: Optional[str] = None,
               *, dtype: Any = None) -> Node:
        x = as_node(x)
        if dtype is not None:    # NumPy's dtype=: the dtype to accumulate in and return
            x = cast(x, dtype)
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


def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         name_: Optional[str] = None) -> Node:
    """NumPy's ``prod`` over ``axis`` (all axes by default). Its derivative is the product
    of the other elements, exact where some are zero."""
    no_out("prod", out)
    a = as_node(a) if dtype is None else cast(as_node(a), dtype)
    return apply("prod", [a], name_, axis=_user_axes("prod", axis, a.ndim),
                 keepdims=bool(keepdims))


def softmax(x: Any, axis: int = -1, name_: Optional[str] = None) -> Node:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    x = as_node(x)
    return apply("softmax", [x], name_, axis=_user_axes("softmax", axis, x.ndim))


def log_softmax(x: Any, axis: int = -1, name_: Optional[str] = None) -> Node:
    """x - logsumexp(x) along ``axis``, computed stably."""
    x = as_node(x)
    return apply("log_softmax", [x], name_, axis=_user_axes("log_softmax", axis, x.ndim))


# --- reductions without a derivative ---------------------------------------------------------
def _arg(name: str, summary: str):
    def fn(a: Any, axis: Optional[int] = None, out: Any = None, *, keepdims: bool = False,
           name_: Optional[str] = None) -> Node:
        no_out(name, out)
        a = as_node(a)
        if axis is not None:
            if not isinstance(axis, (int, np.integer)):
                raise ArgumentError(f"{name}: axis must be an int or None, got {axis!r}")
            axis = _user_axes(name, int(axis), a.ndim)[0]
        return apply(name, [a], name_, axis=axis, keepdims=bool(keepdims))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = summary
    return fn


argmax = _arg("argmax", "The index of the largest element along ``axis`` (of the flattened "
                        "array by default); the first one among ties, as NumPy. No derivative.")
argmin = _arg("argmin", "The index of the smallest element along ``axis`` (of the flattened "
                        "array by default); the first one among ties, as NumPy. No derivative.")


def _logical_reducer(name: str, summary: str):
    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Node:
        no_out(name, out)
        a = as_node(a)
        return apply(name, [a], axis=_user_axes(name, axis, a.ndim), keepdims=bool(keepdims))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = summary
    return fn


all = _logical_reducer("all", "True where every element along ``axis`` is nonzero "  # noqa: A001
                       "(no derivative).")
any = _logical_reducer("any", "True where some element along ``axis`` is nonzero "  # noqa: A001
                       "(no derivative).")


def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Node:
    """The range max - min along ``axis``, as ``np.ptp`` (ties share the derivative as in
    ``max`` and ``min``)."""
    no_out("ptp", out)
    a = as_node(a)
    return subtract(max(a, axis, keepdims), min(a, axis, keepdims))


def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Node:
    """How many elements along ``axis`` are nonzero (no derivative)."""
    return sum(not_equal(a, 0), axis, keepdims)


# --- statistics: compositions of the ops above ------------------------------------------------
def float_input(fn: str, x: Any, dtype: Any) -> Node:
    x = as_node(x)
    if dtype is not None:
        x = cast(x, dtype)
    elif x.dtype.kind not in "fc":
        x = cast(x, "float64")       # NumPy's statistics of integers are float64
    return x


def reduced_count(x: Node, axes: tuple[int, ...]) -> Node:
    """The number of elements each output gathers, a real node of x's precision."""
    dtype = np.dtype(np.finfo(x.dtype).dtype)      # float32 for complex64, say
    sizes = [x.shape[a] for a in axes]
    if None not in sizes:
        return const(np.array(math.prod(sizes), dtype=dtype))
    return apply("axis_size", [x], axis=axes, dtype=dtype)


def variance(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
             keepdims: bool = False, *, correction: Optional[float] = None) -> Node:
    """NumPy's ``var``: the mean squared deviation from the mean along ``axis``, divided by
    ``N - ddof`` instead of ``N`` (``correction`` is NumPy 2's other name for ``ddof``). For
    complex ``x``, the mean of ``|x - mean|**2``. Named ``variance`` because ``sg.var``
    makes an input; ``symgraph.numpy.var`` is this function."""
    no_out("variance", out)
    if correction is not None:
        if ddof:
            raise ArgumentError("variance: give ddof or correction, not both")
        ddof = correction
    x = float_input("variance", x, dtype)
    axes = _user_axes("variance", axis, x.ndim)
    d = subtract(x, mean(x, axes, keepdims=True))
    sq = square(abs(d)) if x.dtype.kind == "c" else square(d)
    return divide(sum(sq, axes, keepdims), subtract(reduced_count(x, axes), ddof))


def std(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
        keepdims: bool = False, *, correction: Optional[float] = None) -> Node:
    """NumPy's ``std``: the square root of ``variance`` (same arguments). Where the
    variance is 0 the derivative is taken as 0: exact when ``axis`` has one element (std is
    then constant), the subgradient nearest 0 where several elements are equal."""
    no_out("std", out)
    return sqrt_of_variance(variance(x, axis, dtype, None, ddof, keepdims, correction=correction))


def sqrt_of_variance(v: Node) -> Node:
    """sqrt(v) with derivative 0 where v = 0 (sqrt'(0) is infinite, and times dv = 0 NaN);
    the unused branch gets a safe 1."""
    positive = greater(v, 0)
    return where(positive, sqrt(where(positive, v, 1)), 0)


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False):
    """NumPy's ``average``: the mean along ``axis`` weighted by ``weights`` (the shape of
    ``a``, or 1-D along a single ``axis``). ``returned=True`` also gives the sum of the
    weights, broadcast to the result's shape."""
    a = float_input("average", a, None)
    axes = _user_axes("average", axis, a.ndim)
    if weights is None:
        avg = mean(a, axes, keepdims)
        return (avg, broadcast_like(reduced_count(a, axes), avg)) if returned else avg
    w = as_node(weights)
    if w.shape != a.shape:
        if axis is None or len(axes) != 1 or w.ndim != 1:
            raise ShapeError(f"average: weights of shape {w.shape} differ from a's shape "
                             f"{a.shape}; give 1-D weights with a single axis")
        w = reshape(w, tuple(-1 if i == axes[0] else 1 for i in range(a.ndim)))
    scale = sum(broadcast_like(w, multiply(a, w)), axes, keepdims)
    avg = divide(sum(multiply(a, w), axes, keepdims), scale)
    return (avg, broadcast_like(scale, avg)) if returned else avg
