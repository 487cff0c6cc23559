"""``function``: compile outputs (and parameter updates) into a callable that runs them.

Compiling runs the pass pipeline, then schedules the optimised graph. A call checks its
arguments, evaluates every step with NumPy kernels, and writes parameter updates only after
every output and update has been computed, so a failed call changes nothing.
"""
from __future__ import annotations

import time
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import DTypeError, EvaluationError, InputError, ShapeError
from symgraph.graph import Graph, Node, _user_location
from symgraph.ops.registry import as_node
from symgraph.passes.pipeline import optimize as run_passes
from symgraph.passes.provenance import KEPT, Fate, PassResult
from symgraph.runtime.schedule import schedule
from symgraph.types import format_shape


def _as_output_list(outputs: Any) -> tuple[list[Node], bool]:
    if isinstance(outputs, Node):
        return [outputs], True
    return [as_node(o) for o in outputs], False


def _check_updates(updates: Optional[dict]) -> list[tuple[Node, Node]]:
    pairs = []
    for p, expr in (updates or {}).items():
        if not isinstance(p, Node) or p.op != "param":
            raise TypeError(f"function: updates are keyed by parameters, got {p!r}")
        expr = as_node(expr)
        if expr.shape != p.shape:
            raise ShapeError(f"function: update of {p.label} has shape "
                             f"{format_shape(expr.shape)}, the parameter has "
                             f"{format_shape(p.shape)}{expr.where()}")
        if not np.can_cast(expr.dtype, p.dtype, "same_kind"):
            raise DTypeError(f"function: update of {p.label} has dtype {expr.dtype}, the "
                             f"parameter has {p.dtype}{expr.where()}")
        pairs.append((p, expr))
    return pairs


class Function:
    """A compiled graph. Call it with one array per input; see ``function``."""

    def __init__(self, inputs: Sequence[Node], outputs: Any, updates: Optional[dict] = None,
                 optimize: bool = True, name: Optional[str] = None) -> None:
        self.name = name
        self.location = _user_location()
        self.inputs = tuple(inputs)
        for v in self.inputs:
            if not isinstance(v, Node) or v.op != "var":
                raise TypeError(f"function: inputs must be sg.var nodes, got {v!r}")
        if len({v.id for v in self.inputs}) != len(self.inputs):
            raise ValueError("function: an input is listed twice")
        outs, self._single = _as_output_list(outputs)
        self.outputs = tuple(outs)
        self.updates = tuple(_check_updates(updates))
        targets = list(self.outputs) + [e for _, e in self.updates]
        self.user_graph = Graph(targets)
        self._check_inputs_cover(self.user_graph)
        start = time.perf_counter()
        if optimize:
            result, self.pass_times = run_passes(targets)
        else:
            fates = {n.id: Fate(n, n, KEPT) for n in self.user_graph}
            result, self.pass_times = PassResult(tuple(targets), fates, "none"), []
        self.provenance = result
        new_targets = list(result.outputs)
        self.graph = Graph(new_targets)
        sched_start = time.perf_counter()
        self._schedule = schedule(new_targets)
        self.pass_times.append(("schedule", time.perf_counter() - sched_start))
        self.compile_time = time.perf_counter() - start
        self._prepare(new_targets)

    def _check_inputs_cover(self, graph: Graph) -> None:
        given = {v.id for v in self.inputs}
        for v in graph.inputs:
            if v.id not in given:
                raise InputError(f"function: the outputs need input {v.label!r} "
                                 f"{format_shape(v.shape)}, which is not in the inputs "
                                 f"list{v.where()}")

    def _prepare(self, targets: list[Node]) -> None:
        sched = self._schedule
        self._template: list[Any] = [None] * len(sched.nodes)
        self._params: list[tuple[int, Node]] = []
        for i, n in enumerate(sched.nodes):
            if n.op == "const":
                self._template[i] = n.payload
            elif n.op == "param":
                self._params.append((i, n))
        self._input_slots = [sched.slot[v.id] if v.id in sched.slot else None for v in self.inputs]
        self._out_slots = [sched.slot[t.id] for t in targets]
        self._program = [(s.kernel, s.args, s.out, s.free) for s in sched.steps]

    # --- calling ---------------------------------------------------------------------------
    def _convert(self, k: int, v: Node, value: Any) -> np.ndarray:
        arr = np.asarray(value)
        if arr.dtype != v.dtype:
            ok = np.can_cast(arr.dtype, v.dtype, "same_kind") or (
                arr.dtype.kind in "biu" and v.dtype.kind in "fc")
            if not ok:
                raise InputError(f"argument {k} ({v.label!r}): expected dtype {v.dtype}, got "
                                 f"{arr.dtype}, which does not convert safely{v.where()}")
            arr = arr.astype(v.dtype)
        if arr.ndim != v.ndim or any(d is not None and d != a for d, a in zip(v.shape, arr.shape)):
            raise InputError(f"argument {k} ({v.label!r}): expected shape "
                             f"{format_shape(v.shape)}, got {arr.shape}{v.where()}")
        return arr

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.inputs):
            names = ", ".join(repr(v.label) for v in self.inputs)
            raise InputError(f"function takes {len(self.inputs)} arguments ({names}), "
                             f"got {len(args)}")
        vals = list(self._template)
        for k, (v, slot, a) in enumerate(zip(self.inputs, self._input_slots, args)):
            arr = self._convert(k, v, a)
            if slot is not None:
                vals[slot] = arr
        for slot, p in self._params:
            vals[slot] = p.payload.value
        step = 0
        try:
            for kernel, ins, out, free in self._program:
                vals[out] = kernel(*[vals[i] for i in ins])
                for f in free:
                    vals[f] = None
                step += 1
        except Exception as exc:
            raise self._runtime_error(step, vals, exc) from exc
        results = [vals[s] for s in self._out_slots]
        n_out = len(self.outputs)
        new_values = []
        for (p, _), value in zip(self.updates, results[n_out:]):
            arr = np.asarray(value)
            if arr.dtype != p.dtype or not arr.flags.owndata or not arr.flags.writeable:
                arr = np.array(arr, dtype=p.dtype)
            new_values.append(arr)
        for (p, _), arr in zip(self.updates, new_values):
            p.payload.value = arr
        outs = [np.asarray(r) for r in results[:n_out]]
        return outs[0] if self._single else outs

    def _runtime_error(self, step: int, vals: list, exc: Exception) -> EvaluationError:
        node = self._schedule.steps[step].node
        shapes = ", ".join(
            f"{np.shape(vals[self._schedule.slot[i.id]])} {np.asarray(vals[self._schedule.slot[i.id]]).dtype}"
            if vals[self._schedule.slot[i.id]] is not None else "?"
            for i in node.inputs)
        origin = self._origin(node)
        return EvaluationError(f"{node.op} failed on inputs of shape {shapes}: {exc}"
                               f"{origin}")

    def _origin(self, node: Node) -> str:
        """Where the user built ``node`` (or the nodes it stands for after rewriting)."""
        users = [f.old for f in self.provenance.fates.values()
                 if f.new is node and f.old.location is not None]
        where = node.location or (users[0].location if users else None)
        return f" (node {node.label}, built at {where})" if where else f" (node {node.label})"

    # --- facts -----------------------------------------------------------------------------
    def report(self) -> str:
        """Node counts before and after compiling, the fate counts and time per pass."""
        counts = self.provenance.counts()
        lines = [f"{len(self.user_graph)} -> {len(self.graph)} nodes"]
        lines.append("fates: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for name, seconds in self.pass_times:
            lines.append(f"  {name:<10} {seconds * 1e3:8.2f} ms")
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter display: the optimised graph as SVG (or DOT text without Graphviz)."""
        from symgraph.render.svg import mimebundle  # render is a higher stage
        return mimebundle(self)

    def __repr__(self) -> str:
        names = ", ".join(v.label for v in self.inputs)
        return f"<Function ({names}) -> {len(self.outputs)} outputs, {len(self.graph)} nodes>"


def function(inputs: Sequence[Node], outputs: Any, updates: Optional[dict] = None,
             optimize: bool = True, name: Optional[str] = None) -> Function:
    """Compile ``outputs`` of ``inputs`` (and ``updates`` ``{param: expr}``) into a callable.

    A call returns a list of arrays (one array when ``outputs`` is a single node); then every
    update, computed from the old values, is written at once.
    """
    return Function(inputs, outputs, updates, optimize, name)
