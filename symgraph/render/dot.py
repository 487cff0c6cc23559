"""DOT text: writes a ``Figure`` as Graphviz source, and ``to_dot``, the public entry.

Pure Python and deterministic: DOT ids come from topological positions, clusters are
numbered in sorted scope order, attributes are written in a fixed order.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Optional

from symgraph.render import escape, palette
from symgraph.render.figure import Box, Drawing, Figure

FONT = "Helvetica"


def quote(text: str) -> str:
    """A DOT string literal (through ``escape``, the one place that makes text safe)."""
    return escape.dot_string(escape.shorten(text))


def _attr_list(attrs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={quote(v)}" for k, v in attrs if v != "")


@functools.lru_cache(maxsize=1024)
def _look_text(kind: str, output: bool, extra: tuple) -> str:
    # Cached: a drawing has a handful of looks but may have thousands of boxes.
    look = palette.look(kind, output)
    look.update(dict(extra))
    return _attr_list(list(look.items()))


def _box_line(box: Box) -> str:
    head = f"label={quote(box.label)}"
    if box.xlabel:
        head += f", xlabel={quote(box.xlabel)}"
    look = _look_text(box.kind, box.output, box.attrs)
    if look:
        head += ", " + look
    if box.tooltip:
        head += f", tooltip={quote(box.tooltip)}"
    return f"{box.key} [{head}];"


def _scope_parts(scope: str) -> list[str]:
    return scope.split("/") if scope else []


def _emit_boxes(lines: list[str], boxes: list[Box], clusters: bool, counter: list[int],
                indent: str) -> None:
    """Boxes nested in their scope clusters, opened and closed in sorted scope order
    (iteratively: the stack of open clusters is a list)."""
    if not clusters:
        lines.extend(indent + _box_line(b) for b in boxes)
        return
    by_scope: dict[str, list[Box]] = {}
    for b in boxes:
        by_scope.setdefault(b.scope, []).append(b)
    open_parts: list[str] = []
    for scope in sorted(by_scope, key=_scope_parts):
        parts = _scope_parts(scope)
        while open_parts and open_parts != parts[:len(open_parts)]:
            open_parts.pop()
            lines.append(indent + "  " * len(open_parts) + "}")
        while len(open_parts) < len(parts):
            open_parts.append(parts[len(open_parts)])
            pad = indent + "  " * (len(open_parts) - 1)
            path = "/".join(open_parts)
            lines.append(f"{pad}subgraph cluster_{counter[0]} {{")
            counter[0] += 1
            lines.append(f"{pad}  graph [{_attr_list([('label', open_parts[-1]), ('tooltip', 'scope ' + path), ('style', 'rounded,dashed'), ('color', '#888888'), ('fontcolor', '#444444')])}];")
        pad = indent + "  " * len(open_parts)
        lines.extend(pad + _box_line(b) for b in by_scope[scope])
    while open_parts:
        open_parts.pop()
        lines.append(indent + "  " * len(open_parts) + "}")


def _legend_look(entry: str) -> tuple[str, dict[str, str]]:
    family, _, name = entry.partition(":")
    if family == "kind":
        return palette.LEGEND_TEXT[name], palette.look(name, name == palette.OUTPUT)
    base = dict(palette.KIND_LOOK[palette.OPERATION])
    base["shape"] = "box"
    table = palette.FATE_LOOK if family == "fate" else palette.DIFF_LOOK
    base.update(table.get(name, palette.FATE_LOOK[palette.REWRITTEN]))
    return name, base


def _emit_legend(lines: list[str], entries: tuple[str, ...]) -> None:
    lines.append("  subgraph cluster_legend {")
    lines.append(f"    graph [{_attr_list([('label', 'legend'), ('style', 'rounded'), ('color', '#aaaaaa'), ('fontsize', '9')])}];")
    keys = []
    for k, entry in enumerate(entries):
        text, look = _legend_look(entry)
        look["fontsize"] = "9"
        attrs = [("label", text)] + list(look.items())
        lines.append(f"    legend{k} [{_attr_list(attrs)}];")
        keys.append(f"legend{k}")
    lines.append("    { rank=same; " + " ".join(keys) + " }")
    # Invisible edges keep the legend's boxes in their listed order.
    if len(keys) > 1:
        lines.append("    " + " -> ".join(keys) + " [style=invis];")
    lines.append("  }")


def _warn_long_labels(fig: Figure) -> None:
    """Name the nodes whose text the drawing shortens (Graphviz fails on strings over
    16,384 characters, without saying whose)."""
    long = [b for b in fig.boxes if len(b.label) > escape.MAX_LABEL]
    if not long:
        return
    where = "; ".join(f"{b.key} ({escape.clean(escape.shorten(b.label, 40))}"
                      + (f", {escape.clean(b.tooltip.splitlines()[-1])[:200]}" if b.tooltip
                         else "") + ")" for b in long[:3])
    more = f" and {len(long) - 3} more" if len(long) > 3 else ""
    warnings.warn(f"drawing: label of {len(long)} node(s) over {escape.MAX_LABEL} "
                  f"characters shortened: {where}{more}", RuntimeWarning, stacklevel=4)


# Above this many boxes, Graphviz's network-simplex passes (ranking and x placement) are
# capped: they are what takes minutes on a deep gradient graph; the cap costs little
# straightness (measured in benchmarks/render_layout.py).
BIG_DRAWING = 150


def _between_clusters(a: str, b: str) -> bool:
    """True for an edge between two scope clusters neither of which holds the other."""
    if not a or not b or a == b:
        return False
    return not (a.startswith(b + "/") or b.startswith(a + "/"))


def _layout_limits(boxes: int) -> list[tuple[str, str]]:
    if boxes <= BIG_DRAWING:
        return []
    return [("nslimit", "2"), ("nslimit1", "2"), ("mclimit", "0.5")]


def figure_to_dot(fig: Figure) -> str:
    """The DOT source of ``fig``."""
    _warn_long_labels(fig)
    lines = ["digraph symgraph {"]
    graph_attrs = [("rankdir", fig.rankdir), ("fontname", FONT), ("newrank", "true"),
                   ("labelloc", "b"), ("fontsize", "11")]
    if fig.caption:
        graph_attrs.append(("label", fig.caption))
    graph_attrs += list(fig.attrs) + _layout_limits(len(fig.boxes))
    lines.append(f"  graph [{_attr_list(graph_attrs)}];")
    lines.append(f"  node [{_attr_list([('fontname', FONT), ('fontsize', '10')])}];")
    lines.append(f"  edge [{_attr_list([('fontname', FONT), ('fontsize', '9'), ('color', '#444444'), ('arrowsize', '0.7')])}];")
    counter = [0]
    groups = [("", "")] + list(fig.groups)
    by_group: dict[str, list[Box]] = {g: [] for g, _ in groups}
    for b in fig.boxes:
        by_group.setdefault(b.group, []).append(b)
    for g, label in groups:
        if not g:
            _emit_boxes(lines, by_group[g], fig.clusters, counter, "  ")
            continue
        lines.append(f"  subgraph cluster_{g} {{")
        lines.append(f"    graph [{_attr_list([('label', label), ('style', 'rounded'), ('color', '#666666'), ('fontsize', '12')])}];")
        _emit_boxes(lines, by_group[g], fig.clusters, counter, "    ")
        lines.append("  }")
    scope_of = {b.key: b.scope for b in fig.boxes} if fig.clusters else {}
    for link in fig.links:
        attrs = ([("label", link.label)] if link.label else []) + list(link.attrs)
        if _between_clusters(scope_of.get(link.src, ""), scope_of.get(link.dst, "")):
            # A rank between two sibling clusters (a layer's weights sit one rank above
            # its matmul, where the previous layer ends): without it dot cannot stack
            # the clusters and draws a deep network as a staircase many times too wide.
            attrs.append(("minlen", "2"))
        tail = f" [{_attr_list(attrs)}]" if attrs else ""
        lines.append(f"  {link.src} -> {link.dst}{tail};")
    for rank in fig.ranks:
        lines.append("  { rank=same; " + " ".join(rank) + " }")
        # Invisible edges inside the rank keep its boxes in order (x1, x2, ... left to right).
        lines.append("  " + " -> ".join(rank) + " [style=invis];")
    if fig.legend:
        _emit_legend(lines, fig.legend)
        if fig.legend_below:
            # Hung under every output: a tall drawing keeps its width.
            lines.extend(f"  {b.key} -> legend0 [style=invis];" for b in fig.boxes if b.output)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(obj: Any, style: Optional[str] = None, **options: Any) -> str:
    """DOT text for ``obj`` — a node, a list of nodes, a ``Graph``, a compiled
    ``Function`` (its optimised graph) or a finished drawing from a view (redrawn with the
    options given, which override the ones it was drawn with).

    Styles: ``"ops"`` (the default: values as boxes, operations as ellipses), ``"expr"``
    (the textbook's variables u(1), u(2), ...), ``"layers"`` (one node per layer, weights on
    the edges), ``"units"`` (one node per scalar unit). Options: ``rankdir`` ("TB", "LR",
    "BT", "RL"), ``legend``, ``types`` (dtype and shape in labels), ``locations`` (the
    user's file:line in tooltips), ``budget`` (boxes before the deepest scopes collapse),
    ``collapse`` (scopes always drawn as one box), ``clusters`` (draw scopes), ``names``
    ({node: label}), ``caption``, ``max_units`` and ``show_biases`` (network styles).
    An option that cannot apply raises ``TypeError`` or ``ValueError``.
    """
    return draw(obj, style, **options).dot


def draw(obj: Any, style: Optional[str] = None, **options: Any) -> Drawing:
    """``obj`` drawn in ``style`` as a ``Drawing``: DOT text that displays itself in
    Jupyter and writes files with ``.render(path)`` (options as for ``to_dot``)."""
    if isinstance(obj, Drawing):
        return obj.redraw(style, **options)
    from symgraph.render.build import build_figure
    fig = build_figure(obj, style or "ops", options)
    return Drawing(figure_to_dot(fig), fig.caption, (("boxes", len(fig.boxes)),),
                   remake=functools.partial(_draw_again, obj, style, options))


def _draw_again(obj: Any, style: Optional[str], base: dict, **new: Any) -> Drawing:
    return draw(obj, new.pop("style", style), **dict(base, **new))
