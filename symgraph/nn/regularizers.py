"""Weight penalties added to a loss: L1, L2 (weight decay) and both (elastic net).

L2 is ``lam / 2 * sum w^2``, so its gradient is ``lam * w``: with SGD the update becomes
``w <- w - lr (grad J + lam w)``, the textbook's weight decay. L1 is ``lam * sum |w|``;
its (sub)gradient ``lam * sign(w)`` pushes small weights to exactly zero.
"""
from __future__ import annotations

from typing import Sequence

import symgraph as sg


def l2(weights: Sequence[sg.Node], lam: float) -> sg.Node:
    """lam / 2 * sum of squares of every weight."""
    terms = [sg.sum(sg.square(w)) for w in weights]
    return 0.5 * lam * _total(terms)


def l1(weights: Sequence[sg.Node], lam: float) -> sg.Node:
    """lam * sum of absolute values of every weight."""
    return lam * _total([sg.sum(sg.abs(w)) for w in weights])


def l1_l2(weights: Sequence[sg.Node], lam1: float, lam2: float) -> sg.Node:
    """Both penalties (elastic net)."""
    return l1(weights, lam1) + l2(weights, lam2)


def _total(terms: list[sg.Node]) -> sg.Node:
    if not terms:
        return sg.const(0.0)
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out
