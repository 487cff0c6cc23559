"""sg.fft against NumPy (float32/complex64 and float64/complex128), each VJP against the
explicit transpose of the transform's Jacobian (JAX's convention: <a, b> = Re(sum(a b)),
no conjugation), each JVP against the transform of the tangent, and real-valued losses
against finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
from symgraph.testing import check_grads

F = sg.fft


def _basis(shape, k, scale=1.0):
    e = np.zeros(int(np.prod(shape)), dtype=complex if isinstance(scale, complex) else float)
    e[k] = scale
    return e.reshape(shape)


def _transpose_by_columns(fn, x, g):
    """(J^T g)_k = Re(sum(g J e_k)) for real x; d/dx - i d/dy (of Re(sum(g f))) for complex x."""
    out = np.zeros(x.shape, complex if np.iscomplexobj(x) else float)
    for k in range(x.size):
        d = np.real(np.sum(g * fn(_basis(x.shape, k))))
        if np.iscomplexobj(x):
            d = d - 1j * np.real(np.sum(g * fn(_basis(x.shape, k, 1j))))
        out.flat[k] = d
    return out


_C2C = [
    ("fft", lambda a, **kw: F.fft(a, **kw), lambda a, **kw: np.fft.fft(a, **kw), {}),
    ("fft-n-pad", lambda a, **kw: F.fft(a, n=11, **kw), lambda a, **kw: np.fft.fft(a, n=11, **kw), {}),
    ("ifft-n-crop-axis0", lambda a, **kw: F.ifft(a, n=2, axis=0, **kw),
     lambda a, **kw: np.fft.ifft(a, n=2, axis=0, **kw), {}),
    ("fft2", lambda a, **kw: F.fft2(a, **kw), lambda a, **kw: np.fft.fft2(a, **kw), {}),
    ("ifftn-s", lambda a, **kw: F.ifftn(a, s=(2, 9), **kw),
     lambda a, **kw: np.fft.ifftn(a, s=(2, 9), axes=(0, 1), **kw), {}),
    ("irfft", lambda a, **kw: F.irfft(a, **kw), lambda a, **kw: np.fft.irfft(a, **kw), {}),
    ("irfft-odd", lambda a, **kw: F.irfft(a, n=9, **kw), lambda a, **kw: np.fft.irfft(a, n=9, **kw), {}),
    ("irfft-long", lambda a, **kw: F.irfft(a, n=20, **kw), lambda a, **kw: np.fft.irfft(a, n=20, **kw), {}),
    ("irfft-short-axis0", lambda a, **kw: F.irfft(a, n=4, axis=0, **kw),
     lambda a, **kw: np.fft.irfft(a, n=4, axis=0, **kw), {}),
    ("irfftn", lambda a, **kw: F.irfftn(a, **kw), lambda a, **kw: np.fft.irfftn(a, **kw), {}),
    ("fftshift", lambda a, **kw: F.fftshift(a), lambda a, **kw: np.fft.fftshift(a), {}),
    ("ifftshift", lambda a, **kw: F.ifftshift(a, axes=1), lambda a, **kw: np.fft.ifftshift(a, axes=1), {}),
]
_R2C = [
    ("rfft", lambda a, **kw: F.rfft(a, **kw), lambda a, **kw: np.fft.rfft(a, **kw)),
    ("rfft-n-crop", lambda a, **kw: F.rfft(a, n=5, **kw), lambda a, **kw: np.fft.rfft(a, n=5, **kw)),
    ("rfft-n-pad-axis0", lambda a, **kw: F.rfft(a, n=12, axis=0, **kw),
     lambda a, **kw: np.fft.rfft(a, n=12, axis=0, **kw)),
    ("rfftn", lambda a, **kw: F.rfftn(a, **kw), lambda a, **kw: np.fft.rfftn(a, **kw)),
]


def _check_linear_map(build, ref, x, rng):
    v = sg.var("v", x.shape, x.dtype)
    y = build(v)
    out = sg.function([v], y)(x)
    np.testing.assert_allclose(out, ref(x), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    if np.iscomplexobj(out):
        g = g + 1j * rng.standard_normal(out.shape)
    ct = sg.function([v], sg.vjp(y, v, g.astype(out.dtype)))(x)
    np.testing.assert_allclose(ct, _transpose_by_columns(ref, x, g), rtol=1e-9, atol=1e-9)
    t = rng.standard_normal(x.shape) + (1j * rng.standard_normal(x.shape) if np.iscomplexobj(x) else 0)
    tangent = sg.function([v], sg.jvp(y, [v], [t.astype(x.dtype)]))(x)
    np.testing.assert_allclose(tangent, ref(t), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("name,build,ref,_", _C2C, ids=[c[0] for c in _C2C])
@pytest.mark.parametrize("kind", ["real", "complex"])
def test_complex_transforms_vjp_is_the_transpose(name, build, ref, _, norm, kind, rng):
    x = rng.standard_normal((3, 8))
    if kind == "complex":
        x = x + 1j * rng.standard_normal((3, 8))
    _check_linear_map(lambda v: build(v, norm=norm) if "shift" not in name else build(v),
                      lambda a: ref(a, norm=norm) if "shift" not in name else ref(a), x, rng)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("name,build,ref", _R2C, ids=[c[0] for c in _R2C])
@pytest.mark.parametrize("length", [8, 7])
def test_rfft_vjp_is_the_transpose_with_the_hermitian_halving(name, build, ref, norm, length, rng):
    x = rng.standard_normal((3, length))
    _check_linear_map(lambda v: build(v, norm=norm), lambda a: ref(a, norm=norm), x, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_values_and_dtypes_match_numpy(dtype, rng):
    x = rng.standard_normal((4, 6))
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal((4, 6))
    x = x.astype(dtype)
    v = sg.var("x", x.shape, dtype)
    cases = [(F.fft(v), np.fft.fft(x)), (F.ifft2(v), np.fft.ifft2(x)),
             (F.fftn(v, s=(3, 8)), np.fft.fftn(x, s=(3, 8), axes=(0, 1))), (F.irfft(v), np.fft.irfft(x)),
             (F.fftshift(v), np.fft.fftshift(x))]
    if np.dtype(dtype).kind == "f":
        cases.append((F.rfft(v, n=5), np.fft.rfft(x, n=5)))
    for node, expected in cases:
        value = sg.function([v], node)(x)
        assert value.dtype == node.dtype == expected.dtype, node
        assert value.shape == node.shape == expected.shape
        tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(value, expected, rtol=tol, atol=tol)
        # the cotangent comes back in the input's dtype (complex64 -> complex64, ...)
        assert sg.vjp(node, v, np.ones(node.shape, node.dtype)).dtype == dtype


def test_rfft_of_a_real_input_is_an_error():
    with pytest.raises(sg.DTypeError, match="rfft: needs a real input"):
        F.rfft(sg.var("z", (4,), "complex128"))
    with pytest.raises(TypeError, match="out= has no meaning"):
        F.fft(sg.var("x", (4,)), out=np.zeros(4, complex))


_needs_complex_ops = pytest.mark.skipif(not hasattr(sg, "real"),
                                        reason="sg.real/sg.abs of complex come with np-elementwise")


@_needs_complex_ops
def test_real_losses_match_finite_differences(rng):
    x = rng.standard_normal(7)
    w = rng.standard_normal(7)
    check_grads(lambda a: sg.sum(sg.abs(F.rfft(a)) ** 2), [x], order=2)
    check_grads(lambda a: sg.sum(sg.real(F.fft(a)) * w), [x], order=2)
    check_grads(lambda a: sg.sum(F.irfft(F.rfft(a) * (1 + 0.5j)) ** 2), [x], order=2)
    z = rng.standard_normal((2, 4)) + 1j * rng.standard_normal((2, 4))
    check_grads(lambda a: sg.sum(sg.abs(F.fft2(a)) ** 2), [z], order=2)


@_needs_complex_ops
def test_parseval_gradient_in_closed_form(rng):
    # sum |rfft(x)|^2 counts the Hermitian half: its gradient is 2 n x minus corrections
    # at the unpaired bins; against the full spectrum, sum |fft(x)|^2 = n sum x^2 exactly
    x = rng.standard_normal(8)
    v = sg.var("x", (8,))
    g = sg.function([v], sg.grad(sg.sum(sg.abs(F.fft(v)) ** 2), v))(x)
    np.testing.assert_allclose(g, 2 * 8 * x, rtol=1e-10)


@pytest.mark.parametrize("length", [8, 7])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_filtering_losses_through_the_half_spectrum_match_finite_differences(length, norm, rng):
    # real in, real out, complex in between: the Hermitian halving of rfft and irfft must
    # cancel exactly for these to agree with finite differences of the real loss
    x = rng.standard_normal((2, length))
    h = rng.standard_normal(length // 2 + 1) + 1j * rng.standard_normal(length // 2 + 1)
    w = rng.standard_normal((2, length))
    check_grads(lambda a: sg.sum(F.irfft(F.rfft(a, norm=norm) * h, n=length, norm=norm) ** 2),
                [x], order=2)
    check_grads(lambda a: sg.sum(F.irfftn(F.rfftn(a, norm=norm) * h, s=(2, length), norm=norm) * w),
                [x], order=2)
    check_grads(lambda a: sg.sum(F.irfft(F.fft(a, norm=norm)[..., : length // 2 + 1] * h,
                                         n=length, norm=norm) ** 3), [x], order=2)


def test_two_dimensional_real_transforms_and_frequencies(rng):
    x = rng.standard_normal((3, 4))
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    v, vz = sg.var("x", x.shape), sg.var("z", z.shape, "complex128")
    for s in [None, (3, 6)]:
        np.testing.assert_allclose(sg.function([v], F.rfft2(v, s=s))(x), np.fft.rfft2(x, s=s), rtol=1e-12)
        np.testing.assert_allclose(sg.function([vz], F.irfft2(vz, s=s))(z), np.fft.irfft2(z, s=s),
                                   rtol=1e-12)
    check_grads(lambda a: sg.sum(F.irfft2(F.rfft2(a) * (1 + 0.5j)) ** 2), [x], order=2)
    # the frequencies are NumPy's own (sizes in, a constant out), passed through by snp
    import symgraph.numpy as snp
    assert snp.fft.fftfreq is np.fft.fftfreq and snp.fft.rfftfreq is np.fft.rfftfreq


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_hfft_and_ihfft_of_real_signals(norm, rng):
    x = rng.standard_normal((2, 5))
    v = sg.var("x", x.shape)
    np.testing.assert_allclose(sg.function([v], F.hfft(v, norm=norm))(x), np.fft.hfft(x, norm=norm),
                               rtol=1e-12)
    check_grads(lambda a: F.hfft(a, n=7, norm=norm), [x], order=2)


@pytest.mark.skipif("conj" not in sg.ops.REGISTRY, reason="the conj op comes with np-elementwise")
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_hfft_and_ihfft_of_complex_signals(norm, rng):
    z = rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5))
    x = rng.standard_normal((2, 6))
    vz, v = sg.var("z", z.shape, "complex128"), sg.var("x", x.shape)
    np.testing.assert_allclose(sg.function([vz], F.hfft(vz, norm=norm))(z), np.fft.hfft(z, norm=norm),
                               rtol=1e-12)
    np.testing.assert_allclose(sg.function([v], F.ihfft(v, norm=norm))(x), np.fft.ihfft(x, norm=norm),
                               rtol=1e-12)
    check_grads(lambda a: F.hfft(a, norm=norm), [z], order=2)
    check_grads(lambda a: F.ihfft(a, norm=norm), [x], order=2)
