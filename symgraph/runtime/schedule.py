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


def _scalars_first(order: list[Node], ops: dict) -> list[Node]:
    """``order`` with its scalar prologue first: the 0-d steps computed from leaves and
    other such steps (a step counter's bias corrections, a scheduled learning rate).

    Where the toposort puts them, they fall between the elementwise steps that read them
    and split what could run as one fused kernel (Adam's update of one weight became three
    kernels); moved first, they cost nothing and every array step finds them ready.
    """
    prologue: set[int] = set()
    for n in order:
        if n.ndim == 0 and all(ops[i.op].leaf or i.id in prologue for i in n.inputs):
            prologue.add(n.id)
    if not prologue or len(prologue) == len(order):
        return order
    return [n for n in order if n.id in prologue] + [n for n in order if n.id not in prologue]


def _sink_leaf_steps(order: list[Node]) -> list[Node]:
    """``order`` with each array step computed from leaves alone (``beta * state``) moved
    to just before its first reader.

    The toposort computes such a step as soon as it can, often far from where its value is
    used: the value lives longer than it needs to, and the elementwise steps that read it
    run as two fused kernels with unrelated steps between them (Adam's ``b1 * G`` ran
    before the matrix product of its gradient, ``+ (1 - b1) * g`` after it).
    """
    # Plain loops, no generators: this runs over every step of 100k-node graphs.
    seen: set[int] = set()              # the steps so far (inputs not in it are leaves)
    sinking: dict[int, int] = {}        # step id -> its position
    for k, n in enumerate(order):
        if n.inputs and n.shape != ():
            for i in n.inputs:
                if i.id in seen:
                    break
            else:
                sinking[n.id] = k
        seen.add(n.id)
    if not sinking:
        return order
    first_reader: dict[int, tuple[int, int]] = {}     # step id -> (position, id) of reader
    for k, n in enumerate(order):
        for i in n.inputs:
            if i.id in sinking and i.id not in first_reader:
                first_reader[i.id] = (k, n.id)
        if len(first_reader) == len(sinking):
            break
    moving = {s: r for s, r in first_reader.items() if r[0] != sinking[s] + 1}
    if not moving:
        return order
    before: dict[int, list[Node]] = {}
    for n in order:
        if n.id in moving:
            before.setdefault(moving[n.id][1], []).append(n)
    out: list[Node] = []
    for n in order:
        out.extend(before.get(n.id, ()))
        if n.id not in moving:
            out.append(n)
    return out


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
    order = _sink_leaf_steps(_scalars_first(
        [n for n in nodes if not ops[n.op].leaf and n.id not in late], ops))
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
