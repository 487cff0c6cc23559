"""Training checkpoints: the values of every parameter a training step reads or writes
(weights, optimiser moments and step counters, dropout counters) and the loop's own state
(epoch, position in the epoch, the shuffling generator, the history so far), in the same
safe file format, written atomically.

Parameters are matched by position in the step's graph (creation order, which rebuilding
the same model and step reproduces) and checked by name, shape and dtype, so a checkpoint
resumed against a different model is refused instead of loaded into the wrong places.
"""
from __future__ import annotations

import json
import os
from typing import Any, Sequence

import numpy as np

from symgraph.errors import FormatError
from symgraph.graph import Node
from symgraph.io.archive import Archive, source_name
from symgraph.io.reader import Reader
from symgraph.io.schema import MAX_BYTES
from symgraph.io.writer import Writer

CHECKPOINT_VERSION = 1


def state_params(step: Any, params: Sequence[Node] = ()) -> list[Node]:
    """Every parameter of ``step``'s graph (when it is a compiled function), then those of
    ``params`` not already listed: the state a checkpoint must hold."""
    found: list[Node] = []
    seen: set[int] = set()
    graph = getattr(step, "user_graph", None)
    candidates = list(graph.params) if graph is not None else []
    for p in candidates + list(params):
        if not isinstance(p, Node) or p.op != "param":
            raise TypeError(f"checkpoint: params must be sg.param nodes, got {p!r}")
        if id(p) not in seen:
            seen.add(id(p))
            found.append(p)
    return found


def _describe(p: Node) -> list:
    return [p.name or "", p.scope, list(p.shape), p.dtype.name]


def save_checkpoint(path: str | os.PathLike, params: Sequence[Node], loop: dict) -> None:
    """Write the values of ``params`` and the loop state ``loop`` (plain data) to ``path``,
    atomically."""
    from symgraph.io import write_atomic
    state = {"checkpoint": CHECKPOINT_VERSION,
             "params": [_describe(p) for p in params],
             "values": [np.array(p.value, copy=True) for p in params],
             "loop": loop}
    write_atomic(path, Writer().to_bytes([], {"training_state": state}))


def load_checkpoint(path: str | os.PathLike, params: Sequence[Node],
                    max_bytes: int = MAX_BYTES) -> dict:
    """Check that the checkpoint at ``path`` was written for ``params``, write its values
    into them (all or none) and return the loop state."""
    source = source_name(path)
    with open(path, "rb") as fh:
        reader = Reader(Archive(fh.read(), source, max_bytes))
    _, named = reader.read()
    state = named.get("training_state")
    if type(state) is not dict or state.get("checkpoint") != CHECKPOINT_VERSION:
        raise FormatError(f"{source}: not a training checkpoint (no training_state of "
                          f"version {CHECKPOINT_VERSION})")
    described, values, loop = state.get("params"), state.get("values"), state.get("loop")
    if type(described) is not list or type(values) is not list or type(loop) is not dict \
            or len(described) != len(values):
        raise FormatError(f"{source}: the training state is malformed")
    if len(described) != len(params):
        raise FormatError(f"{source}: the checkpoint holds {len(described)} parameters, this "
                          f"training step has {len(params)}: was it written for another model?")
    for k, (p, d, v) in enumerate(zip(params, described, values)):
        here = _describe(p)
        if d != here or not isinstance(v, np.ndarray) or v.shape != p.shape or v.dtype != p.dtype:
            raise FormatError(f"{source}: parameter {k} is {_show(d)} in the checkpoint, "
                              f"{_show(here)} here: was it written for another model?")
    for p, v in zip(params, values):
        p.value = v
    return loop


def _show(d: Any) -> str:
    if type(d) is list and len(d) == 4:
        name, scope, shape, dtype = d
        full = f"{scope}/{name}" if scope else name
        return f"{full!r} {dtype}{tuple(shape)}"
    return repr(d)[:80]


def rng_state(rng: np.random.Generator) -> str:
    """A generator's state as JSON text (its 128-bit integers do not fit the value codec)."""
    return json.dumps(rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, text: Any, source: str) -> None:
    try:
        state = json.loads(text) if type(text) is str and len(text) < 4096 else None
        if type(state) is not dict or state.get("bit_generator") != type(rng.bit_generator).__name__:
            raise ValueError("not a state of this generator")
        rng.bit_generator.state = state
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise FormatError(f"{source}: the shuffling generator's state is malformed ({exc})") from None
