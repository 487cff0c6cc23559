"""NumPy's functions on sequences of coefficients and samples: the polynomial helpers
(polyval, polyadd, polysub, polymul, polyder, polyint, poly), ediff1d, trapezoid, cov and
corrcoef.

All are compositions of registered ops (arithmetic, getitem, concatenate, and the
convolution of ``join.py``), differentiable in every array argument.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import add, cast, divide, multiply, subtract
from symgraph.ops.join import convolve
from symgraph.ops.rearrange import _axis, _static, _where, ravel
from symgraph.ops.reduce import sum as _sum
from symgraph.ops.registry import apply, as_node, const
from symgraph.ops.shape import concatenate, getitem
from symgraph.types import format_shape


def _coefficients(name: str, p: Any) -> Node:
    p = as_node(p)
    if p.ndim != 1:
        raise ShapeError(f"{name}: coefficients form a vector, got {format_shape(p.shape)}{_where()}")
    _static(name, p, [0])
    return p


def polyval(p: Any, x: Any) -> Node:
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's rule."""
    p = _coefficients("polyval", p)
    x = as_node(x)
    zero = multiply(x, 0.0)            # x's shape, which a constant polynomial keeps too
    if p.shape[0] == 0:
        return zero
    # ((p0 x + p1) x + p2) x + ...
    out = add(zero, getitem(p, 0))
    for k in range(1, p.shape[0]):
        out = add(multiply(out, x), getitem(p, k))
    return out


def _aligned(name: str, a: Any, b: Any) -> tuple[Node, Node]:
    a, b = _coefficients(name, a), _coefficients(name, b)
    n = max(a.shape[0], b.shape[0])
    # the shorter one padded with leading zeros (its highest powers are zero)
    pad = lambda v: v if v.shape[0] == n else apply(  # noqa: E731
        "pad", [v], pad_width=((n - v.shape[0], 0),), value=0)
    return pad(a), pad(b)


def polyadd(a1: Any, a2: Any) -> Node:
    """The coefficients of the sum of two polynomials."""
    return add(*_aligned("polyadd", a1, a2))


def polysub(a1: Any, a2: Any) -> Node:
    """The coefficients of the difference of two polynomials."""
    return subtract(*_aligned("polysub", a1, a2))


def polymul(a1: Any, a2: Any) -> Node:
    """The coefficients of the product of two polynomials (their convolution)."""
    return convolve(_coefficients("polymul", a1), _coefficients("polymul", a2))


def polyder(p: Any, m: int = 1) -> Node:
    """The coefficients of the ``m``-th derivative."""
    p = _coefficients("polyder", p)
    for _ in range(int(m)):
        n = p.shape[0]
        if n <= 1:   # a constant's derivative: NumPy's empty coefficient vector
            return getitem(p, slice(0, 0))
        # d/dx sum p_k x^(n-1-k) = sum (n-1-k) p_k x^(n-2-k)
        p = multiply(getitem(p, slice(0, n - 1)), const(np.arange(n - 1, 0, -1).astype(_float(p))))
    return p


def polyint(p: Any, m: int = 1, k: Any = None) -> Node:
    """The coefficients of the ``m``-th antiderivative, integration constants ``k`` (zeros)."""
    p = _coefficients("polyint", p)
    constants = np.zeros(int(m)) if k is None else np.broadcast_to(np.asarray(k, float), (int(m),))
    for j in range(int(m)):
        n = p.shape[0]
        scaled = divide(p, const(np.arange(n, 0, -1).astype(_float(p))))
        p = concatenate([scaled, const(np.asarray([constants[j]], _float(p)))], 0)
    return p


def poly(seq_of_zeros: Any) -> Node:
    """The coefficients of the monic polynomial with the given roots (a vector of roots)."""
    r = _coefficients("poly", seq_of_zeros)
    out = const(np.ones(1, _float(r)))
    for i in range(r.shape[0]):
        # times (x - r_i): convolve with [1, -r_i]
        factor = concatenate([const(np.ones(1, _float(r))), multiply(getitem(r, slice(i, i + 1)), -1.0)], 0)
        out = convolve(out, factor)
    return out


def _float(x: Node) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Node:
    """The differences of consecutive entries of the flattened ``ary``, with optional ends."""
    flat = ravel(ary)
    _static("ediff1d", flat, [0])
    parts = [subtract(getitem(flat, slice(1, None)), getitem(flat, slice(None, -1)))]
    if to_begin is not None:
        parts.insert(0, cast(ravel(to_begin), flat.dtype))
    if to_end is not None:
        parts.append(cast(ravel(to_end), flat.dtype))
    return concatenate(parts, 0) if len(parts) > 1 else parts[0]


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Node:
    """The integral of samples ``y`` along ``axis`` by the trapezoidal rule."""
    y = as_node(y)
    a = _axis("trapezoid", axis, y.ndim)
    lead = (slice(None),) * a
    upper, lower = getitem(y, lead + (slice(1, None),)), getitem(y, lead + (slice(None, -1),))
    if x is None:
        width: Any = dx
    else:
        x = as_node(x)
        if x.ndim == 1:
            width = subtract(getitem(x, slice(1, None)), getitem(x, slice(None, -1)))
            if y.ndim > 1:   # the spacing along the integration axis, broadcast over the rest
                from symgraph.ops.shape import reshape
                width = reshape(width, (-1,) + (1,) * (y.ndim - 1 - a))
        else:
            xa = _axis("trapezoid", axis, x.ndim)
            width = subtract(getitem(x, (slice(None),) * xa + (slice(1, None),)),
                             getitem(x, (slice(None),) * xa + (slice(None, -1),)))
    # sum of (y[i+1] + y[i]) / 2 * dx_i
    return _sum(multiply(multiply(add(upper, lower), 0.5), width), a)


# --- covariance -----------------------------------------------------------------------------
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Node:
    """NumPy's ``cov``: the covariance matrix of the variables in the rows (or columns) of
    ``m`` (and ``y``), with frequency and reliability weights."""
    from symgraph.ops.join import _at_least
    from symgraph.ops.linalg import matmul
    from symgraph.ops.rearrange import swapaxes
    from symgraph.ops.shape import squeeze
    x = _at_least(as_node(m), 2)
    if x.ndim > 2:
        raise ShapeError(f"cov: m has more than 2 dimensions{_where()}")
    if not rowvar and x.shape[0] != 1:
        x = swapaxes(x, 0, 1)
    if y is not None:
        other = _at_least(as_node(y), 2)
        if not rowvar and other.shape[0] != 1:
            other = swapaxes(other, 0, 1)
        x = concatenate([x, other], 0)
    if dtype is not None:
        x = cast(x, dtype)
    elif x.dtype.kind not in "fc":
        x = cast(x, "float64")
    _static("cov", x, [1])
    n = x.shape[1]
    ddof = (0 if bias else 1) if ddof is None else ddof
    w = None
    if fweights is not None:
        w = cast(as_node(fweights), x.dtype)
    if aweights is not None:
        a = cast(as_node(aweights), x.dtype)
        w = a if w is None else multiply(w, a)
    if w is None:
        mean_ = divide(_sum(x, 1, keepdims=True), float(n))
        fact: Any = float(n - ddof)
        centred = subtract(x, mean_)
        weighted = centred
    else:
        total = _sum(w)
        mean_ = divide(_sum(multiply(x, w), 1, keepdims=True), total)
        # NumPy's normalisation: sum(w) - ddof sum(w a) / sum(w) with reliability weights a
        fact = total if ddof == 0 else (
            subtract(total, multiply(float(ddof), divide(_sum(multiply(w, a)), total)))
            if aweights is not None else subtract(total, float(ddof)))
        centred = subtract(x, mean_)
        weighted = multiply(centred, w)
    c = divide(matmul(weighted, swapaxes(centred, 0, 1)), fact)
    keep = tuple(i for i, d in enumerate(c.shape) if d == 1)
    return squeeze(c, keep) if keep else c


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Node:
    """Pearson correlation coefficients: ``cov`` scaled by the standard deviations."""
    from symgraph.ops.elementwise import clip, sqrt
    from symgraph.ops.indexing import diagonal
    from symgraph.ops.shape import expand_dims
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return divide(c, c)
    s = sqrt(diagonal(c))
    r = divide(divide(c, expand_dims(s, 1)), expand_dims(s, 0))
    return clip(r, -1.0, 1.0)   # as NumPy: rounding must not leave [-1, 1]


# --- numerical gradient ---------------------------------------------------------------------
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """NumPy's ``gradient``: central differences inside, one-sided ones at the edges (first
    or second order), for uniform spacings or coordinate vectors; one result per axis."""
    f = as_node(f)
    axes = list(range(f.ndim)) if axis is None else (
        [_axis("gradient", axis, f.ndim)] if isinstance(axis, (int, np.integer))
        else [_axis("gradient", a, f.ndim) for a in axis])
    if edge_order not in (1, 2):
        raise ArgumentError(f"gradient: edge_order is 1 or 2, got {edge_order}{_where()}")
    spacings = list(varargs)
    if len(spacings) == 0:
        spacings = [1.0] * len(axes)
    elif len(spacings) == 1 and len(axes) > 1:
        spacings = spacings * len(axes)
    if len(spacings) != len(axes):
        raise ArgumentError(f"gradient: {len(spacings)} spacings for {len(axes)} axes{_where()}")
    out = [_gradient_along(f, a, h, edge_order) for a, h in zip(axes, spacings)]
    return out[0] if len(out) == 1 else out


def _gradient_along(f: Node, a: int, h: Any, edge_order: int) -> Node:
    from symgraph.ops.shape import reshape
    _static("gradient", f, [a])
    n = f.shape[a]
    if n < edge_order + 1:
        raise ShapeError(f"gradient: axis {a} needs at least {edge_order + 1} points, has "
                         f"{n}{_where()}")
    part = lambda lo, hi: getitem(f, (slice(None),) * a + (slice(lo, hi),))  # noqa: E731

    if np.ndim(h) == 0 and not (isinstance(h, Node) and h.ndim):
        h = as_node(h)
        inner = divide(subtract(part(2, None), part(None, -2)), multiply(h, 2.0))
        if edge_order == 1:
            first = divide(subtract(part(1, 2), part(0, 1)), h)
            last = divide(subtract(part(n - 1, n), part(n - 2, n - 1)), h)
        else:   # (-3 f0 + 4 f1 - f2) / 2h and its mirror
            first = divide(add(add(multiply(part(0, 1), -1.5), multiply(part(1, 2), 2.0)),
                               multiply(part(2, 3), -0.5)), h)
            last = divide(add(add(multiply(part(n - 1, n), 1.5), multiply(part(n - 2, n - 1), -2.0)),
                              multiply(part(n - 3, n - 2), 0.5)), h)
        return concatenate([first, inner, last], a)
    # coordinates: NumPy's second-order formula on uneven steps d1 = x_i - x_{i-1}, d2 = x_{i+1} - x_i
    x = as_node(h)
    if x.ndim != 1 or x.shape[0] != n:
        raise ShapeError(f"gradient: coordinates {format_shape(x.shape)} do not match axis {a} "
                         f"of size {n}{_where()}")
    if edge_order != 1:
        raise ArgumentError(f"gradient: edge_order=2 with coordinates is not supported{_where()}")
    along = (-1,) + (1,) * (f.ndim - 1 - a)       # a vector shaped to run along axis a
    dx = subtract(getitem(x, slice(1, None)), getitem(x, slice(None, -1)))
    d1 = reshape(getitem(dx, slice(None, -1)), along)
    d2 = reshape(getitem(dx, slice(1, None)), along)
    # f'_i = -d2/(d1 (d1+d2)) f_{i-1} + (d2-d1)/(d1 d2) f_i + d1/(d2 (d1+d2)) f_{i+1}
    s = add(d1, d2)
    inner = add(add(multiply(divide(multiply(d2, -1.0), multiply(d1, s)), part(None, -2)),
                    multiply(divide(subtract(d2, d1), multiply(d1, d2)), part(1, -1))),
                multiply(divide(d1, multiply(d2, s)), part(2, None)))
    first = divide(subtract(part(1, 2), part(0, 1)), reshape(getitem(dx, slice(0, 1)), along))
    last = divide(subtract(part(n - 1, n), part(n - 2, n - 1)),
                  reshape(getitem(dx, slice(n - 2, n - 1)), along))
    return concatenate([first, inner, last], a)


def polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None,
            cov: Any = False) -> Node:
    """The least-squares polynomial of degree ``deg`` through the points (``x``, ``y``), highest
    power first; differentiable in ``x``, ``y`` and ``w``. It solves with ``sg.linalg.lstsq``,
    loaded when called (the linear-algebra room sits above the ops)."""
    from symgraph.errors import UnsupportedError
    from symgraph.ops.elementwise import sqrt
    from symgraph.ops.join import vander
    from symgraph.ops.shape import expand_dims
    if full or cov:
        raise UnsupportedError(f"polyfit: full= and cov= are not supported{_where()}")
    try:
        from symgraph.linalg import lstsq
    except ImportError:
        raise UnsupportedError("polyfit: needs symgraph.linalg (for lstsq), which this "
                               "installation lacks") from None
    x, y = as_node(x), as_node(y)
    if x.ndim != 1 or y.ndim not in (1, 2):
        raise ShapeError(f"polyfit: x must be a vector and y a vector or matrix, got "
                         f"{format_shape(x.shape)} and {format_shape(y.shape)}{_where()}")
    _static("polyfit", x, [0])
    dtype = _float(x)
    lhs = vander(cast(x, dtype), int(deg) + 1)
    rhs = cast(y, dtype)
    if w is not None:
        w = cast(as_node(w), dtype)
        lhs = multiply(lhs, expand_dims(w, 1))
        rhs = multiply(rhs, w if y.ndim == 1 else expand_dims(w, 1))
    if rcond is None:   # NumPy's default
        rcond = x.shape[0] * float(np.finfo(dtype).eps)
    # as NumPy: columns scaled to unit norm for conditioning, the solution scaled back
    scale = sqrt(_sum(multiply(lhs, lhs), 0))
    coef = lstsq(divide(lhs, scale), rhs, rcond=rcond)[0]
    return divide(coef, scale if y.ndim == 1 else expand_dims(scale, 1))
