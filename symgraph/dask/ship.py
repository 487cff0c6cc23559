"""Compiled graphs sent to Dask workers as data, and the tasks the workers run.

A worker never receives pickled code from the user: it receives the graph as plain data
(``dumps_graph``), rebuilds and compiles it once, and keeps the compiled function in
``_CACHE`` under the graph's hash for every later task. The task functions here are
library functions, which Dask sends by reference (module and name).
"""
from __future__ import annotations

import hashlib
import pickle
from typing import Any, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.graph import Node, toposort
from symgraph.types import TensorType

_FORMAT = "symgraph.dask graph"
_CACHE: dict[str, Any] = {}
COMPILES = [0]   # how many graphs this process compiled (read by tests)


# --- the graph as data --------------------------------------------------------------------
def dumps_graph(inputs: Sequence[Node], outputs: Sequence[Node]) -> bytes:
    """The graph from ``inputs`` to ``outputs`` as bytes of plain data (no code).

    Rows in topological order: op, input positions, attributes, type, name and a
    constant's value. Parameters must have been replaced by inputs before.
    """
    order = toposort([*outputs, *inputs])
    pos = {n.id: k for k, n in enumerate(order)}
    rows = []
    for n in order:
        if n.op == "param":
            raise ValueError(f"dumps_graph: parameter {n.label} must be an input to be sent")
        value = n.payload if n.op == "const" else None
        rows.append((n.op, tuple(pos[i.id] for i in n.inputs), n.attrs, n.type.shape,
                     n.type.dtype.str, n.type.weak, n.name, value))
    return pickle.dumps((_FORMAT, 1, tuple(rows), tuple(pos[v.id] for v in inputs),
                         tuple(pos[o.id] for o in outputs)), protocol=5)


def loads_graph(data: bytes) -> tuple[list[Node], list[Node]]:
    """``(inputs, outputs)`` rebuilt from ``dumps_graph`` bytes."""
    tag, version, rows, ins, outs = pickle.loads(data)
    if tag != _FORMAT or version != 1:
        raise ValueError(f"loads_graph: not a {_FORMAT} (version 1): {tag!r} {version!r}")
    nodes: list[Node] = []
    for op, args, attrs, shape, dtype, weak, name, value in rows:
        nodes.append(Node(op, [nodes[k] for k in args], attrs,
                          TensorType(shape, np.dtype(dtype), weak), name=name, payload=value))
    return [nodes[k] for k in ins], [nodes[k] for k in outs]


def ship(inputs: Sequence[Node], outputs: Sequence[Node]) -> tuple[str, bytes]:
    """``(hash, payload)``: what a task needs to find or build the compiled function."""
    payload = dumps_graph(inputs, outputs)
    return hashlib.sha256(payload).hexdigest(), payload


def compiled(key: str, payload: bytes) -> sg.Function:
    """The compiled function of a shipped graph, built once per process."""
    f = _CACHE.get(key)
    if f is None:
        inputs, outputs = loads_graph(payload)
        f = _CACHE[key] = sg.function(inputs, outputs)
        COMPILES[0] += 1
    return f


# --- tasks --------------------------------------------------------------------------------
def _rows(blocks: Sequence[np.ndarray], rows: Optional[np.ndarray]) -> list[np.ndarray]:
    return list(blocks) if rows is None else [b[rows] for b in blocks]


def run_chunk(key: str, payload: bytes, head: Sequence[Any], blocks: Sequence[np.ndarray],
              rows: Optional[np.ndarray] = None) -> list[np.ndarray]:
    """Run a shipped graph on one chunk: ``head`` are the leading arguments (parameter
    values, count, other inputs), ``blocks`` the chunk's arrays, ``rows`` an optional
    selection of the chunk's rows."""
    return list(compiled(key, payload)(*head, *_rows(blocks, rows)))


def add_parts(*parts: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Partial results added entry by entry, in the given order (so always the same sum)."""
    total = [np.array(p, copy=True) for p in parts[0]]
    for part in parts[1:]:
        for t, p in zip(total, part):
            t += p
    return total


def first(pair: Sequence[Any]) -> Any:
    return pair[0]


def run_point(key: str, payload: bytes, n_sums: int, head: Sequence[Any],
              blocks: Sequence[np.ndarray], rows: Optional[np.ndarray] = None
              ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The HVP's point part on one chunk: ``(partial sums, residuals)``; the residuals
    stay in this worker's memory for the products that follow."""
    out = run_chunk(key, payload, head, blocks, rows)
    return out[:n_sums], [np.ascontiguousarray(r) if np.ndim(r) > 1 else r for r in out[n_sums:]]


def run_tangent(key: str, payload: bytes, directions: Sequence[np.ndarray],
                point: tuple[list, list]) -> list[np.ndarray]:
    """The HVP's linear part on one chunk, reading the residuals ``run_point`` kept."""
    return list(compiled(key, payload)(*directions, *point[1]))
