"""Dead-code elimination: only what the outputs reach survives.

Rewrites leave behind nodes nothing reads any more (the ``softmax`` under a rewritten
``log(softmax(x))``, say). Such nodes are simply not reached from the new outputs; this
pass keeps every node that is, and ``compose`` records the others as ``dead``.
"""
from __future__ import annotations

from typing import Sequence

from symgraph.graph import Node, toposort
from symgraph.passes.provenance import KEPT, Fate, PassResult


def dce(outputs: Sequence[Node]) -> PassResult:
    """Keep every node ``outputs`` reach; the rest get the fate ``dead`` when composed."""
    fates = {n.id: Fate(n, n, KEPT) for n in toposort(outputs)}
    return PassResult(tuple(outputs), fates, "dce")
