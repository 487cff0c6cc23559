"""Op-table cases for the Fourier transforms (symgraph/ops/fft.py), on real and complex
inputs. Complex outputs and inputs are checked with JAX's convention (check_grads pairs
them as Re(sum(c o)) and moves complex inputs along both directions); their float32 twins
(complex64) are checked in tests/test_fft.py, so these cases do not claim float32 out."""
from __future__ import annotations

import numpy as np

import symgraph as sg

from op_case import Case, normal


def cnormal(*shapes: tuple):
    return lambda rng: [rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in shapes]


def _case(id_: str, op: str, inputs, build, ref, **kw) -> Case:
    kw.setdefault("keeps_dtype", False)
    return Case(id_, op, inputs, build, ref, **kw)


CASES: list[Case] = [
    _case("fft", "fft_c2c", normal((2, 6)), sg.fft.fft, np.fft.fft),
    _case("fft-complex-n-axis0", "fft_c2c", cnormal((5, 3)), lambda a: sg.fft.fft(a, n=4, axis=0),
          lambda a: np.fft.fft(a, n=4, axis=0)),
    _case("fft-pad-ortho", "fft_c2c", cnormal((2, 5)), lambda a: sg.fft.fft(a, n=8, norm="ortho"),
          lambda a: np.fft.fft(a, n=8, norm="ortho")),
    _case("ifft", "fft_c2c", cnormal((2, 6)), sg.fft.ifft, np.fft.ifft),
    _case("ifft-forward", "fft_c2c", normal((7,)), lambda a: sg.fft.ifft(a, norm="forward"),
          lambda a: np.fft.ifft(a, norm="forward")),
    _case("fft2", "fft_c2c", cnormal((2, 3, 4)), sg.fft.fft2, np.fft.fft2),
    _case("ifft2-s", "fft_c2c", normal((3, 4)), lambda a: sg.fft.ifft2(a, s=(4, 3)),
          lambda a: np.fft.ifft2(a, s=(4, 3))),
    _case("fftn", "fft_c2c", cnormal((2, 3, 4)), sg.fft.fftn, np.fft.fftn),
    _case("ifftn-axes", "fft_c2c", cnormal((2, 3, 4)), lambda a: sg.fft.ifftn(a, axes=(0, 2)),
          lambda a: np.fft.ifftn(a, axes=(0, 2))),
    _case("rfft", "rfft", normal((2, 8)), sg.fft.rfft, np.fft.rfft),
    _case("rfft-odd", "rfft", normal((3, 7)), sg.fft.rfft, np.fft.rfft),
    _case("rfft-n-axis0-ortho", "rfft", normal((5, 2)),
          lambda a: sg.fft.rfft(a, n=6, axis=0, norm="ortho"),
          lambda a: np.fft.rfft(a, n=6, axis=0, norm="ortho")),
    _case("irfft", "irfft", cnormal((2, 5)), sg.fft.irfft, np.fft.irfft),
    _case("irfft-odd-n", "irfft", cnormal((2, 5)), lambda a: sg.fft.irfft(a, n=9),
          lambda a: np.fft.irfft(a, n=9)),
    _case("irfft-crop-forward", "irfft", cnormal((6,)), lambda a: sg.fft.irfft(a, n=4, norm="forward"),
          lambda a: np.fft.irfft(a, n=4, norm="forward")),
    _case("irfftn", "irfft", cnormal((3, 4)), sg.fft.irfftn, np.fft.irfftn),
    Case("fftshift", "fftshift", normal((3, 4)), sg.fft.fftshift, np.fft.fftshift),
    Case("ifftshift-axis", "fftshift", normal((3, 5)), lambda a: sg.fft.ifftshift(a, axes=1),
         lambda a: np.fft.ifftshift(a, axes=1)),
    _case("fftshift-complex", "fftshift", cnormal((5,)), sg.fft.fftshift, np.fft.fftshift),
]
