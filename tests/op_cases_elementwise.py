"""Op-table cases for NumPy's further elementwise functions (symgraph/ops/elementwise_math.py)
and the complex parts (symgraph/ops/complex.py), plus complex cases of the core ops that
declare complex rules. Inputs keep away from each op's poles, branch cuts and jumps."""
from __future__ import annotations

import numpy as np

import symgraph as sg

from op_case import Case, Inputs, apart, nonzero, normal, positive


def uniform(lo: float, hi: float, *shapes: tuple) -> Inputs:
    return lambda rng: [rng.uniform(lo, hi, s) for s in shapes]


def complex_normal(*shapes: tuple) -> Inputs:
    return lambda rng: [rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in shapes]


def right_half(*shapes: tuple) -> Inputs:
    # Re z in [0.5, 2]: away from the branch cut of log and sqrt along the negative reals
    return lambda rng: [rng.uniform(0.5, 2, s) + 1j * rng.standard_normal(s) for s in shapes]


def off_multiples(shape: tuple, sign_b: float = 1.0) -> Inputs:
    # a / b = k + f with f in [0.2, 0.8]: a mod b never crosses a jump within reach
    def draw(rng: np.random.Generator) -> list:
        b = sign_b * rng.uniform(0.5, 2.0, shape)
        q = rng.integers(-3, 4, shape) + rng.uniform(0.2, 0.8, shape)
        return [q * b, b]
    return draw


def _u(op: str, fn, ref, inputs: Inputs, **kw) -> Case:
    return Case(op, op, inputs, fn, ref, **kw)


def _c(id_: str, op: str, inputs: Inputs, fn, ref, **kw) -> Case:
    # complex inputs: float32 would drop their imaginary parts
    return Case(id_, op, inputs, fn, ref, keeps_dtype=False, **kw)


_HALVES = np.array([[-2.5, -1.5, -0.5], [0.5, 1.5, 2.5]])   # round half to even
_SPECIAL = np.array([np.nan, np.inf, -np.inf, 1.5, -0.25])

CASES: list[Case] = [
    _u("tan", sg.tan, np.tan, uniform(-1.2, 1.2, (2, 3))),
    _u("arcsin", sg.arcsin, np.arcsin, uniform(-0.8, 0.8, (2, 3))),
    _u("arccos", sg.arccos, np.arccos, uniform(-0.8, 0.8, (2, 3))),
    _u("arctan", sg.arctan, np.arctan, normal((2, 3))),
    _u("sinh", sg.sinh, np.sinh, normal((2, 3))),
    _u("cosh", sg.cosh, np.cosh, normal((2, 3))),
    _u("arcsinh", sg.arcsinh, np.arcsinh, normal((2, 3))),
    _u("arccosh", sg.arccosh, np.arccosh, uniform(1.3, 3.0, (2, 3))),
    _u("arctanh", sg.arctanh, np.arctanh, uniform(-0.8, 0.8, (2, 3))),
    _u("log2", sg.log2, np.log2, positive((2, 3))),
    _u("log10", sg.log10, np.log10, positive((2, 3))),
    _u("exp2", sg.exp2, np.exp2, normal((2, 3))),
    _u("cbrt", sg.cbrt, np.cbrt, nonzero((2, 3))),
    _u("deg2rad", sg.deg2rad, np.deg2rad, normal((2, 3))),
    _u("rad2deg", sg.rad2deg, np.rad2deg, normal((2, 3))),
    _u("sinc", sg.sinc, np.sinc, uniform(-2.5, 2.5, (2, 4))),
    # at 0 and beside it: the series branch of the derivative, to second order
    Case("sinc-near-zero", "sinc", lambda rng: [np.array([0.0, 1e-3, -4e-3, 2e-2, 0.3])],
         sg.sinc, np.sinc),
    _u("nan_to_num", sg.nan_to_num, np.nan_to_num, normal((2, 3))),
    Case("nan_to_num-finite-bounds", "nan_to_num", normal((3,)),
         lambda a: sg.nan_to_num(a, nan=-1.0, posinf=9.0, neginf=-9.0),
         lambda a: np.nan_to_num(a, nan=-1.0, posinf=9.0, neginf=-9.0)),
    Case("arctan2", "arctan2", lambda rng: nonzero((2, 3))(rng) + normal((3,))(rng),
         sg.arctan2, np.arctan2),
    Case("hypot", "hypot", lambda rng: nonzero((2, 3))(rng) + nonzero((2, 1))(rng),
         sg.hypot, np.hypot),
    Case("logaddexp", "logaddexp", normal((2, 3), (3,)), sg.logaddexp, np.logaddexp),
    Case("logaddexp2", "logaddexp2", normal((2, 3), (2, 1)), sg.logaddexp2, np.logaddexp2),
    Case("fmax", "fmax", apart((2, 3), (3,)), sg.fmax, np.fmax),
    Case("fmin", "fmin", apart((2, 3), (2, 3)), sg.fmin, np.fmin),
    Case("copysign", "copysign", lambda rng: nonzero((2, 3))(rng) + nonzero((3,))(rng),
         sg.copysign, np.copysign),
    Case("remainder", "remainder", off_multiples((2, 3)), lambda a, b: a % b,
         np.remainder),
    Case("remainder-negative-divisor", "remainder", off_multiples((2, 3), sign_b=-1.0),
         sg.remainder, np.remainder),
    Case("fmod", "fmod", off_multiples((2, 3)), sg.fmod, np.fmod),
    # no derivative: values, and that the derivative is zero
    Case("floor_divide", "floor_divide", off_multiples((2, 3)), lambda a, b: a // b,
         np.floor_divide, differentiable=False),
    _u("floor", sg.floor, np.floor, uniform(-3.3, 3.3, (2, 3)), differentiable=False),
    _u("ceil", sg.ceil, np.ceil, uniform(-3.3, 3.3, (2, 3)), differentiable=False),
    _u("trunc", sg.trunc, np.trunc, uniform(-3.3, 3.3, (2, 3)), differentiable=False),
    Case("round", "round", lambda rng: [_HALVES], sg.round, np.round, differentiable=False),
    Case("round-decimals", "round", uniform(-3, 3, (2, 3)), lambda a: sg.round(a, 1),
         lambda a: np.round(a, 1), differentiable=False),
    Case("heaviside", "heaviside", lambda rng: [np.array([-1.5, 0.0, 2.0])],
         lambda a: sg.heaviside(a, 0.5), lambda a: np.heaviside(a, 0.5), differentiable=False),
    Case("signbit", "signbit", lambda rng: [np.array([-1.5, -0.0, 0.0, 2.0])], sg.signbit,
         np.signbit, differentiable=False),
    Case("logical_xor", "logical_xor", normal((2, 3), (3,)),
         lambda a, b: sg.logical_xor(a > 0.0, b > 0.0), lambda a, b: np.logical_xor(a > 0, b > 0),
         differentiable=False),
    Case("isnan", "isnan", lambda rng: [_SPECIAL], sg.isnan, np.isnan, differentiable=False),
    Case("isinf", "isinf", lambda rng: [_SPECIAL], sg.isinf, np.isinf, differentiable=False),
    Case("isfinite", "isfinite", lambda rng: [_SPECIAL], sg.isfinite, np.isfinite,
         differentiable=False),
    # the complex parts, on complex inputs (checked along real and imaginary directions)
    _c("real", "real", complex_normal((2, 3)), sg.real, np.real),
    _c("imag", "imag", complex_normal((2, 3)), sg.imag, np.imag),
    _c("conj", "conj", complex_normal((2, 3)), sg.conj, np.conj),
    _c("angle", "angle", complex_normal((2, 3)), sg.angle, np.angle),
    Case("real-of-real", "real", normal((2, 3)), sg.real, np.real),
    # complex cases of ops whose rules follow the complex convention
    _c("abs-complex", "abs", complex_normal((2, 3)), sg.abs, np.abs),
    _c("multiply-complex-real", "multiply", lambda rng: complex_normal((2, 3))(rng) + normal((3,))(rng),
       sg.multiply, np.multiply),
    _c("multiply-real-complex-const", "multiply", normal((2, 3)), lambda a: a * (1 + 0.2j),
       lambda a: a * (1 + 0.2j)),
    _c("divide-complex", "divide", right_half((2, 3), (2, 3)), sg.divide, np.divide),
    _c("exp-complex", "exp", complex_normal((2, 3)), sg.exp, np.exp),
    _c("log-complex", "log", right_half((2, 3)), sg.log, np.log),
    _c("sqrt-complex", "sqrt", right_half((2, 3)), sg.sqrt, np.sqrt),
    _c("power-complex", "power", lambda rng: right_half((2, 3))(rng) + complex_normal((2, 3))(rng),
       sg.power, np.power),
    _c("tan-complex", "tan", lambda rng: [0.5 * complex_normal((2, 3))(rng)[0]], sg.tan, np.tan),
    _c("arcsinh-complex", "arcsinh", lambda rng: [0.5 * complex_normal((2, 3))(rng)[0]],
       sg.arcsinh, np.arcsinh),
    _c("sinc-complex", "sinc", lambda rng: [complex_normal((2, 3))(rng)[0] * np.array([1, 1e-3, 0.5])],
       sg.sinc, np.sinc),
    _c("nan_to_num-complex", "nan_to_num", complex_normal((2, 3)), sg.nan_to_num, np.nan_to_num),
    _c("matmul-complex", "matmul", complex_normal((2, 3), (3, 2)), sg.matmul, np.matmul),
    _c("cast-complex-to-real", "cast", complex_normal((2, 3)), lambda a: sg.cast(a, "float64"),
       np.real),
]
