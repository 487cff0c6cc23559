"""Matrix products with NumPy's ``matmul`` semantics (vectors, matrices, batches)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symgraph.errors import ShapeError
from symgraph.graph import Node
from symgraph.ops.elementwise import _sum_tangents, multiply
from symgraph.ops.registry import Op, apply, as_node, register
from symgraph.ops.shape import expand_dims, squeeze, swapaxes_last
from symgraph.types import TensorType, broadcast_shapes, format_shape, promote


def _matmul_infer(types, attrs, where):
    a, b = types
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands need at least one axis, got "
                         f"{format_shape(a.shape)} @ {format_shape(b.shape)}{where}")
    ashape = (1,) + a.shape if a.ndim == 1 else a.shape
    bshape = b.shape + (1,) if b.ndim == 1 else b.shape
    k1, k2 = ashape[-1], bshape[-2]
    if k1 is not None and k2 is not None and k1 != k2:
        raise ShapeError(f"matmul: inner sizes differ: {format_shape(a.shape)} @ "
                         f"{format_shape(b.shape)} (axis -1 of the left has {k1}, axis "
                         f"{-2 if b.ndim > 1 else 0} of the right has {k2}){where}")
    batch = broadcast_shapes("matmul", [ashape[:-2], bshape[:-2]], where)
    shape = batch + (ashape[-2], bshape[-1])
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return TensorType(shape, promote("matmul", types, where).dtype)


def _matmul_vjp(node, g):
    # For C = A @ B: dA = dC @ B^T and dB = A^T @ dC, with vectors lifted to matrices and
    # batch broadcasting summed away by the reverse pass.
    a, b = node.inputs
    A = expand_dims(a, 0) if a.ndim == 1 else a
    B = expand_dims(b, -1) if b.ndim == 1 else b
    G = g
    if a.ndim == 1:
        G = expand_dims(G, G.ndim - 1 if b.ndim > 1 else 0)
    if b.ndim == 1:
        G = expand_dims(G, G.ndim)
    ga = matmul(G, swapaxes_last(B))
    gb = matmul(swapaxes_last(A), G)
    if a.ndim == 1:
        ga = squeeze(ga, ga.ndim - 2)
    if b.ndim == 1:
        gb = squeeze(gb, gb.ndim - 1)
    return (ga, gb)


def _matmul_jvp(node, t):
    a, b = node.inputs
    return _sum_tangents(None if t[0] is None else matmul(t[0], b),
                         None if t[1] is None else matmul(a, t[1]))


register(Op("matmul", _matmul_infer, np.matmul, _matmul_vjp, _matmul_jvp, complex_ok=True))


def matmul(a: Any, b: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``a @ b``."""
    return apply("matmul", [as_node(a), as_node(b)], name_)


def dot(a: Any, b: Any, name_: Optional[str] = None) -> Node:
    """NumPy's ``dot``: the product for a scalar, ``a @ b`` for vectors and matrices, and
    for N-d arrays the sum over a's last axis and b's second to last (its only one when b
    is 1-D), keeping every other axis of both (a tensordot, not matmul's stacks)."""
    a, b = as_node(a), as_node(b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b, name_)
    if a.ndim > 2 or b.ndim > 2:
        from symgraph.ops.einsum import tensordot  # einsum.py builds on this module
        return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2 if b.ndim > 1 else 0]))
    return matmul(a, b, name_)


def outer(a: Any, b: Any, name_: Optional[str] = None) -> Node:
    """Outer product of two vectors."""
    return matmul(expand_dims(as_node(a), 1), expand_dims(as_node(b), 0), name_)
