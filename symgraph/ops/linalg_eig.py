"""The general eigendecomposition: ``eig`` (values and vectors) of square matrices.

The results are always complex (NumPy returns a real array when every eigenvalue happens
to be real, a type known only at run time). The rules follow the complex convention of
docs/higher-order.md (VJPs are plain transposes under <a, b> = Re(sum(a b))) and need the
complex parts ``real``, ``imag`` and ``conj``, which they build by name.

LAPACK normalises each eigenvector to unit length with its largest entry real, and the
derivative of the vectors follows that normalisation exactly (see ``_eig_vectors_jvp``).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import DTypeError
from symgraph.graph import Node
from symgraph.ops.elementwise import (abs, add, cast, divide, equal, multiply, negative,
                                      subtract)
from symgraph.ops.linalg import matmul
from symgraph.ops.linalg_decomp import _gaps
from symgraph.ops.linalg_solve import inv
from symgraph.ops.linalg_util import COMPLEX_OK, as_row, mT, mask, square_infer
from symgraph.ops.reduce import max, sum
from symgraph.ops.registry import REGISTRY, Op, apply, as_node, register
from symgraph.types import TensorType

def _complex_of(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.complex64) if dtype in (np.float32, np.complex64) else np.dtype(np.complex128)


def _eig_infer(which: str):
    def infer(types, attrs, where):
        shape = square_infer("eig", types[0], where)
        if types[0].dtype.kind == "b":
            raise DTypeError(f"eig: boolean input {types[0]}{where}")
        return TensorType(shape[:-1] if which == "values" else shape, _complex_of(types[0].dtype))
    return infer


def _eig_kernel(which: int):
    def run(a):
        out = np.linalg.eig(a)[which]
        return out.astype(_complex_of(np.asarray(a).dtype), copy=False)
    return run


def _part(name: str, x: Node) -> Node:
    if name not in REGISTRY:
        raise DTypeError(f"eig: derivatives need the complex op {name!r}{x.where()}")
    return apply(name, [x])


def _diag_embed(v: Node, like: Node) -> Node:
    return multiply(as_row(v), mask(like, "eye"))


def _colsum(x: Node) -> Node:
    return sum(x, axis=-2)


def _parts(node: Node):
    a = node.inputs[0]
    v = eig_vectors(a)
    vinv = inv(v)
    f = _gaps(eig_values(a))
    return a, v, vinv, f


def _phase_weights(v: Node) -> Node:
    """c = w conj(V) / sum(w |V|^2): w marks each column's largest entry (LAPACK makes it
    real), so Im(sum(c dV)) is the phase change a tangent dV makes there."""
    size = abs(v)
    w = cast(equal(size, max(size, axis=-2, keepdims=True)), v.dtype)
    return divide(multiply(w, _part("conj", v)), as_row(_colsum(multiply(w, multiply(size, size)))))


# A V = V diag(lam), M = V^-1 dA V:  d lam = diag(M)  ->  A_bar = V^-T diag(lam_bar) V^T
def _eig_values_vjp(node, g):
    a, v, vinv, f = _parts(node)
    return (matmul(mT(vinv), matmul(_diag_embed(g, v), mT(v))),)


def _eig_values_jvp(node, t):
    a, v, vinv, f = _parts(node)
    m = matmul(vinv, matmul(cast(t[0], v.dtype), v))
    return _colsum(multiply(m, mask(v, "eye")))


# dV0 = V (F o M), F_ij = 1/(lam_j - lam_i);
# dV1 = dV0 - V diag(Re(diag(V^H dV0)))           (each column keeps unit length)
# dV  = dV1 - i V diag(Im(sum(c o dV1)))           (each column's largest entry stays real)
def _eig_vectors_jvp(node, t):
    a, v, vinv, f = _parts(node)
    m = matmul(vinv, matmul(cast(t[0], v.dtype), v))
    dv0 = matmul(v, multiply(f, m))
    rho = _part("real", _colsum(multiply(_part("conj", v), dv0)))
    dv1 = subtract(dv0, multiply(v, as_row(rho)))
    theta = _part("imag", _colsum(multiply(_phase_weights(v), dv1)))
    return subtract(dv1, multiply(v, as_row(multiply(theta, 1j))))


# The transposes, step by step backwards (theta and rho are real):
#   theta_bar = Im(colsum(G V));  dV1_bar = G - i theta_bar c
#   rho_bar = -Re(colsum(dV1_bar V));  dV0_bar = dV1_bar + rho_bar conj(V)
#   M_bar = F o (V^T dV0_bar);  A_bar = V^-T M_bar V^T
def _eig_vectors_vjp(node, g):
    a, v, vinv, f = _parts(node)
    theta_bar = _part("imag", _colsum(multiply(g, v)))
    dv1_bar = subtract(g, multiply(as_row(multiply(theta_bar, 1j)), _phase_weights(v)))
    rho_bar = negative(_part("real", _colsum(multiply(dv1_bar, v))))
    dv0_bar = add(dv1_bar, multiply(as_row(rho_bar), _part("conj", v)))
    m_bar = multiply(f, matmul(mT(v), dv0_bar))
    return (matmul(mT(vinv), matmul(m_bar, mT(v))),)


# eig's results are complex by nature, so its ops exist only where ops carry the complex
# convention (the complex_ok field of Op, which complex support adds).
if COMPLEX_OK:
    register(Op("eig_values", _eig_infer("values"), _eig_kernel(0), _eig_values_vjp,
                _eig_values_jvp, **COMPLEX_OK))
    register(Op("eig_vectors", _eig_infer("vectors"), _eig_kernel(1), _eig_vectors_vjp,
                _eig_vectors_jvp, **COMPLEX_OK))


def _eig_op(name: str, a: Any, name_: Optional[str]) -> Node:
    if name not in REGISTRY:
        raise DTypeError("eig: needs complex support in symgraph's ops (this build has none)")
    return apply(name, [as_node(a)], name_)


def eig_values(a: Any, name_: Optional[str] = None) -> Node:
    """The eigenvalues of each square matrix, complex (``eig(a).eigenvalues``)."""
    return _eig_op("eig_values", a, name_)


def eig_vectors(a: Any, name_: Optional[str] = None) -> Node:
    """The unit eigenvectors (columns, largest entry real) of each square matrix, complex."""
    return _eig_op("eig_vectors", a, name_)
