"""Scale placement: a scalar factor of a matrix product moves onto the product's smaller
operand, where multiplying by it costs fewer element passes.

An SGD update of a weight matrix is ``W - lr * (x.T @ delta)``: the factor scales the
784x256 gradient, when scaling the 128x256 ``delta`` before the product gives the same
numbers (up to rounding) for a sixth of the work, and leaves the update one pass
(``W - product``). The move needs to know that nothing else reads the product, which a
local rule does not: the sign pass (``signs.py``), which counts readers, applies it in its
walk. It never adds a node: the old multiply and product are replaced by a new multiply
and product.
"""
from __future__ import annotations

import math
from typing import Optional

from symgraph.graph import Node
from symgraph.passes.rewrite import build


def _size(n: Node) -> Optional[int]:
    return None if None in n.shape else math.prod(n.shape)


def move_scale(n: Node, uses: dict[int, int]) -> Optional[Node]:
    """``n`` with its scalar factor moved into the product it scales, or None; ``uses``
    counts the readers of each matmul node (a product read elsewhere keeps its factor)."""
    if n.op != "multiply":
        return None
    for factor, product in (n.inputs, n.inputs[::-1]):
        if product.op != "matmul" or factor.shape != () or uses.get(product.id, 0) != 1:
            continue
        if product.dtype != n.dtype or not (factor.type.weak or factor.dtype == n.dtype):
            continue        # a factor that promotes the product stays where its cast is
        a, b = product.inputs
        total, sa, sb = _size(product), _size(a), _size(b)
        if None in (total, sa, sb) or min(sa, sb) >= total:
            continue
        # On a tie, scale the operand that is not a transposed view (scaling a view writes
        # a fresh array in the view's strides for nothing).
        first = sa < sb or (sa == sb and a.op != "transpose")
        if first:
            # c * (A @ B) -> (c * A) @ B   when A is the smallest of A, B and A @ B
            scaled = build("multiply", [factor, a], n)
            out = build("matmul", [scaled, b], n, root=True)
        else:
            # c * (A @ B) -> A @ (c * B)   when B is the smallest
            scaled = build("multiply", [factor, b], n)
            out = build("matmul", [a, scaled], n, root=True)
        if scaled.type == (a if first else b).type and out.type == n.type:
            return out
    return None
