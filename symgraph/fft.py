"""``sg.fft``: NumPy's ``numpy.fft`` on nodes, with derivatives.

Names and signatures are NumPy's (``n``/``s``, ``axis``/``axes``, ``norm``). Every function
is one op of ``symgraph/ops/fft.py``, where the transposes that make up the derivative rules
are written out. Complex numbers follow JAX's convention (docs/higher-order.md and
docs/linalg.md): VJPs are plain transposes, and the gradient of a real loss with respect to
a complex input is dL/dx - i dL/dy.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, DTypeError, ShapeError
from symgraph.graph import Node, _user_location
from symgraph.ops.fft import NORMS, c2c, fftshift_op, irfft_op, rfft_op
from symgraph.ops.registry import REGISTRY, apply, as_node

__all__ = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "fftn", "ifftn", "rfft2",
           "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift"]


def _where() -> str:
    location = _user_location()
    return f" (built at {location})" if location else ""


def _norm(norm: Optional[str]) -> str:
    norm = "backward" if norm is None else norm
    if norm not in NORMS:
        raise ArgumentError(f"fft: norm must be one of {NORMS} or None, got {norm!r}")
    return norm


def _axis(a: Node, axis: int, fn: str) -> int:
    if not -a.ndim <= axis < a.ndim:
        raise ShapeError(f"{fn}: axis {axis} is out of range for a {a.ndim}-d input{_where()}")
    return int(axis) % a.ndim


def _check_out(out: Any, fn: str) -> None:
    if out is not None:
        raise ArgumentError(f"{fn}: out= has no meaning for a graph node{_where()}")


def _axes_and_sizes(a: Node, s: Optional[Sequence[int]], axes: Optional[Sequence[int]],
                    fn: str) -> tuple[tuple, tuple]:
    if axes is None:
        axes = list(range(a.ndim)) if s is None else list(range(a.ndim - len(s), a.ndim))
    axes = [_axis(a, ax, fn) for ax in axes]
    if s is None:
        s = [None] * len(axes)
    if len(s) != len(axes):
        raise ShapeError(f"{fn}: s and axes differ in length ({len(s)} vs {len(axes)}){_where()}")
    return tuple(axes), tuple(None if k is None else int(k) for k in s)


def fft(a: Any, n: Optional[int] = None, axis: int = -1, norm: Optional[str] = None,
        out: Any = None) -> Node:
    """NumPy's ``fft.fft``: the DFT along ``axis`` (cropped or zero-padded to ``n``)."""
    _check_out(out, "fft")
    a = as_node(a)
    return c2c(a, (_axis(a, axis, "fft"),), (n,), (None,), False, _norm(norm))


def ifft(a: Any, n: Optional[int] = None, axis: int = -1, norm: Optional[str] = None,
         out: Any = None) -> Node:
    """NumPy's ``fft.ifft``: the inverse DFT along ``axis``."""
    _check_out(out, "ifft")
    a = as_node(a)
    return c2c(a, (_axis(a, axis, "ifft"),), (n,), (None,), True, _norm(norm))


def fftn(a: Any, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None,
         norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.fftn``: the DFT over ``axes`` (all by default)."""
    _check_out(out, "fftn")
    a = as_node(a)
    axes, s = _axes_and_sizes(a, s, axes, "fftn")
    return c2c(a, axes, s, (None,) * len(axes), False, _norm(norm))


def ifftn(a: Any, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None,
          norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.ifftn``: the inverse DFT over ``axes`` (all by default)."""
    _check_out(out, "ifftn")
    a = as_node(a)
    axes, s = _axes_and_sizes(a, s, axes, "ifftn")
    return c2c(a, axes, s, (None,) * len(axes), True, _norm(norm))


def fft2(a: Any, s: Optional[Sequence[int]] = None, axes: Sequence[int] = (-2, -1),
         norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.fft2``: the DFT over the last two axes."""
    return fftn(a, s, axes, norm, out)


def ifft2(a: Any, s: Optional[Sequence[int]] = None, axes: Sequence[int] = (-2, -1),
          norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.ifft2``: the inverse DFT over the last two axes."""
    return ifftn(a, s, axes, norm, out)


def rfft(a: Any, n: Optional[int] = None, axis: int = -1, norm: Optional[str] = None,
         out: Any = None) -> Node:
    """NumPy's ``fft.rfft``: the DFT of a real signal, the n//2 + 1 non-negative
    frequencies."""
    _check_out(out, "rfft")
    a = as_node(a)
    return rfft_op(a, _axis(a, axis, "rfft"), n, _norm(norm))


def irfft(a: Any, n: Optional[int] = None, axis: int = -1, norm: Optional[str] = None,
          out: Any = None) -> Node:
    """NumPy's ``fft.irfft``: the real signal of length ``n`` (2 (m - 1) by default) whose
    rfft is ``a``."""
    _check_out(out, "irfft")
    a = as_node(a)
    return irfft_op(a, _axis(a, axis, "irfft"), n, _norm(norm))


def rfftn(a: Any, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None,
          norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.rfftn``: rfft over the last of ``axes``, then the DFT over the rest."""
    _check_out(out, "rfftn")
    a = as_node(a)
    axes, s = _axes_and_sizes(a, s, axes, "rfftn")
    y = rfft_op(a, axes[-1], s[-1], _norm(norm))
    if len(axes) == 1:
        return y
    return c2c(y, axes[:-1], s[:-1], (None,) * (len(axes) - 1), False, _norm(norm))


def irfftn(a: Any, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None,
           norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.irfftn``: the inverse DFT over all but the last of ``axes``, then
    irfft over the last."""
    _check_out(out, "irfftn")
    a = as_node(a)
    axes, s = _axes_and_sizes(a, s, axes, "irfftn")
    if len(axes) > 1:
        a = c2c(a, axes[:-1], s[:-1], (None,) * (len(axes) - 1), True, _norm(norm))
    return irfft_op(a, axes[-1], s[-1], _norm(norm))


def rfft2(a: Any, s: Optional[Sequence[int]] = None, axes: Sequence[int] = (-2, -1),
          norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.rfft2``: rfftn over the last two axes."""
    return rfftn(a, s, axes, norm, out)


def irfft2(a: Any, s: Optional[Sequence[int]] = None, axes: Sequence[int] = (-2, -1),
           norm: Optional[str] = None, out: Any = None) -> Node:
    """NumPy's ``fft.irfft2``: irfftn over the last two axes."""
    return irfftn(a, s, axes, norm, out)


_SWAPPED = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _conj(a: Node, fn: str) -> Node:
    if a.dtype.kind != "c":
        return a
    if "conj" not in REGISTRY:
        raise DTypeError(f"{fn}: complex input needs the conj op{_where()}")
    return apply("conj", [a])


def hfft(a: Any, n: Optional[int] = None, axis: int = -1, norm: Optional[str] = None,
         out: Any = None) -> Node:
    """NumPy's ``fft.hfft``: the real spectrum of a signal with Hermitian symmetry, given
    by its first half: irfft(conj(a)) with the norm's direction swapped."""
    _check_out(out, "hfft")
    a = as_node(a)
    return irfft_op(_conj(a, "hfft"), _axis(a, axis, "hfft"), n, _SWAPPED[_norm(norm)])


def ihfft(a: Any, n: Optional[int] = None, axis: int = -1, norm: Optional[str] = None,
          out: Any = None) -> Node:
    """NumPy's ``fft.ihfft``: the inverse of hfft, conj(rfft(a)) with the norm's direction
    swapped."""
    _check_out(out, "ihfft")
    a = as_node(a)
    return _conj(rfft_op(a, _axis(a, axis, "ihfft"), n, _SWAPPED[_norm(norm)]), "ihfft")


def _shift_axes(x: Node, axes: Any, fn: str) -> Any:
    # NumPy rolls once per listed axis, repeats included, so the list is kept as given
    if axes is None:
        return None
    listed = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    for a in listed:
        if not -x.ndim <= a < x.ndim:
            raise ShapeError(f"{fn}: axis {a} is out of range for a {x.ndim}-d input{_where()}")
    return tuple(int(a) % x.ndim for a in listed)


def fftshift(x: Any, axes: Any = None) -> Node:
    """NumPy's ``fft.fftshift``: the zero frequency moved to the centre."""
    x = as_node(x)
    return fftshift_op(x, _shift_axes(x, axes, "fftshift"), False)


def ifftshift(x: Any, axes: Any = None) -> Node:
    """NumPy's ``fft.ifftshift``: the inverse of fftshift."""
    x = as_node(x)
    return fftshift_op(x, _shift_axes(x, axes, "ifftshift"), True)
