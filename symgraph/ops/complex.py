"""The parts of complex numbers: real, imag, conj and angle.

None of them is holomorphic, so their rules are where the complex convention shows
(docs/higher-order.md, "Complex numbers"): a VJP is the transpose of the JVP's real-linear
map under the pairing <a, b> = Re(sum(a b)), which is JAX's. For real(z) = x the cotangent
g becomes g + 0i; for imag(z) = y it becomes -i g; conj transposes to conj.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import DTypeError
from symgraph.graph import Node
from symgraph.ops.elementwise import _declare, _unary, divide, multiply
from symgraph.ops.elementwise_math import rad2deg
from symgraph.ops.registry import apply, as_node


def _is_complex(x: Node) -> bool:
    return x.dtype.kind == "c"


def _real_vjp(node, g): return (g,)      # Re(g t) = g Re(t): the cotangent is g + 0i
def _real_jvp(node, t): return real(t[0])
def _imag_vjp(node, g):
    # Re((-i g) t) = g Im(t)
    return (multiply(g, -1j) if _is_complex(node.inputs[0]) else None,)
def _imag_jvp(node, t): return imag(t[0]) if _is_complex(node.inputs[0]) else None
def _conj_vjp(node, g): return (conj(g),)
def _conj_jvp(node, t): return conj(t[0])


def _angle_vjp(node, g):
    # angle(z) = Im(log z), so d angle = Im(dz / z) = Re(-i dz / z): the cotangent is -i g / z.
    # A real input's angle is 0 or π, flat in x.
    z = node.inputs[0]
    return (multiply(g, divide(-1j, z)) if _is_complex(z) else None,)


def _angle_jvp(node, t):
    z = node.inputs[0]
    return imag(divide(t[0], z)) if _is_complex(z) else None


def _angle_kernel(z, deg=False):
    return np.angle(z, deg=deg)


_declare("real", np.real, _real_vjp, _real_jvp, complex_ok=True)
_declare("imag", np.imag, _imag_vjp, _imag_jvp, complex_ok=True)
_declare("conj", np.conjugate, _conj_vjp, _conj_jvp, complex_ok=True)
_declare("angle", _angle_kernel, _angle_vjp, _angle_jvp, complex_ok=True)

real = _unary("real", 'The real part of x (x itself for real x)')
imag = _unary("imag", 'The imaginary part of x (zeros for real x)')
conj = _unary("conj", 'The complex conjugate of x')
conjugate = conj


def angle(z: Any, deg: bool = False, name_: Optional[str] = None) -> Node:
    """The argument of ``z`` in radians (degrees with ``deg=True``), in (-pi, pi]."""
    out = apply("angle", [as_node(z)], name_)
    return rad2deg(out) if deg else out


def real_if_close(a: Any, tol: float = 100) -> Node:
    """NumPy's ``real_if_close`` for real ``a`` (``a`` itself). For complex ``a`` NumPy's
    result dtype depends on the values, which a graph must know when it is built: use
    ``sg.real`` where the imaginary parts are known to be negligible."""
    a = as_node(a)
    if _is_complex(a):
        raise DTypeError(f"real_if_close: the result's dtype would depend on the values of "
                         f"{a.label} ({a.type}); use sg.real(x) when the imaginary parts are "
                         f"negligible{a.where()}")
    return a
