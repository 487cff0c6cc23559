"""``pickle``, ``copy.copy`` and ``copy.deepcopy`` of nodes, graphs and compiled functions,
through the file format.

A node pickles as a *bundle* (the format's bytes for the part of its graph not already
bundled) and its position in it. The bundle's outside references are the graph's inputs
and parameters, and nodes of bundles made before; they are pickled as objects of their
own, so pickle's memo shares them: a parameter read by a model, its training step and its
inference function comes back as one parameter, and nodes pickled together keep their
identity (``grad(loss, hidden)`` works on what comes back). Every node of a bundle
reduces to that same bundle object, so pickling many nodes of one graph writes the graph
once, not once per node. (The costly case is pickling every node of a graph one by one
in creation order: each starts a bundle leaning on the one before, and every
``MAX_CHAIN`` bundles one starts afresh with the whole graph so far, which also means
nodes pickled before that point in the same pickle come back as copies, not as the same
objects.) The bytes hold each bundle's nodes in one flat table, and bundles lean on at most
``MAX_CHAIN`` levels of older bundles, so a chain of 100,000 nodes pickles at the default
recursion limit.

Graphs and compiled functions pickle as their nodes and options (a function is compiled
again when unpickled). Pickle runs code when it loads; for files from elsewhere use
``sg.load``, which never does.
"""
from __future__ import annotations

import weakref
from typing import Any, Optional, Sequence

from symgraph.graph import Graph, Location, Node, collector_paused
from symgraph.io.archive import Archive
from symgraph.io.reader import Reader
from symgraph.io.writer import Writer

_LEAVES = ("var", "param")
MAX_CHAIN = 32      # bundles a bundle may lean on, one behind the other


class Bundle:
    """Format bytes for a set of nodes, with the outside nodes they read."""

    __slots__ = ("blob", "externals", "depth", "nodes", "__weakref__")

    def __init__(self, blob: bytes, externals: tuple, depth: int,
                 nodes: Optional[list] = None) -> None:
        self.blob, self.externals, self.depth, self.nodes = blob, externals, depth, nodes

    def __reduce__(self) -> tuple:
        return _load_bundle, (self.blob, self.externals, self.depth)


# id(node) -> (weak reference to the node, its bundle, its position in the bundle's node
# table). An entry goes when its node does (the reference's callback); a bundle holds bytes
# and outside nodes, never its own nodes. Keyed by id, not by node, so that lookups never
# compare nodes with ``==`` (which an op-building ``__eq__`` would turn into a node).
_BUNDLED: dict[int, tuple] = {}


def _held(node: Node) -> Optional[tuple[Bundle, int]]:
    entry = _BUNDLED.get(id(node))
    return (entry[1], entry[2]) if entry is not None and entry[0]() is node else None


def _hold(node: Node, bundle: Bundle, position: int) -> None:
    key = id(node)
    _BUNDLED[key] = (weakref.ref(node, lambda _, key=key: _BUNDLED.pop(key, None)),
                     bundle, position)


def reduce_node(node: Node) -> tuple:
    if node.op in _LEAVES:       # inputs and parameters: self-contained, shared by memo
        with collector_paused():
            return _load_leaf, (Writer().to_bytes([node], {}),)
    found = _held(node)
    if found is None:
        bundle_together([node])
        found = _held(node)
    bundle, position = found
    return _node_of, (bundle, position)


def bundle_together(roots: Sequence[Node]) -> None:
    """One new bundle for the graph of ``roots`` not bundled yet, cut at leaves and at
    nodes already bundled. Bundling a function's targets together keeps the order its
    nodes were built in, so the function unpickles to the same generated code."""
    roots = [r for r in roots if r.op not in _LEAVES and _held(r) is None]
    if not roots:
        return
    inside, outside, depth = _cut(roots, lean=True)
    if depth > MAX_CHAIN:
        # Leaning on a long chain of bundles would make pickle recurse along it: this
        # bundle holds its whole graph instead, and later ones lean on it (depth 0).
        inside, outside, depth = _cut(roots, lean=False)
    outside.sort(key=lambda n: n.id)
    inside.sort(key=lambda n: n.id)
    with collector_paused():
        writer = Writer(outside)
        blob = writer.to_bytes([inside], {})
    bundle = Bundle(blob, tuple(outside), depth)
    position = {id(n): k for k, n in enumerate(writer.order)}
    for n in inside:
        _hold(n, bundle, position[id(n)])


def _cut(roots: list[Node], lean: bool) -> tuple[list[Node], list[Node], int]:
    """(nodes to write, outside nodes they read, depth): the graph of ``roots``, cut at
    leaves and, when ``lean``, at nodes already bundled."""
    inside: list[Node] = []
    outside: list[Node] = []
    depth = 0
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        held = _held(n) if lean else None
        if n.op in _LEAVES or held is not None:
            outside.append(n)
            if held is not None:
                depth = max(depth, held[0].depth + 1)
            continue
        inside.append(n)
        stack.extend(n.inputs)
    return inside, outside, depth


def _load_bundle(blob: bytes, externals: Sequence[Node], depth: int) -> Bundle:
    # pickle is trusted input by definition (it could run code anyway): no size limit
    with collector_paused():
        reader = Reader(Archive(blob, "<pickle>", 1 << 62), externals=externals)
        reader.read()
    return Bundle(blob, tuple(externals), depth, reader.nodes)


def _node_of(bundle: Bundle, position: int) -> Node:
    return bundle.nodes[position]


def _load_leaf(blob: bytes) -> Node:
    with collector_paused():
        items, _ = Reader(Archive(blob, "<pickle>", 1 << 62)).read()
    return items[0]


# --- graphs and compiled functions ---------------------------------------------------------
def reduce_graph(graph: Graph) -> tuple:
    bundle_together(graph.outputs)
    return Graph, (list(graph.outputs),)


def reduce_function(f: Any) -> tuple:
    bundle_together(list(f.outputs) + [e for _, e in f.updates])
    options = {"optimize": bool(getattr(f, "optimize", True)), "check_nan": bool(f.check_nan),
               "name": f.name}
    return _function, (tuple(f.inputs), tuple(f.outputs), bool(f._single),
                       tuple(tuple(pair) for pair in f.updates), options, f.location)


def _function(inputs: tuple, outputs: tuple, single: bool, updates: tuple, options: dict,
              location: Optional[Location]) -> Any:
    from symgraph.runtime.function import function
    f = function(list(inputs), outputs[0] if single else list(outputs),
                 updates={p: e for p, e in updates}, **options)
    f.location = location
    return f
