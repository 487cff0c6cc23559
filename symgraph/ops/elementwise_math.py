"""More of NumPy's elementwise functions: trigonometric and hyperbolic functions and their
inverses, logarithms and exponentials in other bases, hypot, logaddexp, sinc, rounding,
remainders, the floating-point predicates and ``nan_to_num``.

Rules are written with symgraph ops, so they differentiate again. Rounding, ``floor_divide``,
``heaviside`` and the predicates are flat almost everywhere: they are declared without a
derivative (no gradient flows through them), as JAX and autograd treat them.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from symgraph.graph import Node
from symgraph.ops.elementwise import (_binary, _declare, _or_zero, _sum_tangents, _tie_split,
                                      _tie_tangent, _unary, _unary_rules, abs, add, cast, cos,
                                      divide, equal, exp, greater, greater_equal, less,
                                      less_equal, logical_or, multiply, negative,
                                      power, reciprocal, sign, sqrt, square, subtract, where)
from symgraph.ops.registry import apply, as_node, no_out

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# --- unary functions: f'(x) once gives the VJP and the JVP -------------------------------
_tan_vjp, _tan_jvp = _unary_rules(lambda y: add(1, square(y)))                  # 1 + tan²
_arcsin_vjp, _arcsin_jvp = _unary_rules(
    lambda y: reciprocal(sqrt(subtract(1, square(y.inputs[0])))))               # 1/√(1-x²)
_arccos_vjp, _arccos_jvp = _unary_rules(
    lambda y: negative(reciprocal(sqrt(subtract(1, square(y.inputs[0]))))))     # -1/√(1-x²)
_arctan_vjp, _arctan_jvp = _unary_rules(lambda y: reciprocal(add(1, square(y.inputs[0]))))
_sinh_vjp, _sinh_jvp = _unary_rules(lambda y: cosh(y.inputs[0]))
_cosh_vjp, _cosh_jvp = _unary_rules(lambda y: sinh(y.inputs[0]))
_arcsinh_vjp, _arcsinh_jvp = _unary_rules(
    lambda y: reciprocal(sqrt(add(square(y.inputs[0]), 1))))                    # 1/√(x²+1)
# 1/(√(x-1) √(x+1)) rather than 1/√(x²-1): the same for x > 1 and right for complex x too
_arccosh_vjp, _arccosh_jvp = _unary_rules(
    lambda y: reciprocal(multiply(sqrt(subtract(y.inputs[0], 1)), sqrt(add(y.inputs[0], 1)))))
_arctanh_vjp, _arctanh_jvp = _unary_rules(lambda y: reciprocal(subtract(1, square(y.inputs[0]))))
_log2_vjp, _log2_jvp = _unary_rules(lambda y: reciprocal(multiply(y.inputs[0], _LN2)))
_log10_vjp, _log10_jvp = _unary_rules(lambda y: reciprocal(multiply(y.inputs[0], _LN10)))
_exp2_vjp, _exp2_jvp = _unary_rules(lambda y: multiply(y, _LN2))
_cbrt_vjp, _cbrt_jvp = _unary_rules(lambda y: reciprocal(multiply(3, square(y))))   # 1/(3 y²)
_deg2rad_vjp, _deg2rad_jvp = _unary_rules(lambda y: math.pi / 180.0)
_rad2deg_vjp, _rad2deg_jvp = _unary_rules(lambda y: 180.0 / math.pi)


def _sinc_derivative(y: Node) -> Node:
    # sinc(x) = sin(πx)/(πx), so sinc'(x) = (cos(πx) - sinc(x)) / x. Near 0 that cancels, so
    # |x| < 1e-2 takes the series Σ_{k≥1} (-1)^k 2k π^{2k} x^{2k-1} / (2k+1)! to x^7 (error
    # under 1e-17); its own derivative is right at 0 too (-π²/3), so sinc differentiates again.
    x = y.inputs[0]
    near = less(abs(x), 1e-2)
    x_far = where(near, 1.0, x)
    far = divide(subtract(cos(multiply(x_far, math.pi)), y), x_far)
    x2 = square(x)
    coefs = [(-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1) for k in (1, 2, 3, 4)]
    series = multiply(x, add(coefs[0], multiply(x2, add(coefs[1], multiply(
        x2, add(coefs[2], multiply(x2, coefs[3])))))))
    return where(near, series, far)


_sinc_vjp, _sinc_jvp = _unary_rules(_sinc_derivative)


def _nan_to_num_kernel(x, nan=0.0, posinf=None, neginf=None):
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# nan_to_num is x where x is finite and a constant elsewhere
_nan_to_num_vjp, _nan_to_num_jvp = _unary_rules(lambda y: where(isfinite(y.inputs[0]), 1.0, 0.0))


# --- binary functions ---------------------------------------------------------------------
def _binary_rules(partials: Callable[[Node], tuple[Node, Node]]):
    """VJP and JVP of an elementwise f(a, b) from its partials (df/da, df/db) as nodes."""
    def vjp(node, g):
        da, db = partials(node)
        return (multiply(g, da), multiply(g, db))

    def jvp(node, t):
        da, db = partials(node)
        return _sum_tangents(None if t[0] is None else multiply(t[0], da),
                             None if t[1] is None else multiply(t[1], db))
    return vjp, jvp


def _arctan2_partials(node):
    # θ = arctan2(y, x): dθ/dy = x / (x² + y²), dθ/dx = -y / (x² + y²)
    y, x = node.inputs
    r2 = add(square(x), square(y))
    return divide(x, r2), negative(divide(y, r2))


def _hypot_partials(node):
    # r = √(a² + b²): dr/da = a / r, dr/db = b / r
    a, b = node.inputs
    return divide(a, node), divide(b, node)


def _logaddexp_partials(node):
    # y = log(eᵃ + eᵇ): dy/da = eᵃ⁻ʸ, dy/db = eᵇ⁻ʸ (each at most 1: never overflows)
    a, b = node.inputs
    return exp(subtract(a, node)), exp(subtract(b, node))


def _logaddexp2_partials(node):
    # y = log2(2ᵃ + 2ᵇ): dy/da = 2^(a-y), dy/db = 2^(b-y)
    a, b = node.inputs
    return power(2.0, subtract(a, node)), power(2.0, subtract(b, node))


def _remainder_partials(node):
    # a mod b = a - b floor(a/b): 1 and -floor(a/b) away from the jumps
    a, b = node.inputs
    return as_node(1.0), negative(floor(divide(a, b)))


def _fmod_partials(node):
    # fmod(a, b) = a - b trunc(a/b) (the sign of a, as C's fmod)
    a, b = node.inputs
    return as_node(1.0), negative(trunc(divide(a, b)))


def _fmax_picks(node: Node) -> tuple[Node, Node]:
    # fmax(a, b) is a where a > b or b is NaN (NumPy's fmax ignores NaNs); at a tie the
    # derivative is shared, as maximum's
    a, b = node.inputs
    wins = greater(a, b) if node.op == "fmax" else less(a, b)
    return logical_or(wins, isnan(b)), equal(a, b)


def _fmax_vjp(node, g):
    return _tie_split(*_fmax_picks(node), g)


def _fmax_jvp(node, t):
    return _tie_tangent(*_fmax_picks(node), t[0], t[1])


def _copysign_vjp(node, g):
    # copysign(a, b) = |a| sign(b): d/da = sign(a) times the sign of b's sign bit, d/db = 0
    a, b = node.inputs
    return (multiply(g, multiply(sign(a), copysign(1.0, b))), None)


def _copysign_jvp(node, t):
    a, b = node.inputs
    return None if t[0] is None else multiply(t[0], multiply(sign(a), copysign(1.0, b)))


_arctan2_vjp, _arctan2_jvp = _binary_rules(_arctan2_partials)
_hypot_vjp, _hypot_jvp = _binary_rules(_hypot_partials)
_logaddexp_vjp, _logaddexp_jvp = _binary_rules(_logaddexp_partials)
_logaddexp2_vjp, _logaddexp2_jvp = _binary_rules(_logaddexp2_partials)
_remainder_vjp, _remainder_jvp = _binary_rules(_remainder_partials)
_fmod_vjp, _fmod_jvp = _binary_rules(_fmod_partials)


def _round_kernel(x, decimals=0):
    return np.round(x, decimals)


# --- declarations: one line an op (complex_ok: NumPy computes it for complex inputs and the
# rule is g f'(z), the plain transpose of the holomorphic JVP) -------------------------------
_declare("tan", np.tan, _tan_vjp, _tan_jvp, complex_ok=True)
_declare("arcsin", np.arcsin, _arcsin_vjp, _arcsin_jvp, complex_ok=True)
_declare("arccos", np.arccos, _arccos_vjp, _arccos_jvp, complex_ok=True)
_declare("arctan", np.arctan, _arctan_vjp, _arctan_jvp, complex_ok=True)
_declare("sinh", np.sinh, _sinh_vjp, _sinh_jvp, complex_ok=True)
_declare("cosh", np.cosh, _cosh_vjp, _cosh_jvp, complex_ok=True)
_declare("arcsinh", np.arcsinh, _arcsinh_vjp, _arcsinh_jvp, complex_ok=True)
_declare("arccosh", np.arccosh, _arccosh_vjp, _arccosh_jvp, complex_ok=True)
_declare("arctanh", np.arctanh, _arctanh_vjp, _arctanh_jvp, complex_ok=True)
_declare("log2", np.log2, _log2_vjp, _log2_jvp, complex_ok=True)
_declare("log10", np.log10, _log10_vjp, _log10_jvp, complex_ok=True)
_declare("exp2", np.exp2, _exp2_vjp, _exp2_jvp, complex_ok=True)
_declare("cbrt", np.cbrt, _cbrt_vjp, _cbrt_jvp)
_declare("deg2rad", np.deg2rad, _deg2rad_vjp, _deg2rad_jvp)
_declare("rad2deg", np.rad2deg, _rad2deg_vjp, _rad2deg_jvp)
_declare("sinc", np.sinc, _sinc_vjp, _sinc_jvp, complex_ok=True)
_declare("nan_to_num", _nan_to_num_kernel, _nan_to_num_vjp, _nan_to_num_jvp, complex_ok=True)
_declare("arctan2", np.arctan2, _arctan2_vjp, _arctan2_jvp)
_declare("hypot", np.hypot, _hypot_vjp, _hypot_jvp, commutative=True)
_declare("logaddexp", np.logaddexp, _logaddexp_vjp, _logaddexp_jvp, commutative=True)
_declare("logaddexp2", np.logaddexp2, _logaddexp2_vjp, _logaddexp2_jvp, commutative=True)
_declare("fmax", np.fmax, _fmax_vjp, _fmax_jvp)
_declare("fmin", np.fmin, _fmax_vjp, _fmax_jvp)
_declare("copysign", np.copysign, _copysign_vjp, _copysign_jvp)
_declare("remainder", np.remainder, _remainder_vjp, _remainder_jvp)
_declare("fmod", np.fmod, _fmod_vjp, _fmod_jvp)
_declare("floor_divide", np.floor_divide, differentiable=False)
_declare("floor", np.floor, differentiable=False)
_declare("ceil", np.ceil, differentiable=False)
_declare("trunc", np.trunc, differentiable=False)
_declare("round", _round_kernel, differentiable=False)
_declare("heaviside", np.heaviside, differentiable=False)
_declare("isnan", np.isnan, differentiable=False)
_declare("isinf", np.isinf, differentiable=False)
_declare("isfinite", np.isfinite, differentiable=False)
_declare("signbit", np.signbit, differentiable=False)
_declare("logical_xor", np.logical_xor, differentiable=False, commutative=True)

# --- the public functions ------------------------------------------------------------------
tan = _unary("tan", 'tan(x)')
arcsin = _unary("arcsin", 'The inverse sine of x')
arccos = _unary("arccos", 'The inverse cosine of x')
arctan = _unary("arctan", 'The inverse tangent of x')
sinh = _unary("sinh", 'sinh(x)')
cosh = _unary("cosh", 'cosh(x)')
arcsinh = _unary("arcsinh", 'The inverse hyperbolic sine of x')
arccosh = _unary("arccosh", 'The inverse hyperbolic cosine of x')
arctanh = _unary("arctanh", 'The inverse hyperbolic tangent of x')
log2 = _unary("log2", 'The base-2 logarithm of x')
log10 = _unary("log10", 'The base-10 logarithm of x')
exp2 = _unary("exp2", '2 ** x')
cbrt = _unary("cbrt", 'The cube root of x')
deg2rad = _unary("deg2rad", 'x degrees in radians')
rad2deg = _unary("rad2deg", 'x radians in degrees')
radians = deg2rad
degrees = rad2deg
sinc = _unary("sinc", "NumPy's normalised sinc, sin(pi x) / (pi x) (1 at 0)")
floor = _unary("floor", 'The largest integer <= x (no derivative)')
ceil = _unary("ceil", 'The smallest integer >= x (no derivative)')
trunc = _unary("trunc", 'x rounded towards zero (no derivative)')
fix = trunc
signbit = _unary("signbit", 'True where the sign bit of x is set (-0.0 included; no derivative)')
isnan = _unary("isnan", 'True where x is NaN')
isinf = _unary("isinf", 'True where x is +inf or -inf')
isfinite = _unary("isfinite", 'True where x is neither NaN nor infinite')
arctan2 = _binary("arctan2", 'The angle of the point (x2, x1), arctan(x1 / x2) in the right quadrant')
hypot = _binary("hypot", 'sqrt(a**2 + b**2), without overflow')
logaddexp = _binary("logaddexp", 'log(exp(a) + exp(b)), without overflow')
logaddexp2 = _binary("logaddexp2", 'log2(2**a + 2**b), without overflow')
fmax = _binary("fmax", 'The larger of a and b, ignoring NaNs (ties share the derivative)')
fmin = _binary("fmin", 'The smaller of a and b, ignoring NaNs (ties share the derivative)')
copysign = _binary("copysign", '|a| with the sign of b')
logical_xor = _binary("logical_xor", 'a xor b (no derivative)')
remainder = _binary("remainder", "a mod b with the sign of b (Python's %)")
mod = remainder
fmod = _binary("fmod", 'a mod b with the sign of a (C\'s fmod)')
floor_divide = _binary("floor_divide", "floor(a / b) (Python's //; no derivative)")
heaviside = _binary("heaviside", '0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0 (no derivative)')


def divmod(a: Any, b: Any) -> tuple[Node, Node]:  # noqa: A001 - NumPy's name
    """``(a // b, a % b)``, as ``np.divmod``."""
    return floor_divide(a, b), remainder(a, b)


def float_power(a: Any, b: Any) -> Node:
    """``a ** b`` computed in float64 (complex128 for complex inputs), as NumPy's float_power."""
    a, b = as_node(a), as_node(b)
    wide = "complex128" if "c" in (a.dtype.kind, b.dtype.kind) else "float64"
    return power(cast(a, wide), cast(b, wide))


def positive(x: Any) -> Node:
    """``+x``: ``x`` itself (nodes are never changed in place, so no copy is needed)."""
    return as_node(x)


def round(x: Any, decimals: int = 0, out: Any = None, name_: Optional[str] = None) -> Node:  # noqa: A001
    """``x`` rounded to ``decimals`` places, halves to even as NumPy does (no derivative)."""
    no_out("round", out)
    return apply("round", [as_node(x)], name_, decimals=int(decimals))


def rint(x: Any, name_: Optional[str] = None) -> Node:
    """``x`` rounded to the nearest integer, halves to even (no derivative)."""
    return round(x, 0, None, name_)


around = round


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Optional[float] = None,
               neginf: Optional[float] = None, name_: Optional[str] = None) -> Node:
    """``x`` with NaN and infinities replaced, as NumPy does (``copy`` is accepted and
    ignored: nodes are never changed in place). The derivative is 1 where ``x`` is finite."""
    return apply("nan_to_num", [as_node(x)], name_, nan=float(nan),
                 posinf=None if posinf is None else float(posinf),
                 neginf=None if neginf is None else float(neginf))
