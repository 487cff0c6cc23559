"""What the interactive explorer shows: the forward, gradient and optimised views of a
target as plain data (nodes, the scope tree each view opens level by level, what the
compiler did to each node, which gradient nodes read it). ``html.py`` writes the data
into one HTML page with ``explorer.js``.

Every text a user can put in a graph (names, scopes, file names) passes through
``escape.clean`` here and is written into the page by ``escape.json_text``; the page sets
it with ``textContent`` only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from symgraph.graph import Graph, Node
from symgraph.render import escape, labels, palette
from symgraph.render.figure import Drawing
from symgraph.render.views import gradient_scopes
from symgraph.runtime.function import Function

# A scope (or the top level) showing more entries than this is split into numbered
# blocks of consecutive nodes, so a 100,000-node graph opens with about this many boxes.
MAX_CHILDREN = 60
# Above this many nodes only the forward view is built (differentiating and compiling a
# huge graph for a page the user may never switch to costs more than it is worth).
MAX_DERIVED = 20_000


@dataclass(frozen=True)
class Target:
    """The graphs one page explores: ``forward`` always; ``gradient`` (forward plus the
    nodes differentiation appends) and the compiled ``function`` when they apply."""

    forward: Graph
    gradient: Optional[Graph]
    function: Optional[Function]
    grads: tuple[tuple[Node, Node], ...]   # (parameter, its gradient)


def _outputs(obj: Any) -> list[Node]:
    if isinstance(obj, Node):
        return [obj]
    if isinstance(obj, Graph):
        return list(obj.outputs)
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(o, Node) for o in obj):
        return list(obj)
    if isinstance(obj, Drawing):
        raise TypeError("the explorer draws graphs, not finished drawings: pass the node, "
                        "list of nodes, Graph or compiled function the drawing was made of")
    raise TypeError(f"cannot explore {type(obj).__name__}: give a node, a list of nodes, a "
                    "Graph or a compiled sg.function")


def resolve(obj: Any, views: Optional[tuple[str, ...]] = None) -> Target:
    """The graphs to explore for ``obj``. A compiled function brings its own graph (the
    user's, gradient nodes included) and compiler; for nodes and graphs the gradient of a
    scalar first output with respect to every parameter is built, and the outputs are
    compiled, unless the graph is over ``MAX_DERIVED`` nodes or ``views`` leaves them out."""
    from symgraph.autodiff import grad
    from symgraph.runtime.function import function
    want = set(views or ("forward", "gradient", "optimized"))
    if isinstance(obj, Function):
        forward = Graph(list(obj.outputs)) if obj.outputs else obj.user_graph
        has_grad = any(n.is_grad for n in obj.user_graph.nodes)
        return Target(forward, obj.user_graph if has_grad and "gradient" in want else None,
                      obj if "optimized" in want else None, ())
    outs = _outputs(obj)
    forward = Graph(outs)
    small = len(forward) <= MAX_DERIVED
    gradient, pairs = None, ()
    if small and "gradient" in want and outs[0].ndim == 0 and forward.params \
            and not any(n.is_grad for n in forward.nodes):
        wrt = list(forward.params)
        pairs = tuple((w, g) for w, g in zip(wrt, grad(outs[0], wrt)) if g is not None)
        gradient = Graph(outs + [g for _, g in pairs])
    compiled = None
    if small and "optimized" in want:
        try:
            compiled = function(list(forward.inputs), outs)
        except Exception:  # noqa: BLE001 - a graph that cannot compile is still explored
            compiled = None
    return Target(forward, gradient, compiled, pairs)


class _Uids:
    """One number per node across every view of the page, so a node of the forward view
    is found again in the gradient view, and a user node's fate leads to its optimised
    node."""

    def __init__(self) -> None:
        self.of: dict[int, int] = {}
        self.keep: list[Node] = []   # holds the nodes so their ids stay unique

    def __call__(self, n: Node) -> int:
        uid = self.of.get(id(n))
        if uid is None:
            uid = self.of[id(n)] = len(self.keep)
            self.keep.append(n)
        return uid


def _label(n: Node, names: dict[int, str]) -> str:
    name = labels.given_name(n, names)
    if n.op == "const":
        return name or labels.const_text(n)
    if n.op in ("var", "param"):
        return name or n.op
    return f"{name}: {n.op}" if name else n.op


def _groups(paths: list[str], order: list[int]) -> tuple[list[dict], list[int]]:
    """The scope tree of a view: groups (index 0 is the top level) with parent, label and
    path, and the group of each node. Over-full groups are split into numbered blocks of
    consecutive entries (their own order), so no group shows more than ``MAX_CHILDREN``."""
    groups = [{"l": "", "p": -1, "path": ""}]
    index = {"": 0}
    for path in paths:
        if path in index:
            continue
        parts = path.split("/")
        for k in range(1, len(parts) + 1):
            sub = "/".join(parts[:k])
            if sub not in index:
                index[sub] = len(groups)
                groups.append({"l": parts[k - 1], "p": index["/".join(parts[:k - 1])],
                               "path": sub})
    group_of = [index[p] for p in paths]
    _split_full(groups, group_of, order)
    return groups, group_of


def _split_full(groups: list[dict], group_of: list[int], order: list[int]) -> None:
    """Give over-full groups numbered blocks (iteratively, a level at a time)."""
    entries: dict[int, list[tuple[int, str, int]]] = {}   # group -> (position, kind, index)
    for i, g in enumerate(group_of):
        entries.setdefault(g, []).append((order[i], "n", i))
    first: dict[int, int] = {}
    for i, g in enumerate(group_of):
        first.setdefault(g, order[i])
    for k in range(1, len(groups)):
        start = first.get(k, 0)
        entries.setdefault(groups[k]["p"], []).append((start, "g", k))
    pending = [g for g in list(entries) if len(entries[g]) > MAX_CHILDREN]
    while pending:
        g = pending.pop()
        items = sorted(entries[g])
        count = min(MAX_CHILDREN, -(-len(items) // MAX_CHILDREN))
        size = -(-len(items) // count)
        blocks = []
        for b in range(0, len(items), size):
            chunk = items[b:b + size]
            k = len(groups)
            groups.append({"l": f"#{b + 1}–{b + len(chunk)}", "p": g,
                           "path": groups[g]["path"], "block": 1})
            for _, kind, i in chunk:
                if kind == "n":
                    group_of[i] = k
                else:
                    groups[i]["p"] = k
            entries[k] = chunk
            blocks.append((chunk[0][0], "g", k))
            if len(chunk) > MAX_CHILDREN:
                pending.append(k)
        entries[g] = blocks


def view_data(title: str, graph: Graph, uids: _Uids, names: dict[int, str],
              scopes: Optional[dict[int, str]] = None, fates: Optional[dict] = None,
              grads_of: Optional[dict[int, list[int]]] = None, locations: bool = True) -> dict:
    """One view as plain data for the page (see the module docstring)."""
    nodes = graph.nodes
    outputs = {id(o) for o in graph.outputs}
    position = {id(n): i for i, n in enumerate(nodes)}
    paths = [escape.clean((scopes or {}).get(id(n), n.scope)) for n in nodes]
    groups, group_of = _groups(paths, list(range(len(nodes))))
    records = []
    for i, n in enumerate(nodes):
        kind = palette.node_kind(n)
        rec: dict[str, Any] = {
            "u": uids(n), "l": escape.shorten(escape.clean(_label(n, names)), 200),
            "o": n.op, "k": palette.OUTPUT if id(n) in outputs else kind,
            "t": labels.type_text(n), "g": group_of[i],
            "i": [position[id(j)] for j in n.inputs],
        }
        attrs = labels.attr_text(n)
        if attrs:
            rec["a"] = escape.clean(attrs)
        if n.name:
            rec["n"] = escape.shorten(escape.clean(n.name), 2000)
        if n.scope:
            rec["s"] = escape.clean(n.scope)
        if locations and n.location is not None:
            rec["w"] = escape.clean(labels.where_text(n))
        if n.is_grad:
            rec["gr"] = 1
        fate = (fates or {}).get(n.id)
        if fate is not None:
            rec["f"] = fate.how + (f" by {fate.rule}" if fate.rule else "")
            if fate.new is not None:
                rec["fu"] = uids(fate.new)
        if grads_of and grads_of.get(id(n)):
            rec["r"] = grads_of[id(n)]
        records.append(rec)
    for g in groups:
        g["l"] = escape.clean(g["l"])
    return {"title": title, "nodes": records, "groups": groups}


def _gradient_readers(target: Target, uids: _Uids) -> dict[int, list[int]]:
    """For each forward node: the gradient nodes that read it, and for each parameter
    differentiated, its gradient; as uids."""
    out: dict[int, list[int]] = {}
    graph = target.gradient
    if graph is None:
        return out
    for n in graph.nodes:
        if not n.is_grad:
            continue
        for i in n.inputs:
            if not i.is_grad:
                out.setdefault(id(i), []).append(uids(n))
    for w, g in target.grads:
        out.setdefault(id(w), []).insert(0, uids(g))
    return out


def page_data(obj: Any, names: Optional[dict] = None, locations: bool = True,
              views: Optional[tuple[str, ...]] = None, title: str = "") -> dict:
    """Everything the page needs for ``obj``: a list of views and a title."""
    target = resolve(obj, views)
    uids = _Uids()
    name_ids = labels.name_map(names)
    fates = target.function.provenance.fates if target.function is not None else None
    # Every node of the forward view gets its uid first, so uids follow its order.
    for n in target.forward.nodes:
        uids(n)
    grads_of = _gradient_readers(target, uids)
    out = [view_data("forward", target.forward, uids, name_ids, fates=fates,
                     grads_of=grads_of, locations=locations)]
    if target.gradient is not None:
        out.append(view_data("gradient", target.gradient, uids, name_ids,
                             scopes=gradient_scopes(target.gradient), fates=fates,
                             grads_of=grads_of, locations=locations))
    if target.function is not None:
        out.append(view_data("optimized", target.function.graph, uids, name_ids,
                             locations=locations))
    n = len(target.forward)
    heading = title or f"symgraph: {n} nodes" + (
        f", {len(target.gradient) - n} gradient nodes" if target.gradient is not None else "")
    return {"title": escape.clean(heading), "views": out}
