"""Algebraic simplification: identities that remove work without changing results beyond
floating-point rounding.

Each rule fires only where the replacement provably has the node's shape at run time (the
engine also refuses any change of static type), so broadcasting is never lost: ``x + 0``
with a zero that would broadcast ``x`` to a bigger shape stays as it is.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.passes.fold import FOLD_RULES
from symgraph.passes.provenance import PassResult
from symgraph.passes.rewrite import (Rule, build, is_const_equal, make_const,
                                     operands, run_rules, same_run_time_shape,
                                     shape_safe, static)
from symgraph.types import TensorType, normalize_axes


def _same_type(a: Node, b: Node) -> bool:
    return a.type == b.type


def _add_zero(n: Node) -> Optional[Node]:
    # x + 0 -> x
    if n.op != "add":
        return None
    for x, zero in operands(n):
        if is_const_equal(zero, 0) and _same_type(x, n):
            return x
    return None


def _subtract_zero(n: Node) -> Optional[Node]:
    # x - 0 -> x ;  0 - x -> -x
    if n.op != "subtract":
        return None
    x, y = n.inputs
    if is_const_equal(y, 0) and _same_type(x, n):
        return x
    if is_const_equal(x, 0) and _same_type(y, n):
        return build("negative", [y], n, root=True)
    return None


def _multiply_one(n: Node) -> Optional[Node]:
    # x * 1 -> x ;  x / 1 -> x ;  x ** 1 -> x
    if n.op == "multiply":
        for x, one in operands(n):
            if is_const_equal(one, 1) and _same_type(x, n):
                return x
    if n.op in ("divide", "power"):
        x, one = n.inputs
        if is_const_equal(one, 1) and _same_type(x, n):
            return x
    return None


def _multiply_zero(n: Node) -> Optional[Node]:
    # x * 0 -> zeros  (static shape only; assumes x is finite, as inf * 0 would be NaN)
    if n.op != "multiply" or not static(n.shape):
        return None
    for x, zero in operands(n):
        if is_const_equal(zero, 0) and static(x.shape):
            return make_const(np.zeros((), n.dtype), n, root=True)
    return None


def _one_value(n: Node) -> bool:
    """A constant that is one number: a scalar, or an array of one repeated value (folding
    a broadcast scalar gives those)."""
    if n.op != "const":
        return False
    if n.shape == ():
        return True
    p = n.payload
    return isinstance(p, np.ndarray) and p.size > 0 and bool(np.all(p == p.flat[0]))


def _constant_factors(n: Node) -> Optional[Node]:
    # c1 * (c2 * x) -> (c1 * c2) * x   (c1, c2 constants of one value; the new factor folds)
    # (the L2 penalty's gradient is 0.5 * l2 * (2 * W): one pass over W instead of two)
    if n.op != "multiply":
        return None
    for c1, inner in operands(n):
        if inner.op != "multiply" or not _one_value(c1):
            continue
        for c2, x in operands(inner):
            if x.op != "const" and x.shape == n.shape and _one_value(c2):
                if c1.shape == () and c2.shape == ():
                    factor = build("multiply", [c1, c2], n)
                else:
                    # One number, not an array of it: x is read once, not x and the array.
                    value = np.multiply(np.asarray(c1.payload).flat[0],
                                        np.asarray(c2.payload).flat[0])
                    factor = make_const(value, n, type_=TensorType((), n.dtype))
                product = build("multiply", [factor, x], n, root=True)
                if product.type == n.type:
                    return product
    return None


def _double_negative(n: Node) -> Optional[Node]:
    # -(-x) -> x
    if n.op == "negative" and n.inputs[0].op == "negative":
        x = n.inputs[0].inputs[0]
        return x if _same_type(x, n) else None
    return None


def _add_negative(n: Node) -> Optional[Node]:
    # x + (-y) -> x - y ;  x - (-y) -> x + y
    if n.op == "add":
        for x, neg in operands(n):
            if neg.op == "negative":
                return build("subtract", [x, neg.inputs[0]], n, root=True)
    if n.op == "subtract" and n.inputs[1].op == "negative":
        return build("add", [n.inputs[0], n.inputs[1].inputs[0]], n, root=True)
    return None


def _add_subtract_cancel(n: Node) -> Optional[Node]:
    # (x + y) - y -> x   only where x + y cannot fail on shapes: with x: (3,), y: (?,)
    # the static check passed, but a y of 4 elements must still fail at run time as it
    # does unoptimised, and dropping x + y would drop that check.
    if n.op != "subtract" or n.inputs[0].op != "add" or not shape_safe(n.inputs[0]):
        return None
    y = n.inputs[1]
    for x, other in operands(n.inputs[0]):
        if other is y and _same_type(x, n):
            return x
    return None


def _transpose_transpose(n: Node) -> Optional[Node]:
    # transpose(transpose(x, a), b) -> transpose(x, a[b])  (or x when that is the identity)
    if n.op != "transpose":
        return None
    axes = n.attr("axes")
    x = n.inputs[0]
    if axes == tuple(range(len(axes))):
        return x
    if x.op != "transpose":
        return None
    inner = x.attr("axes")
    combined = tuple(inner[b] for b in axes)
    source = x.inputs[0]
    if combined == tuple(range(len(combined))):
        return source
    return build("transpose", [source], n, root=True, axes=combined)


def _reshape_chain(n: Node) -> Optional[Node]:
    # reshape(reshape(x, s1), s2) -> reshape(x, s2) ;  reshape(x, x.shape) -> x
    if n.op != "reshape":
        return None
    x = n.inputs[0]
    if static(x.shape) and x.shape == n.shape and _same_type(x, n):
        return x
    if x.op == "reshape":
        return build("reshape", [x.inputs[0]], n, root=True, shape=n.attr("shape"))
    return None


def _squeeze_expand(n: Node) -> Optional[Node]:
    # squeeze(expand_dims(x, a), a) -> x ;  expand_dims(squeeze(x, a), a) -> x
    if n.op == "squeeze" and n.inputs[0].op == "expand_dims":
        inner = n.inputs[0]
        axes = normalize_axes("squeeze", n.attr("axis"), inner.ndim)
        inner_axes = normalize_axes("expand_dims", inner.attr("axis"), inner.ndim)
        if axes == inner_axes:
            return inner.inputs[0]
    if n.op == "expand_dims" and n.inputs[0].op == "squeeze":
        inner = n.inputs[0]
        source = inner.inputs[0]
        axes = normalize_axes("expand_dims", n.attr("axis"), n.ndim)
        inner_axes = normalize_axes("squeeze", inner.attr("axis"), source.ndim)
        if axes == inner_axes and static(source.shape) and _same_type(source, n):
            return source
    return None


def _broadcast_noop(n: Node) -> Optional[Node]:
    # broadcast_like(x, r) -> x, broadcast_to(x, s) -> x, sum_to_like(x, r) -> x,
    # when x already has the result's fully known shape, or provably r's run-time shape
    # (then sizes may be unknown: binary cross-entropy with an unknown batch size needs it)
    if n.op not in ("broadcast_like", "broadcast_to", "sum_to_like"):
        return None
    x = n.inputs[0]
    if not _same_type(x, n) or not all(shape_safe(r) for r in n.inputs[1:]):
        return None
    if static(n.shape) or (n.op != "broadcast_to" and same_run_time_shape(x, n.inputs[1])):
        return x
    return None


def _sum_to_like_as_sum(n: Node) -> Optional[Node]:
    # sum_to_like(x, r) -> sum(x, axes)  (static shapes, or x = (..., *r.shape): which
    # axes to sum is known now)
    if n.op != "sum_to_like":
        return None
    x, ref = n.inputs
    if not shape_safe(ref):        # the sum would no longer compute ref, nor its shape check
        return None
    lead = x.ndim - ref.ndim
    if lead > 0 and static(ref.shape) and x.shape[lead:] == ref.shape:
        # Only leading axes to sum, whatever their sizes: no need to know them now.
        return build("sum", [x], n, root=True, axis=tuple(range(lead)), keepdims=False)
    if not (static(x.shape) and static(ref.shape)) or x.shape == ref.shape:
        return None
    lead = x.ndim - ref.ndim
    stretched = tuple(lead + i for i, d in enumerate(ref.shape)
                      if d == 1 and x.shape[lead + i] != 1)
    if not stretched:
        return build("sum", [x], n, root=True, axis=tuple(range(lead)), keepdims=False)
    kept = build("sum", [x], n, axis=tuple(range(lead)) + stretched, keepdims=True)
    if lead == 0:
        return kept
    return build("reshape", [kept], n, root=True, shape=ref.shape)


def _sum_of_broadcast(n: Node) -> Optional[Node]:
    # sum(broadcast(s)) -> s * size   for a scalar s summed over every axis
    if n.op != "sum" or n.attr("keepdims") or n.shape != ():
        return None
    b = n.inputs[0]
    if b.op not in ("broadcast_like", "broadcast_to") or not static(b.shape):
        return None
    s = b.inputs[0]
    if s.shape != () or s.dtype.kind not in "fc" or s.dtype != n.dtype:
        return None
    count = make_const(np.array(math.prod(b.shape), dtype=n.dtype), s)
    return build("multiply", [s, count], n, root=True)


def _cast_noop(n: Node) -> Optional[Node]:
    # cast(x, x.dtype) -> x ;  stop_gradient(x) -> x  (it only matters to differentiation)
    if n.op in ("cast", "stop_gradient") and _same_type(n.inputs[0], n):
        return n.inputs[0]
    return None


SIMPLIFY_RULES = (
    Rule("add_zero", _add_zero, ops=("add",)),
    Rule("subtract_zero", _subtract_zero, ops=("subtract",)),
    Rule("multiply_one", _multiply_one, ops=("multiply", "divide", "power")),
    Rule("multiply_zero", _multiply_zero, ops=("multiply",)),
    Rule("constant_factors", _constant_factors, ops=("multiply",)),
    Rule("double_negative", _double_negative, ops=("negative",)),
    Rule("add_negative", _add_negative, ops=("add", "subtract")),
    Rule("add_subtract_cancel", _add_subtract_cancel, ops=("subtract",)),
    Rule("transpose_transpose", _transpose_transpose, ops=("transpose",)),
    Rule("reshape_chain", _reshape_chain, ops=("reshape",)),
    Rule("squeeze_expand", _squeeze_expand, ops=("squeeze", "expand_dims")),
    Rule("broadcast_noop", _broadcast_noop, ops=("broadcast_like", "broadcast_to", "sum_to_like")),
    Rule("sum_to_like_as_sum", _sum_to_like_as_sum, ops=("sum_to_like",)),
    Rule("sum_of_broadcast", _sum_of_broadcast, ops=("sum",)),
    Rule("cast_noop", _cast_noop, ops=("cast", "stop_gradient")),
)


def simplify(outputs: Sequence[Node]) -> PassResult:
    """Apply the algebraic identities above until none fires (folding what they leave
    computable from constants alone)."""
    return run_rules(outputs, FOLD_RULES + SIMPLIFY_RULES, "simplify")
