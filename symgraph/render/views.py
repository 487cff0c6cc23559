"""Views that tell a story about a graph: the gradient view (forward graph plus the nodes
differentiation appended), the optimisation view (every original node coloured by its fate
in the compiler) and ``diff`` (added / removed / shared nodes of two graphs)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.graph import Graph, Node
from symgraph.render import palette
from symgraph.render.budget import (collapsed_box, fit_cost, join_caption, merge_links,
                                    plan_collapse)
from symgraph.render.build import as_graph, make_options
from symgraph.render.dot import figure_to_dot
from symgraph.render.figure import Box, Drawing, Figure, Link, remaker
from symgraph.render.labels import leaf_names, name_map, tooltip
from symgraph.render.styles import graph_figure, legend_entries, ops_label
from symgraph.runtime.function import Function


VIEW_STYLES = ("ops", "expr")


def _view_style(view: str, style: str, allowed: tuple[str, ...] = VIEW_STYLES) -> str:
    """``style`` when ``view`` can draw in it; otherwise a clear error (never silently
    another style)."""
    if style not in allowed:
        raise ValueError(f"{view} draws in the {' or '.join(repr(s) for s in allowed)} style, "
                         f"not {style!r} (the network styles draw forward graphs only)")
    return style


# --- gradient view --------------------------------------------------------------------------
def gradient_view(y: Any, wrt: Optional[Any] = None, style: str = "ops",
                  **options: Any) -> Drawing:
    """``y`` with its gradient nodes: ``d y / d wrt`` is built (``wrt`` defaults to every
    parameter) and drawn with the forward graph; nodes both use are drawn once. Without
    parameters and ``wrt``, ``y`` (a node or list) is drawn as given."""
    from symgraph.autodiff import grad
    again = remaker(gradient_view, y, wrt, style=style, **options)
    _view_style("gradient_view", style)
    outs = [y] if isinstance(y, Node) else list(y)
    if wrt is None:
        params = Graph(outs).params
        wrt = list(params) if params else None
    if wrt is not None:
        wrts = [wrt] if isinstance(wrt, Node) else list(wrt)
        grads = list(grad(outs[0], wrts))
        outs = outs + grads
        options = dict(options, names=_gradient_names(outs[0], wrts, grads,
                                                      options.get("names")))
    graph = Graph(outs)
    n_grad = sum(1 for n in graph.nodes if n.is_grad)
    caption = (f"{len(graph) - n_grad} forward nodes + {n_grad} gradient nodes appended by "
               "differentiation (shared nodes drawn once)")
    opts = make_options(style, dict(options, caption=options.get("caption") or caption))
    scopes = gradient_scopes(graph)
    fig = fit_cost(lambda budget: _stacked(graph_figure(graph, replace(opts, budget=budget),
                                                        scopes=scopes)),
                   opts.budget, "budget" in options)
    return Drawing(figure_to_dot(fig), fig.caption,
                   (("forward", len(graph) - n_grad), ("gradient", n_grad)), again)


GRAD = "∇"   # the first part of the drawing scope of a gradient node: ∇layer1/dense


def gradient_scopes(graph: Graph) -> dict[int, str]:
    """A drawing scope for each gradient node (gradient nodes have none of their own): the
    scope of the latest forward value it reads, marked ``∇`` (``∇mlp/layer3``), else that
    of its gradient inputs; constants only gradient nodes read go with their first reader,
    and unscoped values computed from a gradient (a parameter's update) with it.
    So the gradient of a deep network collapses layer by layer, as its forward graph does."""
    out: dict[int, str] = {}
    users: dict[int, list[Node]] = {}
    for n in graph.nodes:
        for i in n.inputs:
            users.setdefault(id(i), []).append(n)
        if not n.is_grad:
            # An unscoped value computed from a gradient (an update W - lr * g) goes with
            # it, so a training step's updates fold with their layer's gradient block.
            if not n.scope and n.inputs and n.op != "const":
                out_scope = next((out[id(i)] for i in n.inputs if out.get(id(i))), "")
                if out_scope:
                    out[id(n)] = out_scope
            continue
        forward = [i for i in n.inputs if not i.is_grad and i.op not in ("const", "var")]
        if forward:
            latest = max(forward, key=graph.index)
            out[id(n)] = GRAD + latest.scope if latest.scope else ""
        else:
            out[id(n)] = next((out[id(i)] for i in n.inputs if out.get(id(i))), "")
    for n in graph.nodes:
        readers = users.get(id(n), [])
        if n.op == "const" and readers and all(id(r) in out for r in readers):
            out[id(n)] = out[id(readers[0])]
    return out


def _in_gradient(box: Box) -> bool:
    return box.kind == palette.GRADIENT or box.tooltip.startswith("scope " + GRAD)


def _stacked(fig: Figure) -> Figure:
    """The gradient drawn under the forward graph as its own block: edges from forward
    values into gradient nodes do not pull those nodes up (``constraint=false``, grey), and
    invisible edges hang the gradient's first nodes under the loss. This keeps the view
    about as wide as the wider of the two parts rather than their sum."""
    back = {b.key for b in fig.boxes if _in_gradient(b)}
    if not back:
        return fig
    # Constants only the gradient reads (the seed 1, the 2 of d x²) belong to its block.
    readers: dict[str, list[str]] = {}
    for link in fig.links:
        readers.setdefault(link.src, []).append(link.dst)
    back |= {b.key for b in fig.boxes if b.kind == palette.CONSTANT and readers.get(b.key)
             and all(r in back for r in readers[b.key])}
    fed = {l.dst for l in fig.links if l.src in back}
    loss_key = _loss_box(fig, back)
    links = []
    for link in fig.links:
        if link.dst in back and link.src not in back:
            link = replace(link, attrs=link.attrs + (("constraint", "false"),
                                                     ("color", "#9a9a9a")))
        links.append(link)
    if loss_key is not None:
        links += [Link(loss_key, b.key, "", (("style", "invis"),)) for b in fig.boxes
                  if b.key in back and b.key not in fed]
    return replace(fig, links=tuple(links),
                   attrs=fig.attrs + (("nodesep", "0.12"), ("ranksep", "0.3")))


def _loss_box(fig: Figure, back: set[str]) -> Optional[str]:
    """The forward output the gradient hangs under: of the outputs that read no gradient
    node (an update ``W - lr * g`` does), the one with the most boxes upstream (the loss,
    not a step counter)."""
    inputs: dict[str, list[str]] = {}
    for link in fig.links:
        inputs.setdefault(link.dst, []).append(link.src)
    best, best_size = None, -1
    for box in fig.boxes:
        if not box.output or box.key in back:
            continue
        seen, stack = {box.key}, [box.key]
        while stack:
            for src in inputs.get(stack.pop(), ()):
                if src not in seen:
                    seen.add(src)
                    stack.append(src)
        if not seen & back and len(seen) > best_size:
            best, best_size = box.key, len(seen)
    return best


def _gradient_names(y: Node, wrts: list[Node], grads: list[Node],
                    names: Optional[dict]) -> dict:
    """The caller's names plus ``∂y/∂W`` for each gradient the caller left unnamed, so the
    outputs of a gradient view say which derivative they are."""
    out = dict(names or {})
    given = name_map(names)
    y_name = given.get(id(y)) or y.name or "y"
    wrt_names = leaf_names(wrts, given)
    for w, g in zip(wrts, grads):
        if g is not None and g not in out and not g.name and g.inputs:
            w_name = wrt_names[id(w)]
            # A scoped name is bracketed so its "/" does not read as the fraction's.
            out[g] = f"∂{y_name}/∂" + (f"({w_name})" if "/" in w_name else w_name)
    return out


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
    again = remaker(optimization_view, f, after=after, style=style, **options)
    _view_style("optimization_view", style)
    counts: dict[str, int] = {}
    for n in user_graph.nodes:
        fate = fates.get(n.id)
        how = fate.how if fate is not None else palette.KEPT
        counts[how] = counts.get(how, 0) + 1
    caption = fate_caption(len(user_graph), len(new_graph), counts)
    opts = make_options(style, options)
    fig = fit_cost(lambda budget: _fates_figure(user_graph, new_graph, fates, counts, after,
                                                replace(opts, budget=budget), caption),
                   opts.budget, "budget" in options)
    return Drawing(figure_to_dot(fig), fig.caption, tuple(sorted(counts.items())), again)


def _fates_figure(user_graph: Graph, new_graph: Graph, fates: dict, counts: dict,
                  after: bool, opts: Any, caption: str) -> Figure:
    budget_before, budget_after = _split_budget(opts.budget, len(user_graph),
                                                len(new_graph) if after else 0)
    # A training step's graph holds gradient nodes: each half is drawn as the gradient view
    # is (the gradient under the forward graph), and "after" goes under "before", not
    # beside it, so the view is about as wide as one half.
    grads = any(n.is_grad for n in user_graph.nodes)
    scopes = gradient_scopes(user_graph) if grads else None
    before = graph_figure(user_graph, replace(opts, caption=None, budget=budget_before),
                          prefix="b", group="before", scopes=scopes)
    before = _stacked(before) if grads else before
    boxes, links = _colour_by_fate(user_graph, fates, before)
    groups = [("before", f"before: {len(user_graph)} nodes")]
    notes = [f"before: {before.caption}" if before.caption else ""]
    if after:
        fig_after = graph_figure(new_graph, replace(opts, legend=False, caption=None,
                                                    budget=budget_after,
                                                    names=_names_after(opts.names, fates)),
                                 prefix="a", group="after",
                                 scopes=gradient_scopes(new_graph) if grads else None)
        if grads:
            fig_after = _stacked(fig_after)
            # The outputs of "before" (else, when they are folded away, its last boxes)
            # over every first box of "after".
            fed = {link.dst for link in fig_after.links}
            read = {link.src for link in before.links}
            ends = [b for b in before.boxes if b.output] or [
                b for b in before.boxes if b.key not in read]
            links += [Link(b.key, r.key, "", (("style", "invis"),)) for b in ends
                      for r in fig_after.boxes if r.key not in fed]
        boxes += list(fig_after.boxes)
        links += list(fig_after.links)
        groups.append(("after", f"after: {len(new_graph)} nodes"))
        notes.append(f"after: {fig_after.caption}" if fig_after.caption else "")
    caption = join_caption(opts.caption or caption, "\n".join(t for t in notes if t))
    legend = ()
    if opts.legend:
        legend = tuple(e for e in legend_entries(boxes) if e != "kind:operation") + tuple(
            "fate:" + h for h in palette.FATE_ORDER if counts.get(h)) + tuple(
            "fate:" + h for h in sorted(counts) if h not in palette.FATE_ORDER)
    return Figure(tuple(boxes), tuple(links), caption, before.rankdir, tuple(groups), legend,
                  before.clusters, attrs=before.attrs, legend_below=grads and after)


def _split_budget(budget: int, before: int, after: int) -> tuple[int, int]:
    """The budget shared by the two halves of the optimisation view in proportion to their
    sizes, so the whole drawing stays within it."""
    if before + after <= budget or after == 0:
        return budget, budget
    share = max(1, min(budget - 1, round(budget * before / (before + after))))
    return share, max(1, budget - share)


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
            # A merged constant's label already names the value it became; a link from
            # each of them would only tangle the drawing (an optimiser step merges dozens).
            if box.kind != palette.CONSTANT:
                links.append(Link(box.key, target, "",
                                  (("style", "dashed"), ("color", "#b08800"),
                                   ("constraint", "false"), ("tooltip", note))))
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


@dataclass(frozen=True)
class _Entry:
    """One node of a diff drawing: the node, its DOT key, its status and its input keys."""

    node: Node
    key: str
    status: str
    inputs: tuple[str, ...]


def _diff_entries(a: Graph, b: Graph, occ_a: list, occ_b: list) -> list[_Entry]:
    """Every node of ``g2`` and the nodes only ``g1`` holds, once each, in one topological
    order: a node only in ``g1`` goes right after the last node it reads (its *anchor*)."""
    key_of_b = {o: f"d{i}" for i, o in enumerate(occ_b)}
    in_a = set(occ_a)
    keys_b = [f"d{i}" for i in range(len(occ_b))]
    # A node of g1 that g2 shares is drawn (and linked to) as g2's box.
    keys_a = [key_of_b.get(o, f"r{i}") for i, o in enumerate(occ_a)]
    ranked = []
    for i, n in enumerate(b.nodes):
        status = palette.SHARED if occ_b[i] in in_a else palette.ADDED
        ranked.append(((i, 0, i), _Entry(n, keys_b[i], status,
                                         tuple(keys_b[b.index(j)] for j in n.inputs))))
    anchor: list[int] = []
    for i, n in enumerate(a.nodes):
        shared = occ_a[i] in key_of_b
        anchor.append(int(keys_a[i][1:]) if shared else
                      max((anchor[a.index(j)] for j in n.inputs), default=-1))
        if not shared:
            ranked.append(((anchor[i], 1, i), _Entry(n, keys_a[i], palette.REMOVED,
                                                     tuple(keys_a[a.index(j)] for j in n.inputs))))
    ranked.sort(key=lambda r: r[0])
    return [e for _, e in ranked]


def _diff_box(e: _Entry, opts: Any, names: dict, outputs: set) -> Box:
    label = ops_label(e.node, names, opts.types is not False)
    if e.status != palette.SHARED:
        label += f"\n[{e.status}]"
    return Box(e.key, label, palette.node_kind(e.node), e.node.scope, "",
               tooltip(e.node, opts.locations), output=id(e.node) in outputs,
               attrs=tuple(palette.DIFF_LOOK[e.status].items()))


def _status_text(tally: dict[str, int]) -> str:
    return ", ".join(f"{tally[s]} {s}" for s in (palette.SHARED, palette.REMOVED, palette.ADDED)
                     if tally.get(s))


def diff(g1: Any, g2: Any, **options: Any) -> Drawing:
    """One drawing of two graphs (nodes, lists, Graphs or Functions — a Function stands for
    its optimised graph): nodes of both drawn once, nodes only in ``g1`` as removed, nodes
    only in ``g2`` as added. Nodes match by structure, so a recompiled copy matches. Above
    the budget, scopes collapse as in the ops style."""
    a, b = as_graph(g1), as_graph(g2)
    again = remaker(diff, g1, g2, **options)
    opts = make_options(_view_style("diff", options.pop("style", "ops"), ("ops",)), options)
    table: dict = {}
    occ_a = _occurrences(_structure(a.nodes, table))
    occ_b = _occurrences(_structure(b.nodes, table))
    entries = _diff_entries(a, b, occ_a, occ_b)
    counts = {palette.SHARED: 0, palette.ADDED: 0, palette.REMOVED: 0}
    for e in entries:
        counts[e.status] += 1
    fig = fit_cost(lambda budget: _diff_figure(a, b, entries, counts,
                                               replace(opts, budget=budget)),
                   opts.budget, "budget" in options)
    return Drawing(figure_to_dot(fig), fig.caption, tuple(sorted(counts.items())), again)


def _diff_figure(a: Graph, b: Graph, entries: list[_Entry], counts: dict,
                 opts: Any) -> Figure:
    plan = plan_collapse([e.node for e in entries], opts.budget, opts.collapse)
    tally: dict[str, dict[str, int]] = {}   # collapsed group -> status -> nodes
    for e in entries:
        path = plan.group_of.get(id(e.node))
        if path is not None:
            group = tally.setdefault(path, {})
            group[e.status] = group.get(e.status, 0) + 1
    names = name_map(opts.names)
    outputs = {id(o) for o in a.outputs} | {id(o) for o in b.outputs}
    final: dict[str, str] = {}
    made: dict[str, str] = {}
    boxes: list[Box] = []
    for e in entries:
        path = plan.group_of.get(id(e.node))
        if path is None:
            final[e.key] = e.key
            boxes.append(_diff_box(e, opts, names, outputs))
            continue
        if path not in made:
            made[path] = f"s{len(made)}"
            boxes.append(collapsed_box(made[path], path, sum(tally[path].values()),
                                       detail=_status_text(tally[path])))
        final[e.key] = made[path]
    links = [Link(final[src], final[e.key]) for e in entries for src in e.inputs]
    if made:
        links = merge_links(links)
    caption = join_caption(opts.caption or (f"diff: {counts[palette.SHARED]} shared, "
                                            f"{counts[palette.REMOVED]} removed, "
                                            f"{counts[palette.ADDED]} added"), plan.note)
    legend = ()
    if opts.legend:
        legend = legend_entries(boxes) + tuple(
            "diff:" + s for s in (palette.SHARED, palette.REMOVED, palette.ADDED) if counts[s])
    return Figure(tuple(boxes), tuple(links), caption, opts.rankdir or "TB", (),
                  legend, opts.clusters)
