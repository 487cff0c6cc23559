"""Gradient clipping by global norm: rescale every gradient by one factor so that their
joint Euclidean norm is at most ``max_norm`` (Pascanu et al., 2013)."""
from __future__ import annotations

from typing import Sequence

import symgraph as sg
from symgraph.errors import ArgumentError


def global_norm(grads: Sequence[sg.Node]) -> sg.Node:
    """``sqrt(sum of every gradient's squared entries)``."""
    if not grads:
        raise ArgumentError("global_norm: no gradients given")
    total = sg.sum(sg.square(grads[0]))
    for g in grads[1:]:
        total = total + sg.sum(sg.square(g))
    return sg.sqrt(total)


def clip_by_global_norm(grads: Sequence[sg.Node], max_norm: float) -> list[sg.Node]:
    """``g * max_norm / max(norm, max_norm)`` for each ``g``: unchanged while the global
    norm is within ``max_norm``, scaled down together (directions kept) beyond it."""
    if not max_norm > 0:
        raise ArgumentError(f"clip_by_global_norm: max_norm must be positive, got {max_norm!r}")
    grads = list(grads)
    norm = global_norm(grads)
    scale = float(max_norm) / sg.maximum(norm, float(max_norm))
    return [g * sg.cast(scale, g.dtype) for g in grads]
