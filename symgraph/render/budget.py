"""Node budgets: which name scopes to draw as single boxes so a big graph stays readable.

Above the budget the deepest scopes collapse first, one level at a time, until the drawing
fits or no scope is left; scopes the caller names are always collapsed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from symgraph.graph import Node


ELIDED = "\u2026"   # the group of nodes left out of an over-budget drawing


@dataclass(frozen=True)
class CollapsePlan:
    """``group_of``: ``id(node) -> scope path`` for every node drawn inside a collapsed box;
    ``note``: what was done, for the caption ("" when nothing was)."""

    group_of: dict
    note: str


def _explicit_group(parts: list[str], explicit: Sequence[list[str]]) -> str:
    for want in explicit:
        if parts[:len(want)] == want:
            return "/".join(want)
    return ""


def _count(parts_of: list[list[str]], fixed: list[str], depth: int) -> int:
    """How many boxes remain when every scope at ``depth`` or deeper is collapsed."""
    boxes = 0
    groups: dict[str, None] = {}
    for parts, group in zip(parts_of, fixed):
        if group:
            groups[group] = None
        elif depth and len(parts) >= depth:
            groups["/".join(parts[:depth])] = None
        else:
            boxes += 1
    return boxes + len(groups)


def plan_collapse(nodes: Sequence[Node], budget: int, collapse: Sequence[str]) -> CollapsePlan:
    """Decide which nodes to fold into scope boxes (see the module docstring)."""
    explicit = sorted((c.strip("/").split("/") for c in collapse if c.strip("/")), key=len)
    parts_of = [n.scope.split("/") if n.scope else [] for n in nodes]
    fixed = [_explicit_group(p, explicit) for p in parts_of]
    depth = max((len(p) for p in parts_of), default=0)
    cut = 0
    count = _count(parts_of, fixed, 0)
    # Collapse one level at a time, deepest first, until the drawing fits the budget.
    while count > budget and depth >= 1:
        cut = depth
        count = _count(parts_of, fixed, cut)
        depth -= 1
    group_of: dict[int, str] = {}
    for n, parts, group in zip(nodes, parts_of, fixed):
        if group:
            group_of[id(n)] = group
        elif cut and len(parts) >= cut:
            group_of[id(n)] = "/".join(parts[:cut])
    notes = []
    if cut:
        notes.append(f"{len(nodes)} nodes above the budget of {budget}: scopes at depth "
                     f"{cut} and deeper collapsed, {count} boxes drawn")
    if count > budget:
        # No scope left to fold: keep both ends of the topological order (the inputs and
        # the outputs) and stand one box in for the middle, so Graphviz never gets a
        # drawing it would take minutes to lay out.
        head = budget // 2
        tail = len(nodes) - (budget - head)
        for n in nodes[head:tail]:
            group_of[id(n)] = ELIDED
        notes.append(f"{len(nodes)} nodes above the budget of {budget}: the middle "
                     f"{tail - head} nodes (topological order) drawn as one box; "
                     "pass budget=... to draw more")
    return CollapsePlan(group_of, "; ".join(notes))
