"""Common-subexpression elimination by structural hashing.

Two nodes merge when they apply the same op with the same attributes to the same (already
merged) inputs; for commutative ops the inputs are compared as a sorted list, so ``a*b``
and ``b*a`` merge. Small constants merge by value.
"""
from __future__ import annotations

from typing import Hashable, Optional, Sequence


from symgraph.graph import Node, toposort
from symgraph.ops.registry import get_op
from symgraph.passes.provenance import KEPT, MERGED, Fate, PassResult
from symgraph.passes.rewrite import Rule

_CONST_MERGE_LIMIT = 4096  # bytes; bigger constants are hashed by identity only


def _const_key(n: Node) -> Optional[Hashable]:
    if n.type.weak:
        return ("const", n.dtype.str, True, type(n.payload).__name__, repr(n.payload))
    arr = n.payload
    if arr.nbytes > _CONST_MERGE_LIMIT:
        return None
    return ("const", n.dtype.str, False, arr.shape, arr.tobytes())


def _key(n: Node, inputs: Sequence[Node]) -> Optional[Hashable]:
    if n.op == "const":
        return _const_key(n)
    if not n.inputs:   # vars and params are themselves
        return None
    ids = [i.id for i in inputs]
    if get_op(n.op).commutative:
        ids.sort()
    return (n.op, n.attrs, tuple(ids), n.type)


def cse(outputs: Sequence[Node]) -> PassResult:
    """Merge structurally equal nodes; every old node is ``kept`` or ``merged``."""
    table: dict[Hashable, Node] = {}
    new_of: dict[int, Node] = {}
    fates: dict[int, Fate] = {}
    for n in toposort(outputs):
        inputs = [new_of[i.id] for i in n.inputs]
        key = _key(n, inputs)
        hit = table.get(key) if key is not None else None
        if hit is not None:
            new_of[n.id] = hit
            fates[n.id] = Fate(n, hit, MERGED, "cse")
            continue
        same = all(a is b for a, b in zip(inputs, n.inputs))
        m = n if same else n.with_inputs(inputs)
        if key is not None:
            table[key] = m
        new_of[n.id] = m
        fates[n.id] = Fate(n, m, KEPT)
    return PassResult(tuple(new_of[o.id] for o in outputs), fates, "cse")


def merge_rule() -> Rule:
    """CSE as a rewrite rule, for passes that merge while they rewrite: a node whose key
    was seen before becomes that node; otherwise it is remembered. Offer it last."""
    table: dict[Hashable, Node] = {}

    def merge(n: Node) -> Optional[Node]:
        # n -> the structurally equal node seen first
        key = _key(n, n.inputs)
        if key is None:
            return None
        hit = table.setdefault(key, n)
        return None if hit is n else hit
    return Rule("cse", merge, how=MERGED)
