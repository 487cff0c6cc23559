"""Numerical stabilisation: rewrite formulas that overflow, underflow or cancel into the
forms that do not, e.g. ``log(softmax(x))`` (``log(0) = -inf`` once a probability
underflows) into ``log_softmax(x)``.

These rules change results only where the naive form had lost them (``-inf``, ``nan``,
cancelled digits); elsewhere they agree up to rounding.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.passes.provenance import PassResult
from symgraph.passes.rewrite import (Rule, build, const_value, is_const_equal, operands,
                                     run_rules, static)


def _log_softmax(n: Node) -> Optional[Node]:
    # log(softmax(x)) -> log_softmax(x)
    if n.op != "log" or n.inputs[0].op != "softmax":
        return None
    s = n.inputs[0]
    return build("log_softmax", [s.inputs[0]], n, root=True, axis=s.attr("axis"))


def _log_softmax_picked(n: Node) -> Optional[Node]:
    # log(softmax(x)[i, j]) -> log_softmax(x)[i, j]   (picking class probabilities)
    if n.op != "log" or n.inputs[0].op != "getitem":
        return None
    pick = n.inputs[0]
    s = pick.inputs[0]
    if s.op != "softmax":
        return None
    logp = build("log_softmax", [s.inputs[0]], n, axis=s.attr("axis"))
    return build("getitem", [logp, *pick.inputs[1:]], n, root=True, index=pick.attr("index"))


def _log_sigmoid(n: Node) -> Optional[Node]:
    # log(sigmoid(x)) -> -softplus(-x)
    if n.op != "log" or n.inputs[0].op != "sigmoid":
        return None
    x = n.inputs[0].inputs[0]
    return build("negative", [build("softplus", [build("negative", [x], n)], n)], n, root=True)


def _log1p(n: Node) -> Optional[Node]:
    # log(1 + x) -> log1p(x) ;  log(1 - x) -> log1p(-x)
    if n.op != "log":
        return None
    inner = n.inputs[0]
    if inner.op == "add":
        for one, x in operands(inner):
            if is_const_equal(one, 1) and one.shape == ():
                return build("log1p", [x], n, root=True)
    if inner.op == "subtract":
        one, x = inner.inputs
        if is_const_equal(one, 1) and one.shape == () and x.op != "sigmoid":
            return build("log1p", [build("negative", [x], n)], n, root=True)
    return None


def _log_one_minus_sigmoid(n: Node) -> Optional[Node]:
    # log(1 - sigmoid(x)) -> -softplus(x)
    if n.op != "log" or n.inputs[0].op != "subtract":
        return None
    one, s = n.inputs[0].inputs
    if not (is_const_equal(one, 1) and one.shape == () and s.op == "sigmoid"):
        return None
    return build("negative", [build("softplus", [s.inputs[0]], n)], n, root=True)


def _expm1(n: Node) -> Optional[Node]:
    # exp(x) - 1 -> expm1(x)
    if n.op != "subtract" or n.inputs[0].op != "exp":
        return None
    one = n.inputs[1]
    if is_const_equal(one, 1) and one.shape == ():
        return build("expm1", [n.inputs[0].inputs[0]], n, root=True)
    return None


def _logsumexp(n: Node) -> Optional[Node]:
    # log(sum(exp(x))) -> logsumexp(x)
    if n.op != "log" or n.inputs[0].op != "sum" or n.inputs[0].inputs[0].op != "exp":
        return None
    total = n.inputs[0]
    x = total.inputs[0].inputs[0]
    if x.dtype.kind == "c":     # the max shift is for reals; complex logs keep their branch
        return None
    return build("logsumexp", [x], n, root=True, axis=total.attr("axis"),
                 keepdims=total.attr("keepdims"))


def _softmax_log_grad(n: Node) -> Optional[Node]:
    # s * (g/s - sum(g/s * s)) -> g - exp(log_softmax(z)) * sum(g)   for s = softmax(z):
    # the cotangent of z through log(softmax(z)), without dividing by probabilities that
    # may have underflowed to 0
    if n.op != "multiply":
        return None
    for s, d in operands(n):
        if s.op != "softmax" or d.op != "subtract":
            continue
        a, total = d.inputs
        g = _over(a, s)
        if g is None or total.op != "sum" or total.attr("axis") != s.attr("axis"):
            continue
        if not total.attr("keepdims") or total.inputs[0].op != "multiply":
            continue
        if not any(p is a and q is s for p, q in operands(total.inputs[0])):
            continue
        if g.type != a.type:
            continue
        g_sum = build("sum", [g], n, axis=s.attr("axis"), keepdims=True)
        # p = exp(log_softmax(z)): the forward pass already has log_softmax(z) (from
        # log(softmax(z))), so CSE shares it and softmax(z) need not run at all.
        logp = build("log_softmax", [s.inputs[0]], n, axis=s.attr("axis"))
        p = build("exp", [logp], n)
        return build("subtract", [g, build("multiply", [p, g_sum], n)], n, root=True)
    return None


def _sigmoid_log_grad(n: Node) -> Optional[Node]:
    # (g / s) * s(1 - s) -> g * (1 - s) ;  (g / (1 - s)) * s(1 - s) -> g * s
    # (also for a sum or difference of such terms, and their negatives) for s = sigmoid(z):
    # the cotangents of z through log(s) and log(1 - s), which divide by a probability that
    # may have rounded to 0 or 1
    if n.op != "multiply":
        return None
    for x, d in operands(n):
        s, one_minus = _sigmoid_slope(d)
        if s is None:
            continue
        if x.op in ("add", "subtract"):
            parts = [_times_slope(t, s, one_minus, n) for t in x.inputs]
            if all(p is not None for p in parts):
                return build(x.op, parts, n, root=True)
            continue
        out = _times_slope(x, s, one_minus, n)
        if out is not None:
            return out
    return None


def _times_slope(term: Node, s: Node, one_minus: Node, like: Node) -> Optional[Node]:
    """``term * s(1 - s)`` without the division, when ``term`` is ``[-](g / s)`` or
    ``[-](g / (1 - s))``; else ``None``."""
    negated = term.op == "negative"
    t = term.inputs[0] if negated else term
    g = _over(t, s)
    factor = one_minus
    if g is None:
        g = _over_any(t, lambda r: _is_one_minus(r, s))
        factor = s
    if g is None or g.type != t.type:
        return None
    out = build("multiply", [g, factor], like)
    return build("negative", [out], like) if negated else out


def _sigmoid_slope(d: Node) -> tuple[Optional[Node], Optional[Node]]:
    """``(s, 1 - s)`` when ``d`` is ``s * (1 - s)`` for ``s = sigmoid(z)``."""
    if d.op != "multiply":
        return None, None
    for s, one_minus in operands(d):
        if s.op == "sigmoid" and _is_one_minus(one_minus, s):
            return s, one_minus
    return None, None


def _is_one_minus(r: Node, s: Node) -> bool:
    return (r.op == "subtract" and r.inputs[1] is s and r.inputs[0].shape == ()
            and is_const_equal(r.inputs[0], 1))


def _over_any(a: Node, test) -> Optional[Node]:
    """``g`` when ``a`` is ``g * reciprocal(r)`` with ``test(r)`` true, else ``None``."""
    if a.op != "multiply":
        return None
    for g, r in operands(a):
        if r.op == "reciprocal" and test(r.inputs[0]):
            return g
    return None


def _over(a: Node, s: Node) -> Optional[Node]:
    """``g`` when ``a`` is ``g * reciprocal(s)`` (either order), else ``None``."""
    if a.op != "multiply":
        return None
    for g, r in operands(a):
        if r.op == "reciprocal" and r.inputs[0] is s:
            return g
    return None


def _picked_row_sum(n: Node) -> Optional[Node]:
    # sum(scatter of v at [arange(n), j], axis=1) -> v   (one entry per row, the rest zero)
    if n.op != "sum" or n.inputs[0].op != "getitem_grad" or n.attr("axis") != (1,):
        return None
    scatter = n.inputs[0]
    if scatter.attr("index") != (("array", 0), ("array", 1)) or len(scatter.inputs) != 4:
        return None
    v, ref, rows, cols = scatter.inputs
    if ref.ndim != 2 or not static(ref.shape) or v.shape != (ref.shape[0],):
        return None
    r = const_value(rows)
    if r is None or r.shape != (ref.shape[0],) or not np.array_equal(r, np.arange(ref.shape[0])):
        return None
    if cols.shape != (ref.shape[0],) or v.dtype != n.dtype:
        return None
    if n.attr("keepdims"):
        return build("expand_dims", [v], n, root=True, axis=(1,))
    return v


STABILIZE_RULES = (
    Rule("log_softmax", _log_softmax, ops=("log",)),
    Rule("log_softmax_picked", _log_softmax_picked, ops=("log",)),
    Rule("log_sigmoid", _log_sigmoid, ops=("log",)),
    Rule("log1p", _log1p, ops=("log",)),
    Rule("log_one_minus_sigmoid", _log_one_minus_sigmoid, ops=("log",)),
    Rule("expm1", _expm1, ops=("subtract",)),
    Rule("logsumexp", _logsumexp, ops=("log",)),
    Rule("softmax_log_grad", _softmax_log_grad, ops=("multiply",)),
    Rule("sigmoid_log_grad", _sigmoid_log_grad, ops=("multiply",)),
    Rule("picked_row_sum", _picked_row_sum, ops=("sum",)),
)


def stabilize(outputs: Sequence[Node]) -> PassResult:
    """Rewrite unstable formulas into their stable forms."""
    return run_rules(outputs, STABILIZE_RULES, "stabilize")
