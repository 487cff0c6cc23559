"""The evaluation order of a graph and the lifetime of each intermediate value."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from symgraph.graph import Node, toposort
from symgraph.ops.registry import get_op


@dataclass(frozen=True)
class Step:
    """Run ``kernel`` on the values in ``args`` slots, store in ``out``, then drop ``free``."""

    node: Node
    kernel: Callable[..., Any]
    args: tuple[int, ...]
    out: int
    free: tuple[int, ...]


@dataclass(frozen=True)
class Schedule:
    """Slots are positions in the topological order ``nodes``; leaves fill theirs first.

    ``steps`` run in order; ``last_use[slot]`` is the index of the last step reading the
    slot (absent when no step reads it).
    """

    nodes: tuple[Node, ...]
    steps: tuple[Step, ...]
    slot: dict
    last_use: dict


def _bind(kernel: Callable[..., Any], attrs: tuple) -> Callable[..., Any]:
    return functools.partial(kernel, **dict(attrs)) if attrs else kernel


def schedule(outputs: Sequence[Node], last: Sequence[Node] = ()) -> Schedule:
    """Order the nodes ``outputs`` reach and plan when each intermediate can be freed.

    Nodes in ``last`` run after every other step (in id order): the compiler puts the
    steps that overwrite parameters there, so every reader of an old value runs first.
    """
    nodes = tuple(toposort(outputs))
    slot = {n.id: i for i, n in enumerate(nodes)}
    late = {n.id for n in last}
    order = [n for n in nodes if not get_op(n.op).leaf and n.id not in late]
    order += [n for n in nodes if n.id in late]
    keep = {slot[o.id] for o in outputs}
    keep.update(k for k, n in enumerate(nodes) if get_op(n.op).leaf)   # leaves are never freed
    last_use: dict[int, int] = {}
    for step_index, n in enumerate(order):
        for i in n.inputs:
            last_use[slot[i.id]] = step_index
    steps = []
    for index, n in enumerate(order):
        op = get_op(n.op)
        args = tuple(slot[i.id] for i in n.inputs)
        dying = sorted({a for a in args if last_use.get(a) == index and a not in keep})
        steps.append(Step(n, _bind(op.kernel, n.attrs), args, slot[n.id], tuple(dying)))
    return Schedule(nodes, tuple(steps), slot, last_use)
