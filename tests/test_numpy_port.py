"""NumPy code ported by changing its import: a systematic sweep in the style of the peer
libraries' own gradient suites (autograd's, JAX's), written for symgraph.

Every case calls one NumPy function by name on small arrays (real and, where NumPy's
function is defined there, complex), through ``symgraph.numpy``: the value must equal
NumPy's, and the VJP and JVP must match central finite differences to second order
(``sg.check_grads``). The sweep counts three outcomes: a pass, a clear symgraph error (a
function or argument deliberately left out), and a wrong number (never allowed).
"""
from __future__ import annotations

import itertools
import operator
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import pytest

import symgraph as sg

snp = pytest.importorskip("symgraph.numpy")


@dataclass(frozen=True)
class PortCase:
    """One call ``name(*args, **kwargs)``, differentiated with respect to ``argnums``."""

    id: str
    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    argnums: tuple = (0,)
    order: int = 2


CASES: list[PortCase] = []


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(key.encode()))


def R(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape)


def C(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def U(lo: float, hi: float, *shape: int, imag: float = 0.0):
    def draw(rng: np.random.Generator) -> Any:
        x = lo + (hi - lo) * rng.random(shape)
        if imag:
            x = x + 1j * imag * rng.random(shape)
        return float(x) if shape == () and not imag else x
    return draw


def S(value: Any) -> Callable[[np.random.Generator], Any]:
    return lambda rng: value


def combo(name: str, argnums: tuple = (0,), order: int = 2) -> Callable[..., None]:
    """Add a case for every combination of the given argument and keyword choices."""
    def check(*arg_lists: list, **kw_lists: list) -> None:
        keys = list(kw_lists)
        for args in itertools.product(*arg_lists):
            for values in itertools.product(*[kw_lists[k] for k in keys]):
                kwargs = dict(zip(keys, values))
                case_id = f"{name}-{len(CASES)}"
                rng = _rng(case_id)
                drawn = tuple(a(rng) if callable(a) else a for a in args)
                CASES.append(PortCase(case_id, name, drawn, kwargs, argnums, order))
    return check


def unary(name: str, lo: float = -2.0, hi: float = 2.0, complex_: bool = True) -> None:
    combo(name)([U(lo, hi), U(lo, hi, 2), U(lo, hi, 3, 2), U(lo, hi, 1, 2)])
    if complex_:
        combo(name)([U(lo, hi, 1, imag=0.1), U(lo, hi, 3, 2, imag=0.1)])


def binary(name: str, a: tuple = (-2.0, 2.0), b: tuple = (-2.0, 2.0), complex_: bool = True,
           same_ok: bool = True) -> None:
    shapes = [(), (2,), (3, 2), (1, 2)]
    combo(name, (0, 1))([U(*a, *s) for s in shapes], [U(*b, *s) for s in shapes])
    if complex_:
        combo(name, (0, 1))([U(*a, 3, 2, imag=0.1)], [U(*b, 3, 2, imag=0.1), U(*b, 2)])


def stat(name: str, complex_: bool = True, **extra: list) -> None:
    combo(name)([S(3.5), R()], **extra)
    combo(name)([R(3), R(2, 3), R(1, 3)], axis=[None, 0], keepdims=[True, False], **extra)
    combo(name)([R(2, 3), R(1, 3)], axis=[None, 0, 1, -1, (0, 1)], keepdims=[True, False], **extra)
    if complex_:
        combo(name)([C(2, 3)], axis=[None, 0], keepdims=[True, False], **extra)


# --- statistics --------------------------------------------------------------------------
for _name in ("sum", "mean", "prod", "var", "std", "average", "nansum", "nanmean"):
    stat(_name, complex_=_name not in ("average",))
for _name in ("max", "min", "amax", "amin"):
    stat(_name, complex_=False)
combo("var")([R(2, 3)], axis=[0, 1], ddof=[0, 1])
combo("std")([R(2, 3)], axis=[0, 1], ddof=[1])
combo("average", (0,))([R(3, 2)], axis=[0], weights=[np.array([0.2, 0.3, 0.5])])
combo("cumsum")([R(5), R(2, 3)], axis=[None, 0, -1])
combo("cumprod")([U(0.5, 1.5, 4), U(0.5, 1.5, 2, 3)], axis=[None, 0, -1])
combo("diff")([R(5, 4), R(3, 4, 5)], n=[1, 2], axis=[0, 1, -1])
combo("median")([R(5), R(3, 4)], axis=[None, 0, -1])
combo("percentile")([R(7), R(3, 5)], q=[10.0, 50.0, 90.0], axis=[None, -1])
combo("quantile")([R(7)], q=[0.25, 0.75])
combo("logaddexp", (0, 1))([R(3)], [R(3)])

# --- unary ufuncs ------------------------------------------------------------------------
for _name, _lo, _hi, _cx in [
        ("sin", -2, 2, True), ("cos", -2, 2, True), ("tan", -1.1, 1.1, True),
        ("arcsin", -0.8, 0.8, False), ("arccos", -0.8, 0.8, False), ("arctan", -2, 2, False),
        ("sinh", -2, 2, True), ("cosh", -2, 2, True), ("tanh", -2, 2, True),
        ("arcsinh", -0.9, 0.9, False), ("arccosh", 1.1, 4, False), ("arctanh", -0.9, 0.9, False),
        ("exp", -2, 2, True), ("exp2", -2, 2, False), ("expm1", -2, 2, False),
        ("log", 0.2, 2, True), ("log2", 0.2, 2, False), ("log10", 0.2, 2, False),
        ("log1p", 0.2, 2, False), ("sqrt", 1, 3, True), ("square", -2, 2, True),
        ("abs", 0.1, 4, True), ("absolute", 0.1, 4, True), ("fabs", 0.1, 4, False),
        ("negative", -2, 2, True), ("reciprocal", 0.5, 2, True), ("sign", 0.1, 2, False),
        ("deg2rad", -2, 2, False), ("rad2deg", -2, 2, False), ("degrees", -2, 2, False),
        ("radians", -2, 2, False), ("sinc", 0.2, 2, False), ("floor", -1.4, 1.4, False),
        ("ceil", -1.4, 1.4, False), ("rint", -1.4, 1.4, False), ("trunc", -1.4, 1.4, False),
        ("real", -2, 2, True), ("imag", -2, 2, True), ("conj", -2, 2, True),
        ("conjugate", -2, 2, True), ("angle", 0.2, 2, True), ("real_if_close", -2, 2, False),
        ("nan_to_num", -2, 2, False), ("positive", -2, 2, False)]:
    unary(_name, _lo, _hi, _cx)

# --- binary ufuncs and operators ---------------------------------------------------------
binary("add")
binary("subtract")
binary("multiply")
binary("divide", b=(0.8, 1.2))
binary("true_divide", b=(0.8, 1.2), complex_=False)
binary("true_divide", b=(-2.0, -0.3), complex_=False)
binary("power", a=(0.5, 2.0), b=(-1.0, 2.0), complex_=False)
binary("logaddexp", complex_=False)
binary("logaddexp2", complex_=False)
binary("arctan2", a=(0.3, 2.0), b=(0.3, 2.0), complex_=False)
binary("hypot", a=(0.3, 2.0), b=(0.3, 2.0), complex_=False)
binary("remainder", a=(-0.9, 0.9), b=(0.7, 1.9), complex_=False)
binary("mod", a=(0.1, 0.7), b=(0.8, 2.1), complex_=False)
binary("fmod", a=(0.1, 0.7), b=(0.8, 2.1), complex_=False)
for _name in ("maximum", "minimum", "fmax", "fmin"):
    combo(_name, (0, 1))([R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)])
for _op in ("add", "sub", "mul"):
    binary(f"operator.{_op}")
binary("operator.truediv", b=(0.8, 1.2), complex_=False)
binary("operator.mod", a=(0.1, 0.7), b=(0.8, 2.1), complex_=False)
binary("operator.pow", a=(0.5, 2.0), b=(-1.0, 2.0), complex_=False)

# --- shapes and joins --------------------------------------------------------------------
combo("transpose")([R(2, 3, 4)], axes=[None, (0, 1, 2), (0, 2, 1), (2, 0, 1), (1, 2, 0)])
combo("moveaxis")([R(2, 3, 4)], source=[0, 2], destination=[0, 1, -1])
combo("swapaxes")([R(2, 3, 4)], axis1=[0, 2], axis2=[1])
combo("repeat")([R(2, 3), R(3, 1)], repeats=[1, 2], axis=[None, 0, 1])
combo("tile")([R(2, 1, 3)], reps=[(1, 2, 1), (2,), 2])
combo("kron", (0, 1))([R(2, 2), R(3), R(2, 1)], [R(3, 3), R(2), R(1, 2)])
combo("roll")([R(5), R(3, 4)], shift=[1, -2], axis=[None, 0, -1])
combo("flip")([R(3, 4)], axis=[None, 0, 1])
combo("flipud")([R(3, 4)])
combo("fliplr")([R(3, 4)])
combo("rot90")([R(3, 4)], k=[1, 2, 3])
combo("squeeze")([R(1, 3, 1)], axis=[None, 0, 2])
combo("expand_dims")([R(3, 2)], axis=[0, 1, -1])
combo("reshape")([R(2, 6)], shape=[(3, 4), (-1,), (12, 1)])
combo("ravel")([R(2, 3, 2)])
combo("atleast_1d")([S(1.2), R(1), R(2, 4)])
combo("atleast_2d")([S(1.2), R(1), R(7), R(2, 4)])
combo("atleast_3d")([S(1.2), R(7), R(2, 4), R(2, 4, 5)])
combo("trace")([R(3, 3), R(3, 4)], offset=[0, 1, -1])
combo("diagonal")([R(3, 3), R(2, 3, 3)], offset=[0, 1], axis1=[-2], axis2=[-1])
combo("diag")([R(3), R(3, 3), R(3, 4)], k=[0, 1, -1])
combo("tril")([R(3, 3), R(3, 4)], k=[0, 1, -1])
combo("triu")([R(3, 3), R(3, 4)], k=[0, 1, -1])
combo("clip")([R(3, 4)], a_min=[-0.5], a_max=[0.7])
combo("sort")([R(1), R(7), R(3, 4)])
combo("partition")([R(7)], kth=[0, 3, 6])
combo("pad")([R(3), R(2, 3)], pad_width=[1, (1, 2)], mode=["constant", "edge", "reflect"])
combo("take")([R(5)], indices=[np.array([0, 3, 3, 1])])
combo("take_along_axis")([R(3, 4)], indices=[np.array([[0], [3], [1]])], axis=[1])
combo("where", (1, 2))([np.array([True, False, True])], [R(3)], [R(3)])

# --- contractions ------------------------------------------------------------------------
combo("dot", (0, 1))([S(1.5), R(3), R(2, 3), R(2, 2, 3), C(3)], [S(0.3), R(3), R(3, 4), C(3)])
combo("dot", (0, 1))([R(2, 3), R(3)], [R(2, 3, 4)])
combo("outer", (0, 1))([R(3), C(3)], [R(3), C(3)])
combo("inner", (0, 1))([S(1.5), R(3), R(2, 3)], [S(0.3), R(3), R(4, 3)])
combo("vdot", (0, 1))([R(3), C(3)], [R(3), C(3)])
combo("matmul", (0, 1))([R(3), R(2, 3), R(2, 2, 3), C(2, 3)], [R(3), R(3, 4), R(2, 3, 4)])
combo("matmul", (0, 1))([R(1, 2, 2)], [R(3, 2, 1)])
combo("tensordot", (0, 1))([R(1, 3), R(2, 3, 2)], [R(3), R(3, 1), R(3, 4, 2)], axes=[((1,), (0,))])
combo("tensordot", (0, 1))([R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)],
                           axes=[((0, 1), (1, 2)), ((1, 0), (2, 1))])
combo("tensordot", (0, 1))([R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)], axes=[1, 2])
combo("tensordot", (0, 1))([R(2, 6)], [R(6, 3)], axes=[([-1], [0]), (-1, 0)])
combo("einsum", (1,))(["ij->ji"], [R(1, 1), R(4, 4), R(3, 4)])
combo("einsum", (1, 2))(["ij,jk->ik"], [R(2, 3), C(2, 3)], [R(3, 4), C(3, 4)])
combo("einsum", (1, 2))(["ijk,lik->jl"], [R(2, 3, 4)], [R(5, 2, 4)])
combo("einsum", (1,))(["ii", "ii->i", "ij->", "i...->..."], [R(3, 3)])
combo("einsum", (1, 2, 3))(["ij,jk,kl->il", "ij,ij,ij->"], [R(3, 3)], [R(3, 3)], [R(3, 3)])
combo("einsum", (1, 2, 3))(["i,i,i->", "i,j,k->ijk"], [R(3)], [R(3)], [R(3)])
combo("einsum", (1, 2))(["...ij,...jk->...ik"], [R(2, 2, 3)], [R(2, 3, 4)])
combo("einsum", (1, 2))(["ij,ij"], [R(2, 3)], [R(2, 3)])

# --- linear algebra ----------------------------------------------------------------------


def _spd(n: int, *lead: int):
    def draw(rng: np.random.Generator) -> np.ndarray:
        a = rng.standard_normal(lead + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return draw


def _well(n: int, *lead: int):
    return lambda rng: rng.standard_normal(lead + (n, n)) + 3 * np.eye(n)


combo("linalg.norm")([R(4), R(3, 4)], ord=[None, 1, 2, np.inf, -np.inf])
combo("linalg.norm")([R(4)], ord=[3, 0.5, -1])
combo("linalg.norm")([R(3, 4)], ord=[None, "fro", 1, -1, np.inf, -np.inf, "nuc", 2, -2])
combo("linalg.norm")([R(3, 4), R(2, 3, 4)], axis=[0, 1, -1, (0, 1), (-2, -1)],
                     keepdims=[False, True])
combo("linalg.det")([_well(3), _well(3, 2)])
combo("linalg.slogdet")([_well(3), _well(3, 2)])
combo("linalg.inv")([_well(3), _well(3, 2)])
combo("linalg.solve", (0, 1))([_well(3)], [R(3), R(3, 2)])
combo("linalg.solve", (0, 1))([_well(3, 2)], [R(2, 3, 1)])
combo("linalg.cholesky")([_spd(3), _spd(3, 2)])
combo("linalg.pinv")([R(3, 2), R(2, 4)])
combo("linalg.matrix_power")([_well(3)], n=[0, 1, 3, -1])
combo("linalg.lstsq", (0, 1))([R(5, 3)], [R(5), R(5, 2)], rcond=[None])
combo("linalg.eigh")([_spd(3)])
combo("linalg.svd")([R(3, 2), R(2, 4)], full_matrices=[False])
combo("linalg.qr")([R(4, 3), R(3, 3)])

# --- FFT ---------------------------------------------------------------------------------
for _name in ("fft.fft", "fft.ifft"):
    combo(_name)([R(5), R(2, 4), C(5)], axis=[-1, 0])
    combo(_name)([R(4)], n=[3, 6], norm=[None, "ortho", "forward"])
for _name in ("fft.rfft",):
    combo(_name)([R(6), R(5), R(2, 6)], axis=[-1, 0])
    combo(_name)([R(6)], n=[4, 8], norm=[None, "ortho"])
combo("fft.irfft")([C(4), C(2, 5)], n=[None, 6, 7])
for _name in ("fft.fft2", "fft.ifft2", "fft.fftn", "fft.ifftn"):
    combo(_name)([R(3, 4), C(2, 3, 4)])
for _name in ("fft.rfft2", "fft.rfftn"):
    combo(_name)([R(4, 6), R(2, 4, 6)])
for _name in ("fft.irfft2", "fft.irfftn"):
    combo(_name)([C(4, 4), C(3, 4, 4)])
for _name in ("fft.fftshift", "fft.ifftshift"):
    combo(_name)([R(5), R(4, 5)], axes=[None, 0, (0, -1)])


def _resolve(module: Any, dotted: str) -> Callable[..., Any]:
    if dotted.startswith("operator."):
        return getattr(operator, dotted.split(".", 1)[1])
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _reference(case: PortCase) -> Any:
    with np.errstate(all="ignore"):
        return _resolve(np, case.name)(*case.args, **case.kwargs)


def _builder(case: PortCase) -> Callable[..., Any]:
    fn = _resolve(snp, case.name)

    def build(*nodes: Any) -> Any:
        args = list(case.args)
        for k, node in zip(case.argnums, nodes):
            args[k] = node
        out = fn(*args, **case.kwargs)
        return list(out) if isinstance(out, tuple) else out
    return build


def _values(case: PortCase) -> list:
    return [np.asarray(case.args[k]) for k in case.argnums]


def _outputs_close(got: Any, want: Any) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, (list, tuple)) and len(got) == len(want)
        for g, w in zip(got, want):
            _outputs_close(g, w)
        return
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-9, atol=1e-12)


def _differentiable(case: PortCase) -> bool:
    return case.name not in ("floor", "ceil", "rint", "trunc", "sign") and \
        all(np.asarray(case.args[k]).dtype.kind in "fc" or isinstance(case.args[k], float)
            for k in case.argnums)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_numpy_function_value_and_derivatives(case: PortCase):
    want = _reference(case)
    build = _builder(case)
    values = _values(case)
    nodes = [sg.var(f"a{k}", v.shape, v.dtype if v.dtype.kind in "fc" else np.float64)
             for k, v in enumerate(values)]
    out = build(*nodes)
    outs = out if isinstance(out, list) else [out]
    got = sg.function(nodes, outs)(*[v.astype(n.dtype) for v, n in zip(values, nodes)])
    _outputs_close(got if isinstance(want, tuple) else got[0], want)
    if _differentiable(case):
        sg.check_grads(build, values, order=case.order)
