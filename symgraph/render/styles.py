"""The node-per-value styles: ``"ops"`` (values as boxes, operations as ellipses, the
Theano/PyTensor convention) and ``"expr"`` (one node per variable named by the textbook's
rule: unnamed intermediates are u(1), u(2), ...; the op that makes a variable is written
beside it)."""
from __future__ import annotations

from typing import Optional

from symgraph.graph import Graph, Node
from symgraph.render import labels, palette
from symgraph.render.budget import collapsed_box, join_caption, plan_collapse
from symgraph.render.figure import Box, Figure, Link, Options

DEFAULT_RANKDIR = {"ops": "TB", "expr": "BT"}


def ops_label(node: Node, names: dict[int, str], types: bool) -> str:
    """``W`` / ``tanh`` / ``h: tanh``, with the type on a second line when ``types``."""
    name = labels.given_name(node, names)
    if node.op == "const":
        title = name or labels.const_text(node)
    elif node.op in ("var", "param"):
        title = name or node.op
    else:
        attrs = labels.attr_text(node)
        # Attributes on their own line keep boxes narrow (dot's width is the widest rank).
        title = node.op + (f"\n{attrs}" if attrs else "")
        title = f"{name}: {title}" if name else title
    return f"{title}\n{labels.type_text(node)}" if types else title


def expr_labels(graph: Graph, names: dict[int, str]) -> list[str]:
    """The textbook's variable names: given names, constant values, then u(1), u(2), ...
    for unnamed intermediates in topological order."""
    out = []
    counter = 0
    for n in graph.nodes:
        name = labels.given_name(n, names)
        if name:
            out.append(name)
        elif n.op == "const":
            out.append(labels.const_text(n))
        elif n.op in ("var", "param"):
            out.append(n.op)
        else:
            counter += 1
            out.append(f"u({counter})")
    return out


def _legend(boxes: list[Box]) -> tuple[str, ...]:
    seen = {b.kind for b in boxes}
    kinds = [k for k in (palette.INPUT, palette.PARAMETER, palette.CONSTANT, palette.OPERATION,
                         palette.GRADIENT, palette.COLLAPSED) if k in seen]
    if any(b.output for b in boxes):
        kinds.append(palette.OUTPUT)
    return tuple("kind:" + k for k in kinds)


def graph_figure(graph: Graph, opts: Options, prefix: str = "n", group: str = "",
                 scopes: Optional[dict[int, str]] = None) -> Figure:
    """One box per node of ``graph`` (or per collapsed scope), one link per input;
    ``scopes`` (``id(node) -> scope``) collapses some nodes with another scope than their
    own (a node drawn on its own stays outside that scope's cluster)."""
    names = labels.name_map(opts.names)
    expr = opts.style == "expr"
    types = opts.types if opts.types is not None else not expr
    scope_list = None if scopes is None else [scopes.get(id(n), n.scope) for n in graph.nodes]
    plan = plan_collapse(graph.nodes, opts.budget, opts.collapse, scopes=scope_list)
    text = expr_labels(graph, names) if expr else None
    outputs = {id(o) for o in graph.outputs}
    key_of: dict[int, str] = {}
    members: dict[str, int] = {}
    for n in graph.nodes:
        scope_path = plan.group_of.get(id(n))
        if scope_path is not None:
            members[scope_path] = members.get(scope_path, 0) + 1
    boxes: list[Box] = []
    made: dict[str, str] = {}
    for i, n in enumerate(graph.nodes):
        scope_path = plan.group_of.get(id(n))
        if scope_path is not None:
            if scope_path not in made:
                made[scope_path] = f"{prefix}s{len(made)}"
                boxes.append(collapsed_box(made[scope_path], scope_path,
                                           members[scope_path], group))
            key_of[id(n)] = made[scope_path]
            continue
        key = f"{prefix}{i}"
        key_of[id(n)] = key
        boxes.append(_node_box(n, key, text[i] if expr else ops_label(n, names, types),
                               opts, id(n) in outputs, group, expr and types))
    links = _links(graph, key_of, bool(made))
    return Figure(tuple(boxes), tuple(links), join_caption(opts.caption, plan.note),
                  opts.rankdir or DEFAULT_RANKDIR.get(opts.style, "TB"),
                  legend=_legend(boxes) if opts.legend else (), clusters=opts.clusters)


def _node_box(n: Node, key: str, label: str, opts: Options, output: bool, group: str,
              typed_expr: bool) -> Box:
    xlabel = ""
    if opts.style == "expr" and n.inputs:
        xlabel = _symbol(n)
    if typed_expr:
        label = f"{label}\n{labels.type_text(n)}"
    return Box(key, label, palette.node_kind(n), n.scope, group,
               labels.tooltip(n, opts.locations), xlabel, output)


def _symbol(n: Node) -> str:
    # The textbook writes "dot" for a product of two vectors and "matmul" otherwise.
    if n.op == "matmul" and all(i.ndim == 1 for i in n.inputs):
        return "dot"
    return palette.OP_SYMBOLS.get(n.op, n.op)


def _links(graph: Graph, key_of: dict[int, str], dedupe: bool) -> list[Link]:
    links: list[Link] = []
    seen: set[tuple[str, str]] = set()
    for n in graph.nodes:
        dst = key_of[id(n)]
        for src_node in n.inputs:
            src = key_of[id(src_node)]
            if src == dst:
                continue  # an edge inside one collapsed scope
            if dedupe and (src, dst) in seen:
                continue
            seen.add((src, dst))
            links.append(Link(src, dst))
    return links


def legend_entries(boxes: list[Box]) -> tuple[str, ...]:
    """Legend entries for the kinds ``boxes`` use (for views that build their own boxes)."""
    return _legend(boxes)


def single_label(node: Node, opts: Options, names: Optional[dict] = None) -> str:
    """The ops-style label of one node (views that draw nodes one by one use it)."""
    types = opts.types if opts.types is not None else True
    return ops_label(node, labels.name_map(names if names is not None else opts.names), types)
