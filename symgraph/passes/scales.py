"""Scale placement: a scalar factor of a matrix product moves onto the product's smaller
operand, where multiplying by it costs fewer element passes.

An SGD update of a weight matrix is ``W - lr * (x.T @ delta)``: the factor scales the
784x256 gradient, when scaling the 128x256 ``delta`` before the product gives the same
numbers (up to rounding) for a sixth of the work, and leaves the update one pass
(``W - product``). The move needs to know that nothing else reads the product, which a
local rule does not, so it is a pass of its own, like ``signs``. It never adds a node:
the old multiply and product are replaced by a new multiply and product.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

from symgraph.graph import Node, toposort
from symgraph.passes.provenance import KEPT, REWRITTEN, Fate, PassResult
from symgraph.passes.rewrite import build, relinked


def _product_uses(order: Sequence[Node], outputs: Sequence[Node]) -> dict[int, int]:
    """matmul node id -> how many nodes (and output slots) read it."""
    count: dict[int, int] = {}
    for n in order:
        for i in dict.fromkeys(x for x in n.inputs if x.op == "matmul"):
            count[i.id] = count.get(i.id, 0) + 1
    for o in outputs:
        if o.op == "matmul":
            count[o.id] = count.get(o.id, 0) + 1
    return count


def _size(n: Node) -> Optional[int]:
    return None if None in n.shape else math.prod(n.shape)


def _move(n: Node, uses: dict[int, int]) -> Optional[Node]:
    """``n`` with its scalar factor moved into the product it scales, or None."""
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


def scales(outputs: Sequence[Node]) -> PassResult:
    """Move scalar factors of lone matrix products onto their smaller operand."""
    order = toposort(outputs)
    uses = _product_uses(order, outputs)
    changed: dict[int, Node] = {}      # old node id -> the node standing for it now
    fates: dict[int, Fate] = {}
    for n in order:
        current = relinked(n, changed)
        if current is not n and n.id in uses:
            uses[current.id] = uses[n.id]
        moved = _move(current, uses) if uses else None
        if moved is not None:
            current = moved
        if current is not n:
            changed[n.id] = current
        fates[n.id] = (Fate(n, current, REWRITTEN, "scale_smaller_operand") if moved is not None
                       else Fate(n, current, KEPT))
    return PassResult(tuple(changed.get(o.id, o) for o in outputs), fates, "scales")
