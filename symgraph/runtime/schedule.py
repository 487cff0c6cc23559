"""The evaluation order of a graph and the lifetime of each intermediate value."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

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


def schedule(outputs: Sequence[Node], last: Sequence[Node] = (),
             nodes: Optional[Sequence[Node]] = None) -> Schedule:
    """Order the nodes ``outputs`` reach and plan when each intermediate can be freed.

    Nodes in ``last`` run after every other step (in id order): the compiler puts the
    steps that overwrite parameters there, so every reader of an old value runs first.
    ``nodes``, when given, is ``toposort(outputs)`` already computed by the caller.
    """
    nodes = tuple(toposort(outputs) if nodes is None else nodes)
    slot = {n.id: i for i, n in enumerate(nodes)}
    late = {n.id for n in last}
    ops = {name: get_op(name) for name in dict.fromkeys(n.op for n in nodes)}
    order = [n for n in nodes if not ops[n.op].leaf and n.id not in late]
    if late:
        order += [n for n in nodes if n.id in late]
    keep = {slot[o.id] for o in outputs}
    keep.update(k for k, n in enumerate(nodes) if ops[n.op].leaf)   # leaves are never freed
    last_use: dict[int, int] = {}
    arg_slots = []
    for step_index, n in enumerate(order):
        args = tuple([slot[i.id] for i in n.inputs])
        arg_slots.append(args)
        for a in args:
            last_use[a] = step_index
    steps = []
    for index, n in enumerate(order):
        args = arg_slots[index]
        dying = [a for a in args if last_use[a] == index and a not in keep]
        if len(dying) > 1:
            dying = sorted(set(dying))
        steps.append(Step(n, _bind(ops[n.op].kernel, n.attrs), args, slot[n.id], tuple(dying)))
    return Schedule(nodes, tuple(steps), slot, last_use)
