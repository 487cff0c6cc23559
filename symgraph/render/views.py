"""Views that tell a story about a graph: the gradient view (forward graph plus the nodes
differentiation appended), the optimisation view (every original node coloured by its fate
in the compiler) and ``diff`` (added / removed / shared nodes of two graphs)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.graph import Graph, Node
from symgraph.render import palette
from symgraph.render.build import as_graph, make_options
from symgraph.render.dot import figure_to_dot
from symgraph.render.figure import Box, Drawing, Figure, Link
from symgraph.render.labels import name_map, tooltip
from symgraph.render.styles import graph_figure, legend_entries, ops_label
from symgraph.runtime.function import Function


# --- gradient view --------------------------------------------------------------------------
def gradient_view(y: Any, wrt: Optional[Any] = None, style: str = "ops",
                  **options: Any) -> Drawing:
    """``y`` with its gradient nodes: ``d y / d wrt`` is built (``wrt`` defaults to every
    parameter) and drawn with the forward graph; nodes both use are drawn once. Without
    parameters and ``wrt``, ``y`` (a node or list) is drawn as given."""
    from symgraph.autodiff import grad
    outs = [y] if isinstance(y, Node) else list(y)
    if wrt is None:
        params = Graph(outs).params
        wrt = list(params) if params else None
    if wrt is not None:
        wrts = [wrt] if isinstance(wrt, Node) else list(wrt)
        outs = outs + list(grad(outs[0], wrts))
    graph = Graph(outs)
    n_grad = sum(1 for n in graph.nodes if n.is_grad)
    caption = (f"{len(graph) - n_grad} forward nodes + {n_grad} gradient nodes appended by "
               "differentiation (shared nodes drawn once)")
    opts = make_options(style, dict(options, caption=options.get("caption") or caption))
    fig = graph_figure(graph, opts)
    return Drawing(figure_to_dot(fig), fig.caption,
                   (("forward", len(graph) - n_grad), ("gradient", n_grad)))


# --- optimisation view ---------------------------------------------------------------------
def fate_caption(before: int, after: int, counts: dict[str, int]) -> str:
    """``"80 -> 47 nodes: CSE merged 5, folded 3, simplified 12, dead 13"``."""
    known = [h for h in palette.FATE_ORDER if h != palette.KEPT]
    extra = sorted(h for h in counts if h not in palette.FATE_ORDER)
    parts = [f"{palette.FATE_WORDS.get(h, h)} {counts[h]}" for h in known + extra
             if counts.get(h)]
    return f"{before} -> {after} nodes: " + (", ".join(parts) if parts else "nothing changed")


def _compiled_parts(f: Any) -> tuple[Graph, Graph, dict]:
    """(user's graph, optimised graph, fates) of a Function or an ``(outputs, PassResult)``
    pair (the latter lets a caller show one pass on its own)."""
    if isinstance(f, Function):
        return f.user_graph, f.graph, f.provenance.fates
    if isinstance(f, tuple) and len(f) == 2 and hasattr(f[1], "fates"):
        outputs, result = f
        outs = [outputs] if isinstance(outputs, Node) else list(outputs)
        return Graph(outs), Graph(list(result.outputs)), result.fates
    raise TypeError("optimization_view takes a compiled sg.function or an (outputs, "
                    f"PassResult) pair, got {type(f).__name__}")


def optimization_view(f: Any, after: bool = True, style: str = "ops",
                      **options: Any) -> Drawing:
    """The user's graph before compiling, each node coloured by its fate (kept, merged into
    another node, folded, rewritten, dead), beside the optimised graph when ``after``."""
    user_graph, new_graph, fates = _compiled_parts(f)
    counts: dict[str, int] = {}
    for n in user_graph.nodes:
        fate = fates.get(n.id)
        how = fate.how if fate is not None else palette.KEPT
        counts[how] = counts.get(how, 0) + 1
    caption = fate_caption(len(user_graph), len(new_graph), counts)
    opts = make_options(style, dict(options, caption=options.get("caption") or caption))
    before = graph_figure(user_graph, opts, prefix="b", group="before")
    boxes, links = _colour_by_fate(user_graph, fates, before)
    groups = [("before", f"before: {len(user_graph)} nodes")]
    if after:
        fig_after = graph_figure(new_graph, replace(opts, legend=False,
                                                    names=_names_after(opts.names, fates)),
                                 prefix="a", group="after")
        boxes += list(fig_after.boxes)
        links += list(fig_after.links)
        groups.append(("after", f"after: {len(new_graph)} nodes"))
    legend = ()
    if opts.legend:
        legend = tuple(e for e in before.legend if e != "kind:operation") + tuple(
            "fate:" + h for h in palette.FATE_ORDER if counts.get(h)) + tuple(
            "fate:" + h for h in sorted(counts) if h not in palette.FATE_ORDER)
    fig = Figure(tuple(boxes), tuple(links), caption, before.rankdir, tuple(groups), legend,
                 before.clusters)
    return Drawing(figure_to_dot(fig), caption, tuple(sorted(counts.items())))


def _names_after(names: Optional[dict], fates: dict) -> dict:
    """The caller's names carried over to the nodes that stand for the named ones."""
    out = dict(names or {})
    for node, label in (names or {}).items():
        fate = fates.get(node.id)
        if fate is not None and fate.new is not None:
            out.setdefault(fate.new, label)
    return out


def _colour_by_fate(user_graph: Graph, fates: dict,
                    before: Figure) -> tuple[list[Box], list[Link]]:
    nodes = user_graph.nodes
    key_of = {n.id: f"b{i}" for i, n in enumerate(nodes)}
    # The node that stands for a merged one: the kept original whose new node it became.
    survivor: dict[int, str] = {}
    for n in nodes:
        fate = fates.get(n.id)
        if fate is not None and fate.how == palette.KEPT and fate.new is not None:
            survivor.setdefault(id(fate.new), key_of[n.id])
    fate_of_key = {key_of[n.id]: fates.get(n.id) for n in nodes}
    first_line = {b.key: b.label.split("\n")[0] for b in before.boxes}
    boxes, links = [], list(before.links)
    for box in before.boxes:
        fate = fate_of_key.get(box.key)
        if fate is None or fate.how == palette.KEPT:
            boxes.append(box)
            continue
        look = palette.FATE_LOOK.get(fate.how, palette.FATE_LOOK[palette.REWRITTEN])
        note = fate.how + (f" by {fate.rule}" if fate.rule else "")
        target = survivor.get(id(fate.new)) if fate.new is not None else None
        if fate.how == palette.MERGED and target in first_line:
            note = f"merged into {first_line[target]}"
            links.append(Link(box.key, target, "merged",
                              (("style", "dashed"), ("color", "#b08800"),
                               ("constraint", "false"))))
        boxes.append(replace(box, label=f"{box.label}\n[{note}]",
                             tooltip=f"{box.tooltip}\n{note}".strip(),
                             attrs=box.attrs + tuple(look.items())))
    return boxes, links


# --- diff -----------------------------------------------------------------------------------
def _const_key(n: Node) -> tuple:
    value = np.asarray(n.payload)
    if value.nbytes > 4096:
        return ("const-id", id(n))
    return ("const", value.dtype.str, value.shape, value.tobytes())


def _structure(nodes: Sequence[Node], table: dict) -> list[int]:
    """A structural class per node: same op, attributes, type and input classes (leaves:
    the same variable or parameter; constants: the same value). Shared ``table`` makes
    classes comparable across graphs."""
    cls: dict[int, int] = {}
    out = []
    for n in nodes:
        if n.op in ("var", "param"):
            key: tuple = ("leaf", id(n))
        elif n.op == "const":
            key = _const_key(n)
        else:
            key = (n.op, n.attrs, n.type.shape, n.dtype.str, tuple(cls[id(i)] for i in n.inputs))
        c = table.setdefault(key, len(table))
        cls[id(n)] = c
        out.append(c)
    return out


def _occurrences(classes: list[int]) -> list[tuple[int, int]]:
    """(class, how many earlier nodes share it) per node: pairs equal nodes in order."""
    seen: dict[int, int] = {}
    out = []
    for c in classes:
        out.append((c, seen.get(c, 0)))
        seen[c] = seen.get(c, 0) + 1
    return out


def _diff_side(graph: Graph, keys: list[str], occ: list, other: Any, status_if_alone: str,
               draw_shared: bool, ctx: dict) -> None:
    """Boxes and links for one graph of a diff; nodes the other graph also holds are
    ``shared`` (drawn from ``g2`` only, so each appears once)."""
    names, types, locations = ctx["names"], ctx["types"], ctx["locations"]
    for n, key, o in zip(graph.nodes, keys, occ):
        status = palette.SHARED if o in other else status_if_alone
        if status == palette.SHARED and not draw_shared:
            continue
        ctx["counts"][status] += 1
        label = ops_label(n, names, types)
        if status != palette.SHARED:
            label += f"\n[{status}]"
        ctx["boxes"].append(Box(key, label, palette.node_kind(n), n.scope, "",
                                tooltip(n, locations), output=id(n) in ctx["outputs"],
                                attrs=tuple(palette.DIFF_LOOK[status].items())))
        ctx["links"].extend(Link(keys[graph.index(i)], key) for i in n.inputs)


def diff(g1: Any, g2: Any, **options: Any) -> Drawing:
    """One drawing of two graphs (nodes, lists, Graphs or Functions — a Function stands for
    its optimised graph): nodes of both drawn once, nodes only in ``g1`` as removed, nodes
    only in ``g2`` as added. Nodes match by structure, so a recompiled copy matches."""
    a, b = as_graph(g1), as_graph(g2)
    opts = make_options("ops", options)
    table: dict = {}
    occ_a = _occurrences(_structure(a.nodes, table))
    occ_b = _occurrences(_structure(b.nodes, table))
    key_of_b = {o: f"d{i}" for i, o in enumerate(occ_b)}
    keys_b = [f"d{i}" for i in range(len(occ_b))]
    # A node of g1 that g2 shares is drawn (and linked to) as g2's box.
    keys_a = [key_of_b.get(o, f"r{i}") for i, o in enumerate(occ_a)]
    ctx = {"names": name_map(opts.names), "types": opts.types is not False,
           "locations": opts.locations, "boxes": [], "links": [],
           "outputs": {id(o) for o in a.outputs} | {id(o) for o in b.outputs},
           "counts": {palette.SHARED: 0, palette.ADDED: 0, palette.REMOVED: 0}}
    _diff_side(b, keys_b, occ_b, set(occ_a), palette.ADDED, True, ctx)
    _diff_side(a, keys_a, occ_a, key_of_b, palette.REMOVED, False, ctx)
    counts = ctx["counts"]
    caption = opts.caption or (f"diff: {counts[palette.SHARED]} shared, "
                               f"{counts[palette.REMOVED]} removed, {counts[palette.ADDED]} added")
    legend = ()
    if opts.legend:
        legend = legend_entries(ctx["boxes"]) + tuple(
            "diff:" + s for s in (palette.SHARED, palette.REMOVED, palette.ADDED) if counts[s])
    fig = Figure(tuple(ctx["boxes"]), tuple(ctx["links"]), caption, opts.rankdir or "TB", (),
                 legend, opts.clusters)
    return Drawing(figure_to_dot(fig), caption, tuple(sorted(counts.items())))
