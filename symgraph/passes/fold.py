"""Constant folding: a node whose inputs are all constants is computed once, at compile time.

Inputs an op reads only for their shape (``broadcast_like``'s reference, say) count as
constant when their static shape is fully known and computing them cannot fail on shapes
(``rewrite.shape_safe``). A kernel that fails while folding is left
in the graph, so the error still surfaces, with its message, when the function runs.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.ops.registry import get_op
from symgraph.passes.provenance import FOLDED, PassResult
from symgraph.passes.rewrite import Rule, make_const, run_rules, shape_safe, static

# Bigger results stay computed at run time: a folded constant lives as long as the function.
FOLD_LIMIT_BYTES = 1 << 18


def _folded_value(n: Node) -> Optional[np.ndarray]:
    if not n.inputs:
        return None
    op = None
    for k, x in enumerate(n.inputs):          # the cheap test first: most nodes fail it
        if x.op != "const":
            op = op or get_op(n.op)
            if not (k in op.shape_only_inputs and static(x.shape) and shape_safe(x)):
                return None
    op = op or get_op(n.op)
    if op.kernel is None or not static(n.shape):
        return None
    if math.prod(n.shape) * n.dtype.itemsize > FOLD_LIMIT_BYTES:
        return None
    args = [np.broadcast_to(np.zeros((), x.dtype), x.shape) if x.op != "const" else x.payload
            for x in n.inputs]
    try:
        # (the rewrite engine runs every rule under np.errstate(all="ignore"))
        value = op.kernel(*args, **dict(n.attrs))
    except Exception:  # noqa: BLE001 - the run-time call reports it with context
        return None
    arr = np.asarray(value)
    if arr.shape != n.shape or arr.dtype != n.dtype:
        return None
    return arr


def _fold(n: Node) -> Optional[Node]:
    # op(const, const, ...) -> const
    value = _folded_value(n)
    return None if value is None else make_const(value, n, root=True)


FOLD_RULES = (Rule("fold", _fold, how=FOLDED),)


def fold(outputs: Sequence[Node]) -> PassResult:
    """Replace every node computable from constants alone by its value."""
    return run_rules(outputs, FOLD_RULES, "fold")
