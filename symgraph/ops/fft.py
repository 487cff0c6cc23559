"""Discrete Fourier transforms: complex-to-complex (any axes), rfft, irfft, fftshift.

Complex numbers follow JAX's convention (docs/higher-order.md, "Complex numbers"): a VJP
is the plain transpose of the JVP's linear map under the pairing <a, b> = Re(sum(a b)), no
conjugation. Every transform here is linear, so its JVP is the transform of the tangent,
and its VJP is its transpose, again a transform:

- the DFT matrix F (w^jk, w = exp(-2 pi i / n), with the norm's scale) is symmetric, so a
  complex transform transposes to the same transform; cropping (or zero-padding) the input
  to length n transposes to zero-padding (or cropping) the cotangent back;
- rfft keeps the first n//2 + 1 outputs of F x for real x; its transpose is
  Re(F g_padded), g zero-padded to n;
- irfft reads the half-spectrum g as Hermitian: y_j = scale Re(sum_k c_k g_k w^-jk), with
  c_0 = 1, c_k = 2 in between and c_{n/2} = 1 for even n; its transpose is
  c_k scale sum_j h_j w^-jk, an inverse transform of h times c.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import DTypeError, ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import cast, multiply
from symgraph.ops.registry import REGISTRY, Op, apply, const, register
from symgraph.types import TensorType, format_shape

NORMS = ("backward", "ortho", "forward")
# Ops whose rules follow the complex convention say so (a field np-elementwise adds to Op).
_COMPLEX = {"complex_ok": True} if "complex_ok" in Op.__dataclass_fields__ else {}


def complex_dtype(op: str, t: TensorType, where: str) -> np.dtype:
    if t.dtype.kind == "b":
        raise DTypeError(f"{op}: boolean input {t}{where}")
    return np.result_type(t.dtype, np.complex64) if t.dtype in (np.float32, np.complex64) \
        else np.dtype(np.complex128)


def real_dtype(t: TensorType) -> np.dtype:
    return np.dtype(np.float32) if t.dtype in (np.float32, np.complex64) else np.dtype(np.float64)


def _resize(y: np.ndarray, axes: Sequence[int], sizes: Sequence[Optional[int]]) -> np.ndarray:
    """``y`` cropped or zero-padded to ``sizes`` along ``axes`` (None: unchanged)."""
    for ax, size in zip(axes, sizes):
        have = y.shape[ax]
        if size is None or size == have:
            continue
        if size < have:
            y = y[(slice(None),) * ax + (slice(0, size),)]
        else:
            pad = [(0, 0)] * y.ndim
            pad[ax] = (0, size - have)
            y = np.pad(y, pad)
    return y


def _real_part(ct: Node) -> Node:
    # the cotangent of a real input keeps the real part (sg.real once complex support is in)
    if "real" in REGISTRY:
        return apply("real", [ct])
    return cast(ct, np.float32 if ct.dtype == np.complex64 else np.float64)


# --- complex-to-complex transforms over any axes ----------------------------------------------
def _c2c_infer(types, attrs, where):
    x = types[0]
    shape = list(x.shape)
    for ax, n, out in zip(attrs["axes"], attrs["n"], attrs["out"]):
        if not -x.ndim <= ax < x.ndim:
            raise ShapeError(f"fft: axis {ax} is out of range for shape {format_shape(x.shape)}{where}")
        size = out if out is not None else (n if n is not None else shape[ax])
        shape[ax] = size
    return TensorType(tuple(shape), complex_dtype("fft", x, where))


def _c2c_kernel(x, axes=(), n=(), out=(), inverse=False, norm="backward"):
    s = None if all(k is None for k in n) else [x.shape[a] if k is None else k for a, k in zip(axes, n)]
    y = (np.fft.ifftn if inverse else np.fft.fftn)(x, s=s, axes=axes, norm=norm)
    return _resize(y, axes, out)


def _input_lengths(node: Node) -> tuple:
    x = node.inputs[0]
    lengths = tuple(x.shape[a] for a in node.attr("axes"))
    for a, k, length in zip(node.attr("axes"), node.attr("n"), lengths):
        if length is None and k is not None:
            raise ShapeError(f"fft: the derivative needs the length of axis {a}, unknown in "
                             f"{format_shape(x.shape)}{node.where()}")
    return lengths


# y = R_out(F_n(R_n(x))) transposes to R_L(F_n(R_n(g))), L the input lengths (F symmetric).
def _c2c_vjp(node, g):
    x = node.inputs[0]
    ct = c2c(g, node.attr("axes"), node.attr("n"), _input_lengths(node), node.attr("inverse"),
             node.attr("norm"))
    return (ct if x.dtype.kind == "c" else _real_part(ct),)


def _c2c_jvp(node, t):
    return c2c(t[0], node.attr("axes"), node.attr("n"), node.attr("out"), node.attr("inverse"),
               node.attr("norm"))


# --- rfft: real input, the first n//2 + 1 outputs -----------------------------------------------
def _rfft_infer(types, attrs, where):
    x = types[0]
    if x.dtype.kind == "c":
        raise DTypeError(f"rfft: needs a real input, got {x}; use fft{where}")
    ax, n = attrs["axis"], attrs["n"]
    if not -x.ndim <= ax < x.ndim:
        raise ShapeError(f"rfft: axis {ax} is out of range for shape {format_shape(x.shape)}{where}")
    length = n if n is not None else x.shape[ax]
    shape = list(x.shape)
    shape[ax] = None if length is None else length // 2 + 1
    return TensorType(tuple(shape), complex_dtype("rfft", x, where))


def _rfft_kernel(x, axis=-1, n=None, norm="backward"):
    return np.fft.rfft(x, n=n, axis=axis, norm=norm)


def _fft_length(node: Node) -> int:
    x, ax, n = node.inputs[0], node.attr("axis"), node.attr("n")
    length = n if n is not None else x.shape[ax]
    if length is None:
        raise ShapeError(f"{node.op}: the derivative needs the transform length, unknown in "
                         f"{format_shape(x.shape)}; pass n={node.where()}")
    return length


# rfft(x) = H F_n R_n x (H keeps n//2 + 1 entries): the transpose is R_L Re(F_n pad_n(g)).
def _rfft_vjp(node, g):
    ax, n = node.attr("axis"), _fft_length(node)
    length = node.inputs[0].shape[ax]
    return (_real_part(c2c(g, (ax,), (n,), (length,), False, node.attr("norm"))),)


def _rfft_jvp(node, t):
    return rfft_op(t[0], node.attr("axis"), node.attr("n"), node.attr("norm"))


# --- irfft: a Hermitian half-spectrum to a real signal of length n ----------------------------
def _irfft_infer(types, attrs, where):
    x = types[0]
    ax, n = attrs["axis"], attrs["n"]
    if not -x.ndim <= ax < x.ndim:
        raise ShapeError(f"irfft: axis {ax} is out of range for shape {format_shape(x.shape)}{where}")
    shape = list(x.shape)
    shape[ax] = n if n is not None else (None if x.shape[ax] is None else 2 * (x.shape[ax] - 1))
    complex_dtype("irfft", x, where)
    return TensorType(tuple(shape), real_dtype(x))


def _irfft_kernel(x, axis=-1, n=None, norm="backward"):
    return np.fft.irfft(x, n=n, axis=axis, norm=norm)


def _irfft_weights(node: Node, n: int, length: int) -> Node:
    # c_k over the input's length: 1 at k = 0 (and k = n/2 for even n), 2 in between, 0 for
    # the entries past n//2 that irfft never reads
    m = n // 2 + 1
    c = np.zeros(length)
    c[:min(m, length)] = 2.0
    c[0] = 1.0
    if n % 2 == 0 and n // 2 < length:
        c[n // 2] = 1.0
    shape = [1] * node.inputs[0].ndim
    shape[node.attr("axis")] = length
    return const(c.reshape(shape).astype(real_dtype(node.inputs[0].type)))


# irfft(g)_j = scale Re(sum_k c_k g_k w^-jk): the transpose is c_k (inverse F_n h)_k.
def _irfft_vjp(node, g):
    x, ax = node.inputs[0], node.attr("axis")
    n = node.attr("n") if node.attr("n") is not None else _fft_length_out(node)
    length = x.shape[ax]
    if length is None:
        raise ShapeError(f"irfft: the derivative needs the input length, unknown in "
                         f"{format_shape(x.shape)}{node.where()}")
    ct = c2c(g, (ax,), (n,), (length,), True, node.attr("norm"))
    return (multiply(ct, _irfft_weights(node, n, length)),)


def _fft_length_out(node: Node) -> int:
    n = node.shape[node.attr("axis")]
    if n is None:
        raise ShapeError(f"irfft: the derivative needs the output length; pass n={node.where()}")
    return n


def _irfft_jvp(node, t):
    return irfft_op(t[0], node.attr("axis"), node.attr("n"), node.attr("norm"))


# --- fftshift: a roll, whose transpose is the opposite roll -------------------------------------
def _shift_infer(types, attrs, where):
    return TensorType(types[0].shape, types[0].dtype)


def _shift_kernel(x, axes=None, inverse=False):
    return (np.fft.ifftshift if inverse else np.fft.fftshift)(x, axes=axes)


def _shift_vjp(node, g): return (fftshift_op(g, node.attr("axes"), not node.attr("inverse")),)
def _shift_jvp(node, t): return fftshift_op(t[0], node.attr("axes"), node.attr("inverse"))


register(Op("fft_c2c", _c2c_infer, _c2c_kernel, _c2c_vjp, _c2c_jvp, **_COMPLEX))
register(Op("rfft", _rfft_infer, _rfft_kernel, _rfft_vjp, _rfft_jvp, **_COMPLEX))
register(Op("irfft", _irfft_infer, _irfft_kernel, _irfft_vjp, _irfft_jvp, **_COMPLEX))
register(Op("fftshift", _shift_infer, _shift_kernel, _shift_vjp, _shift_jvp, **_COMPLEX))


# --- builders (the NumPy-named functions are in symgraph/fft.py) --------------------------------
def c2c(x: Node, axes: Sequence[int], n: Sequence[Optional[int]], out: Sequence[Optional[int]],
        inverse: bool, norm: str, name_: Optional[str] = None) -> Node:
    return apply("fft_c2c", [x], name_, axes=tuple(int(a) for a in axes), n=tuple(n),
                 out=tuple(out), inverse=bool(inverse), norm=norm)


def rfft_op(x: Node, axis: int, n: Optional[int], norm: str, name_: Optional[str] = None) -> Node:
    return apply("rfft", [x], name_, axis=int(axis), n=n, norm=norm)


def irfft_op(x: Node, axis: int, n: Optional[int], norm: str, name_: Optional[str] = None) -> Node:
    return apply("irfft", [x], name_, axis=int(axis), n=n, norm=norm)


def fftshift_op(x: Node, axes: Any, inverse: bool, name_: Optional[str] = None) -> Node:
    return apply("fftshift", [x], name_, axes=axes, inverse=bool(inverse))
