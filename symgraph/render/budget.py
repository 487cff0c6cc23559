"""Node budgets: which name scopes to draw as single boxes so a big graph stays readable.

Above the budget the deepest scopes collapse first, one level at a time, until the drawing
fits or no scope is left; scopes the caller names are always collapsed. When no scope is
left to fold, both ends of the order are kept and one box stands for the middle. Every
style and view plans with the same function; ``weights`` lets a drawn entry stand for
several boxes (a layer drawn unit by unit).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from symgraph.graph import Node
from symgraph.render import palette
from symgraph.render.figure import Box, Figure, Link


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


def _count(parts_of: list[list[str]], fixed: list[str], weights: Sequence[int],
           depth: int) -> int:
    """How many boxes remain when every scope at ``depth`` or deeper is collapsed."""
    boxes = 0
    groups: dict[str, None] = {}
    for parts, group, weight in zip(parts_of, fixed, weights):
        if group:
            groups[group] = None
        elif depth and len(parts) >= depth:
            groups["/".join(parts[:depth])] = None
        else:
            boxes += weight
    return boxes + len(groups)


def _ends(weights: Sequence[int], budget: int) -> tuple[int, int]:
    """``(head, tail)``: entries ``[:head]`` and ``[tail:]`` fit in ``budget - 1`` boxes
    (the last box stands for the middle), the room shared evenly between both ends."""
    room = budget - 1
    head, used = 0, 0
    while head < len(weights) and used + weights[head] <= room // 2:
        used += weights[head]
        head += 1
    tail = len(weights)
    while tail > head and used + weights[tail - 1] <= room:
        used += weights[tail - 1]
        tail -= 1
    return head, tail


def plan_collapse(nodes: Sequence[Node], budget: int, collapse: Sequence[str],
                  weights: Optional[Sequence[int]] = None, noun: str = "nodes",
                  scopes: Optional[Sequence[str]] = None) -> CollapsePlan:
    """Decide which nodes to fold into scope boxes (see the module docstring). ``weights``:
    boxes each node is drawn as (1 each by default); ``noun`` names the nodes in the note;
    ``scopes``: the scope each node is drawn in (its own by default)."""
    weights = [1] * len(nodes) if weights is None else list(weights)
    explicit = sorted((c.strip("/").split("/") for c in collapse if c.strip("/")), key=len)
    scopes = [n.scope for n in nodes] if scopes is None else list(scopes)
    parts_of = [s.split("/") if s else [] for s in scopes]
    fixed = [_explicit_group(p, explicit) for p in parts_of]
    depth = max((len(p) for p in parts_of), default=0)
    cut, runs = 0, 0
    group_of = _groups(nodes, parts_of, fixed, 0)
    count = _count(parts_of, fixed, weights, 0)
    # Collapse one level at a time, deepest first, until the drawing fits the budget; at
    # each level, runs of alike scopes (layer1 ... layer31) fold before a shallower cut.
    while count > budget and depth >= 1:
        cut = depth
        group_of = _groups(nodes, parts_of, fixed, cut)
        count = _count(parts_of, fixed, weights, cut)
        if count > budget:
            count, runs = _merge_repeats(group_of, nodes, count, budget)
        depth -= 1
    total = sum(weights)
    size = f"{len(nodes)} {noun}" + (f" ({total} boxes)" if total != len(nodes) else "")
    note = ""
    if cut:
        note = (f"{size} above the budget of {budget}: scopes at depth {cut} and deeper "
                f"collapsed")
        if runs:
            note += f", {runs} run(s) of alike scopes drawn as one box each"
        note += f" ({count} boxes)"
    if count > budget:
        # No scope left to fold: keep both ends of the order (the inputs and the outputs)
        # and stand one box in for the middle, so Graphviz never gets a drawing it would
        # take minutes to lay out. A collapsed scope is kept or left out whole.
        elided = _elide_middle(nodes, weights, group_of, budget)
        for n in elided:
            group_of[id(n)] = ELIDED
        note = (note + ", then" if note else f"{size} above the budget of {budget}:") + (
            f" the middle {len(elided)} {noun} (topological order) drawn as one box; "
            "pass budget=... to draw more")
    return CollapsePlan(group_of, note)


REPEAT = re.compile(r"^(.*?)(\d+)$")


def _groups(nodes: Sequence[Node], parts_of: list[list[str]], fixed: list[str],
            cut: int) -> dict[int, str]:
    """``id(node) -> collapsed scope path`` when scopes at depth ``cut`` and deeper fold."""
    group_of: dict[int, str] = {}
    for n, parts, group in zip(nodes, parts_of, fixed):
        if group:
            group_of[id(n)] = group
        elif cut and len(parts) >= cut:
            group_of[id(n)] = "/".join(parts[:cut])
    return group_of


def _merge_repeats(group_of: dict, nodes: Sequence[Node], count: int,
                   budget: int) -> tuple[int, int]:
    """Fold runs of three or more collapsed sibling scopes named alike (``layer1`` ...
    ``layer31``: a deep network's layers, or their gradient blocks) so the first and the
    last stay and one box stands for those between (``layer2 … layer30``). Returns the
    new box count and the number of runs folded."""
    runs: dict[tuple[str, str], dict[str, None]] = {}   # (parent, stem) -> paths in order
    for n in nodes:
        path = group_of.get(id(n))
        if path is None:
            continue
        parent, _, leaf = path.rpartition("/")
        match = REPEAT.match(leaf)
        if match:
            runs.setdefault((parent, match.group(1)), {})[path] = None
    merged = 0
    for (parent, stem), ordered in runs.items():
        paths = list(ordered)
        if len(paths) < 3 or count <= budget:
            continue
        middle = set(paths[1:-1])
        first = paths[1].rpartition("/")[2]
        last = paths[-2].rpartition("/")[2]
        name = (parent + "/" if parent else "") + f"{first} … {last} (×{len(middle)})"
        for n in nodes:
            if group_of.get(id(n)) in middle:
                group_of[id(n)] = name
        count -= len(middle) - 1
        merged += 1
    return count, merged


def _elide_middle(nodes: Sequence[Node], weights: Sequence[int], group_of: dict,
                  budget: int) -> list[Node]:
    """The nodes to leave out: those of the boxes between the two ends that fit."""
    box_of: list[int] = []            # per node: its box, numbered by first appearance
    box_weight: list[int] = []
    first: dict[str, int] = {}
    for n, weight in zip(nodes, weights):
        group = group_of.get(id(n))
        if group is None:
            box_of.append(len(box_weight))
            box_weight.append(weight)
        else:
            if group not in first:
                first[group] = len(box_weight)
                box_weight.append(1)
            box_of.append(first[group])
    head, tail = _ends(box_weight, budget)
    return [n for n, b in zip(nodes, box_of) if head <= b < tail]


def collapsed_box(key: str, path: str, count: int, group: str = "", noun: str = "nodes",
                  detail: str = "") -> Box:
    """The folder box standing for a collapsed scope (or, for ``ELIDED``, for the middle of
    an over-budget drawing) holding ``count`` entries; ``detail`` adds a line of text."""
    extra = f"\n{detail}" if detail else ""
    if path == ELIDED:
        return Box(key, f"… {count} {noun} not drawn{extra}", palette.COLLAPSED, "", group,
                   f"{count} {noun} left out to keep within the node budget{extra}")
    parent = path.rpartition("/")[0]
    return Box(key, f"{path.rpartition('/')[2]}\n{count} {noun}{extra}", palette.COLLAPSED,
               parent, group, f"scope {path}: {count} {noun} collapsed{extra}")


def merge_links(links: Sequence[Link], max_names: int = 4) -> list[Link]:
    """``links`` without self-loops (edges inside one collapsed box) and with one link per
    (source, target) pair, labelled with the distinct names (``"W, c"`` counts as two) of
    the links it stands for, at most ``max_names`` of them."""
    first: dict[tuple[str, str], int] = {}
    names: list[dict[str, None]] = []   # ordered sets
    out: list[Link] = []
    for link in links:
        if link.src == link.dst:
            continue
        pair = (link.src, link.dst)
        if pair not in first:
            first[pair] = len(out)
            out.append(link)
            names.append({})
        for name in link.label.split(", ") if link.label else ():
            names[first[pair]][name] = None
    for at, link in enumerate(out):
        held = list(names[at])
        label = ", ".join(held[:max_names])
        if len(held) > max_names:
            label += f", … (+{len(held) - max_names})"
        if label != link.label:
            out[at] = Link(link.src, link.dst, label, link.attrs)
    return out


def join_caption(caption: Optional[str], note: str) -> str:
    """The caller's caption with the budget's note under it: a drawing that leaves nodes
    out always says so."""
    return "\n".join(t for t in (caption, note) if t)


# The layout cost (boxes + edges) a default drawing may have: Graphviz lays out such a
# drawing in about a second on a laptop core (benchmarks/render_layout.py measures the
# zoo of real models). A budget the caller gives is used as given.
MAX_COST = 650


def layout_cost(fig: Figure) -> int:
    """What Graphviz's time grows with: boxes and edges (invisible ones included)."""
    return len(fig.boxes) + len(fig.links)


def fit_cost(build: Callable[[int], Figure], budget: int, given: bool) -> Figure:
    """``build(budget)``, and when the caller left the budget at its default, rebuilt with
    smaller budgets until its layout cost is at most ``MAX_COST``."""
    fig = build(budget)
    while not given and layout_cost(fig) > MAX_COST and budget > 8:
        # Cost grows about in proportion to the budget: aim a little under the limit.
        budget = max(8, min(budget - 1, int(budget * 0.9 * MAX_COST / layout_cost(fig))))
        fig = build(budget)
    return fig
