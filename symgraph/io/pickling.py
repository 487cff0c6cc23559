"""``pickle``, ``copy.copy`` and ``copy.deepcopy`` of nodes, graphs and compiled functions,
through the file format.

A node, graph or function pickles as the format's bytes plus its leaves (inputs and
parameters) as separate pickled objects. The bytes hold the whole graph in one flat table,
so a chain of 100,000 nodes pickles at the default recursion limit; the leaves go through
pickle's own memo, so a parameter shared by a model, its training step and its inference
function comes back as one parameter. (Pickle runs code when it loads; for files from
elsewhere use ``sg.load``, which never does.)
"""
from __future__ import annotations

from typing import Any, Sequence

from symgraph.graph import Graph, Node, toposort
from symgraph.io.archive import Archive
from symgraph.io.reader import Reader
from symgraph.io.schema import gc_paused
from symgraph.io.writer import Writer

_SHARED = ("var", "param")


def _leaves(nodes: Sequence[Node]) -> list[Node]:
    return [n for n in toposort(list(nodes)) if n.op in _SHARED]


def _write(item: Any, externals: Sequence[Node]) -> bytes:
    with gc_paused():
        return Writer(externals).to_bytes([item], {})


def reduce_node(node: Node) -> tuple:
    if node.op in _SHARED:
        return _rebuild_node, (_write(node, ()), ())
    externals = _leaves([node])
    return _rebuild_node, (_write(node, externals), tuple(externals))


def reduce_graph(graph: Graph) -> tuple:
    externals = _leaves(graph.outputs)
    return _rebuild_item, (_write(graph, externals), tuple(externals))


def reduce_function(f: Any) -> tuple:
    externals = _leaves(list(f.inputs) + list(f.outputs) + [n for pair in f.updates for n in pair])
    return _rebuild_item, (_write(f, externals), tuple(externals))


def _read(blob: bytes, externals: Sequence[Node]) -> Any:
    # pickle is trusted input by definition (it could run code anyway): no size limit
    with gc_paused():
        reader = Reader(Archive(blob, "<pickle>", 1 << 62), externals=externals)
        reader.read_nodes()
        reader.read_objects()
        items, _ = reader.items()
    return items[0]


def _rebuild_node(blob: bytes, externals: Sequence[Node]) -> Node:
    return _read(blob, externals)


def _rebuild_item(blob: bytes, externals: Sequence[Node]) -> Any:
    return _read(blob, externals)
