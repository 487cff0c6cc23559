"""Taylor mode: univariate higher-order forward mode.

Along a line x(t) = x + t v, every node's value is a power series y(t) = y_0 + y_1 t +
y_2 t^2 + ..., and its k-th derivative along v is k! y_k. This pass computes the
coefficients y_1..y_K of every node in one forward sweep, with the classic recurrences of
Taylor arithmetic (products are Cauchy products; exp, tanh, log, ... follow from the
differential equation each function satisfies). The cost is O(K^2) nodes per op, so the
n-th derivative of a deep composition grows polynomially without leaning on CSE.

Ops that are linear in their inputs (sums, reshapes, indexing, ...) or piecewise linear
(relu, where, max, ...) map each coefficient by their own JVP rule; ops without a rule here
raise ``NotImplementedError`` (use ``nth_derivatives(mode="forward")`` for those).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.graph import Node, building_gradient, toposort
from symgraph.ops.elementwise import (add, cos, divide, multiply, negative, sigmoid, sin, square,
                                      subtract)
from symgraph.ops.registry import apply, const, get_op
from symgraph.ops.shape import zeros_like
from symgraph.autodiff.forward import _fit
from symgraph.autodiff.reverse import _check_wrt, check_complex_rules
from symgraph.errors import ArgumentError

Coef = Optional[Node]            # None is a zero coefficient, never built
Series = list                    # [y_0 (the node itself), y_1, ..., y_K]

# Each coefficient is the op's JVP rule applied to the inputs' coefficients: exact for ops
# linear in their inputs, and for piecewise-linear ops away from their kinks.
LINEAR_OPS = frozenset({
    "add", "subtract", "negative", "sum", "mean", "reshape", "transpose", "expand_dims", "pad",
    "squeeze", "broadcast_to", "broadcast_like", "sum_to_like", "getitem", "getitem_grad",
    "concat_part",
    "concatenate", "stack", "cast", "where", "maximum", "minimum", "relu", "abs", "clip",
    "max", "min", "stop_gradient", "avg_pool2d", "max_pool2d",
    "cumsum", "real", "imag", "conj", "deg2rad", "rad2deg", "remainder", "fmod", "nan_to_num",
    "fmax", "fmin", "copysign", "fft_c2c", "rfft", "irfft", "fftshift",
})
# The part of LINEAR_OPS that is linear only piecewise, between kinks.
PIECEWISE_LINEAR_OPS = frozenset({"maximum", "minimum", "relu", "abs", "clip", "max", "min",
                                  "max_pool2d", "remainder", "fmod", "fmax", "fmin",
                                  "copysign"})
# Linear in each input separately: coefficient k is sum_j op(a_j, b_{k-j}).
BILINEAR_OPS = frozenset({"multiply", "matmul"})


def _add_all(terms: Sequence[Coef]) -> Coef:
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else add(out, t)
    return out


def _scale(t: Coef, c: float) -> Coef:
    # Python floats stay weak, so a float32 series stays float32.
    if t is None or c == 1:
        return t
    return multiply(t, float(c))


def _cauchy(a: Series, b: Series, k: int, op: Callable[[Node, Node], Node] = multiply) -> Coef:
    """Coefficient k of the product a b: sum_{j=0..k} op(a_j, b_{k-j})."""
    return _add_all([op(a[j], b[k - j]) for j in range(k + 1)
                     if a[j] is not None and b[k - j] is not None])


def _square_coef(y: Series, m: int, sign: float = 1.0) -> Coef:
    """Coefficient m of sign * y^2, using the symmetry of the Cauchy product (half the
    products); the sign rides on the factor 2 so -y^2 costs no extra node when m is odd."""
    pairs = [multiply(y[i], y[m - i]) for i in range((m + 1) // 2)
             if y[i] is not None and y[m - i] is not None]
    twice = _scale(_add_all(pairs), 2.0 * sign)
    middle = square(y[m // 2]) if m % 2 == 0 and y[m // 2] is not None else None
    if middle is None:
        return twice
    if sign > 0:
        return middle if twice is None else add(twice, middle)
    return negative(middle) if twice is None else subtract(twice, middle)


def _ode_coef(u: Series, z: Series, k: int) -> Coef:
    """Coefficient k of y when y' = z u': (1/k) sum_{j=1..k} j u_j z_{k-j}."""
    # j/k folded into one factor per term; the j = k term needs none.
    return _add_all([_scale(multiply(u[j], z[k - j]), j / k) for j in range(1, k + 1)
                     if u[j] is not None and z[k - j] is not None])


def _ode_series(u: Series, y0: Node, z0: Node, K: int,
                z_next: Callable[[Series, int], Coef]) -> Series:
    """Series of y with y' = z u', where z_m follows from y_0..y_m (``z_next(y, m)``)."""
    y: Series = [y0]
    z: Series = [z0]
    for k in range(1, K + 1):
        y.append(_ode_coef(u, z, k))
        if k < K:
            z.append(z_next(y, k))
    return y


# --- rules: (node, input series, K) -> the node's series ------------------------------------
def _exp_rule(node, ins, K):
    y: Series = [node]
    for k in range(1, K + 1):
        y.append(_ode_coef(ins[0], y, k))
    return y


def _expm1_rule(node, ins, K):
    z0 = add(node, 1.0)
    return _ode_series(ins[0], node, z0, K, lambda y, m: y[m])


def _tanh_rule(node, ins, K):
    # tanh' = 1 - tanh^2
    return _ode_series(ins[0], node, subtract(1.0, square(node)), K,
                       lambda y, m: _square_coef(y, m, -1.0))


def _sigmoid_series(u: Series, s0: Node, K: int) -> Series:
    # sigmoid' = s - s^2
    def z_next(y: Series, m: int) -> Coef:
        sq = _square_coef(y, m)
        if y[m] is None:
            return None if sq is None else negative(sq)
        return y[m] if sq is None else subtract(y[m], sq)
    return _ode_series(u, s0, subtract(s0, square(s0)), K, z_next)


def _sigmoid_rule(node, ins, K):
    return _sigmoid_series(ins[0], node, K)


def _softplus_rule(node, ins, K):
    # softplus' = sigmoid
    s = _sigmoid_series(ins[0], sigmoid(node.inputs[0]), K - 1)
    y: Series = [node]
    for k in range(1, K + 1):
        y.append(_ode_coef(ins[0], s, k))
    return y


def _sin_cos(u: Series, s0: Node, c0: Node, K: int) -> tuple[Series, Series]:
    s: Series = [s0]
    c: Series = [c0]
    for k in range(1, K + 1):
        s.append(_ode_coef(u, c, k))
        ck = _ode_coef(u, s, k)
        c.append(None if ck is None else negative(ck))
    return s, c


def _sin_rule(node, ins, K):
    return _sin_cos(ins[0], node, cos(node.inputs[0]), K)[0]


def _cos_rule(node, ins, K):
    return _sin_cos(ins[0], sin(node.inputs[0]), node, K)[1]


def _divide_series(a: Series, b: Series, c0: Node, K: int) -> Series:
    # c = a / b:  c_k = (a_k - sum_{j=1..k} b_j c_{k-j}) / b_0
    c: Series = [c0]
    for k in range(1, K + 1):
        rest = _add_all([multiply(b[j], c[k - j]) for j in range(1, k + 1)
                         if b[j] is not None and c[k - j] is not None])
        num = a[k] if rest is None else (negative(rest) if a[k] is None else subtract(a[k], rest))
        c.append(None if num is None else divide(num, b[0]))
    return c


def _divide_rule(node, ins, K):
    return _divide_series(ins[0], ins[1], node, K)


def _reciprocal_rule(node, ins, K):
    one: Series = [const(np.ones((), node.dtype))] + [None] * K
    return _divide_series(one, ins[0], node, K)


def _log_series(u: Series, y0: Node, base: Node, K: int) -> Series:
    # y' = u' / base:  y_k = (u_k - (1/k) sum_{j=1..k-1} j y_j u_{k-j}) / base
    y: Series = [y0]
    for k in range(1, K + 1):
        rest = _add_all([_scale(multiply(y[j], u[k - j]), j / k) for j in range(1, k)
                         if y[j] is not None and u[k - j] is not None])
        num = u[k] if rest is None else (negative(rest) if u[k] is None else subtract(u[k], rest))
        y.append(None if num is None else divide(num, base))
    return y


def _log_rule(node, ins, K):
    return _log_series(ins[0], node, node.inputs[0], K)


def _log1p_rule(node, ins, K):
    return _log_series(ins[0], node, add(node.inputs[0], 1.0), K)


def _sqrt_rule(node, ins, K):
    # y^2 = u:  y_k = (u_k - sum_{j=1..k-1} y_j y_{k-j}) / (2 y_0)
    u = ins[0]
    y: Series = [node]
    twice = multiply(node, 2.0)
    for k in range(1, K + 1):
        rest = _add_all([multiply(y[j], y[k - j]) for j in range(1, k)
                         if y[j] is not None and y[k - j] is not None])
        num = u[k] if rest is None else (negative(rest) if u[k] is None else subtract(u[k], rest))
        y.append(None if num is None else divide(num, twice))
    return y


def _square_rule(node, ins, K):
    u = list(ins[0])
    return [node] + [_square_coef(u, k) for k in range(1, K + 1)]


def _small_int(b: Node) -> Optional[int]:
    if b.op != "const":
        return None
    value = np.asarray(b.payload)
    if value.shape != () or value.dtype.kind not in "iuf":
        return None
    r = float(value)
    return int(r) if r.is_integer() and 0 <= r <= 8 else None


def _power_rule(node, ins, K):
    a, b = ins
    if any(t is not None for t in b[1:]):
        # a^b = exp(b log a) when the exponent moves too
        log_a = _log_series(a, apply("log", [node.inputs[0]]), node.inputs[0], K)
        prod = [multiply(b[0], log_a[0])] + [_cauchy(b, log_a, k) for k in range(1, K + 1)]
        return _exp_rule(node, [prod], K)
    r = _small_int(node.inputs[1])
    if r is not None:
        # Repeated Cauchy products: exact at a_0 = 0, where the recurrence below divides by 0.
        if r == 0:
            return [node] + [None] * K
        acc: Series = list(a)
        for _ in range(r - 1):
            acc = [multiply(acc[0], a[0])] + [_cauchy(acc, a, k) for k in range(1, K + 1)]
        return [node] + acc[1:]
    # y = a^r:  k a_0 y_k = sum_{j=0..k-1} (r (k-j) - j) y_j a_{k-j}
    rb = node.inputs[1]
    y: Series = [node]
    for k in range(1, K + 1):
        terms = [multiply(subtract(multiply(rb, float(k - j)), float(j)),
                          multiply(y[j], a[k - j]))
                 for j in range(k) if y[j] is not None and a[k - j] is not None]
        s = _add_all(terms)
        y.append(None if s is None else divide(s, multiply(a[0], float(k))))
    return y


RULES: dict[str, Callable[[Node, list, int], Series]] = {
    "exp": _exp_rule, "expm1": _expm1_rule, "tanh": _tanh_rule, "sigmoid": _sigmoid_rule,
    "softplus": _softplus_rule, "sin": _sin_rule, "cos": _cos_rule, "divide": _divide_rule,
    "reciprocal": _reciprocal_rule, "log": _log_rule, "log1p": _log1p_rule,
    "sqrt": _sqrt_rule, "square": _square_rule, "power": _power_rule,
}


def _linear_series(node: Node, ins: list, K: int) -> Series:
    op = get_op(node.op)
    out: Series = [node]
    for k in range(1, K + 1):
        ts = [s[k] for s in ins]
        out.append(None if all(t is None for t in ts) else op.jvp(node, ts))
    return out


def _bilinear_series(node: Node, ins: list, K: int) -> Series:
    attrs = dict(node.attrs)
    a, b = ins
    return [node] + [_cauchy(a, b, k, lambda p, q: apply(node.op, [p, q], **attrs))
                     for k in range(1, K + 1)]


def _series_of(node: Node, ins: list, K: int) -> Series:
    check_complex_rules(node, "taylor")
    if node.op in PIECEWISE_LINEAR_OPS and any(i.dtype.kind == "c" for i in node.inputs):
        # |z| is not piecewise linear in complex z (nor is any kink of a complex operand)
        raise NotImplementedError(
            f"taylor: op {node.op!r} is not piecewise linear on complex operands (node "
            f"{node.label}{node.where()}); use sg.nth_derivatives(..., mode='forward')")
    if node.op in RULES:
        return RULES[node.op](node, ins, K)
    if node.op in BILINEAR_OPS or (node.op == "einsum" and len(ins) == 2):
        return _bilinear_series(node, ins, K)
    if node.op == "einsum" and len(ins) == 1:     # a transpose, trace or diagonal: linear
        return _linear_series(node, ins, K)
    if node.op in LINEAR_OPS:
        return _linear_series(node, ins, K)
    raise NotImplementedError(
        f"taylor: no Taylor-mode rule for op {node.op!r} (node {node.label}{node.where()}); "
        f"use sg.nth_derivatives(..., mode='forward') for graphs with this op")


def taylor_coefficients(y: Node, x: Node, order: int, direction: Any = 1.0) -> list[Node]:
    """``[y_0, y_1, ..., y_order]``: the Taylor coefficients of ``y`` along
    ``x(t) = x + t * direction`` (``y_0`` is ``y`` itself, ``y_k`` = k-th derivative / k!)."""
    if order < 0 or int(order) != order:
        raise ArgumentError(f"taylor_coefficients: order must be a non-negative integer, got {order!r}")
    _check_wrt([x], "taylor_coefficients")
    K = int(order)
    seed = direction if isinstance(direction, Node) else const(np.asarray(direction, x.dtype))
    series: dict[int, Series] = {}
    with building_gradient():
        series[id(x)] = [x, _fit(seed, x, False)] + [None] * (K - 1)
        for n in toposort([y]):
            if id(n) in series:
                continue
            op = get_op(n.op)
            if op.leaf or not op.differentiable:
                continue
            ins = [series.get(id(i)) for i in n.inputs]
            if all(s is None for s in ins):
                continue
            ins = [s if s is not None else [i] + [None] * K for s, i in zip(ins, n.inputs)]
            out = _series_of(n, ins, K)
            passes = op.elementwise and len(n.inputs) > 1
            series[id(n)] = [n] + [None if c is None else _fit(c, n, passes) for c in out[1:]]
        got = series.get(id(y), [y] + [None] * K)
        return [y] + [c if c is not None else zeros_like(y) for c in got[1:K + 1]]


def taylor_derivatives(y: Node, x: Node, n: int) -> list[Node]:
    """``[y, y', ..., y^(n)]`` with respect to ``x`` by Taylor mode: k! times coefficient k.

    Same contract as ``nth_derivatives``: ``x`` a scalar, or ``y`` elementwise in ``x``.
    """
    coefs = taylor_coefficients(y, x, n)
    out = [y]
    factorial = 1.0
    with building_gradient():
        for k in range(1, n + 1):
            factorial *= k
            out.append(_scale(coefs[k], factorial))
    return out
