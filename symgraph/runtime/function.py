"""``function``: compile outputs (and parameter updates) into a callable that runs them.

Compiling runs the pass pipeline, schedules the optimised graph, plans its memory and
generates the Python source that runs it (``f.source``). A call checks its arguments, runs
that code, and stores parameter updates only after every output and update has been
computed, all at once (``commit``), so a failed or interrupted call changes nothing.

Updates computed in place are written into a spare buffer per parameter, never into the
live array; the commit swaps references, so the array ``p.value`` gave you before a call
keeps its values. A function with updates runs one call at a time (its own lock); a
function without updates runs concurrently from any number of threads.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, DTypeError, EvaluationError, InputError, ShapeError
from symgraph.graph import Graph, Node, _user_location, collector_paused
from symgraph.ops.registry import as_node
from symgraph.passes.pipeline import optimize as run_passes
from symgraph.passes.provenance import KEPT, Fate, PassResult
from symgraph.runtime import codegen, fused, memory
from symgraph.runtime.commit import alone, commit
from symgraph.runtime.schedule import schedule
from symgraph.types import format_shape


def _as_output_list(outputs: Any) -> tuple[list[Node], bool]:
    if isinstance(outputs, Node):
        return [outputs], True
    if isinstance(outputs, (str, bytes, dict)) or not hasattr(outputs, "__iter__"):
        raise ArgumentError(f"function: outputs are a node or a list of nodes, got "
                            f"{type(outputs).__name__} {outputs!r:.40}")
    return [as_node(o) for o in outputs], False


def _check_updates(updates: Optional[dict]) -> list[tuple[Node, Node]]:
    pairs = []
    if updates is not None and not isinstance(updates, dict):
        raise ArgumentError(f"function: updates is a dict {{parameter: new value}}, got "
                            f"{type(updates).__name__}")
    for p, expr in (updates or {}).items():
        if not isinstance(p, Node) or p.op != "param":
            raise ArgumentError(f"function: updates are keyed by parameters, got {p!r}")
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
                 optimize: bool = True, name: Optional[str] = None,
                 check_nan: bool = False, fusion: Optional[str] = None) -> None:
        self.name = name
        self.location = _user_location()
        self.check_nan = bool(check_nan)
        self.optimize = bool(optimize)
        self.inputs = tuple(inputs)
        for v in self.inputs:
            if not isinstance(v, Node) or v.op != "var":
                raise ArgumentError(f"function: inputs must be sg.var nodes, got {v!r}")
        if len({v.id for v in self.inputs}) != len(self.inputs):
            raise ArgumentError("function: an input is listed twice")
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
        n_out = len(self.outputs)
        new_updates = [(p, e) for (p, _), e in zip(self.updates, new_targets[n_out:])]
        writers: dict[int, int] = {}
        if optimize and not self.check_nan and new_updates:
            # Overwriting a parameter is the last thing a call does; check_nan wants every
            # value checked before anything is written, so it keeps the copying path.
            writers = memory.param_writers(schedule(new_targets, nodes=self.graph.nodes),
                                           new_targets, new_updates)
        late = [n for n in self.graph.nodes if n.id in writers]
        self._schedule = schedule(new_targets, last=late, nodes=self.graph.nodes)
        self.pass_times.append(("schedule", time.perf_counter() - sched_start))
        plan_start = time.perf_counter()
        self._plan = memory.plan(self._schedule, new_targets, writers,
                                 reuse=optimize, inplace=optimize)
        self.pass_times.append(("memory", time.perf_counter() - plan_start))
        gen_start = time.perf_counter()
        self._program = codegen.generate(self._schedule, self._plan, self.inputs, new_targets,
                                         check_nan=self.check_nan, name=name or "compiled")
        self.pass_times.append(("codegen", time.perf_counter() - gen_start))
        self.compile_time = time.perf_counter() - start
        self._prepare(new_targets)
        # Elementwise fusion (runtime/fused.py) swaps self._program when its kernels are in.
        self._tiers = fused.attach(self, fusion) if optimize else None

    @property
    def source(self) -> str:
        """The Python source this function runs (one statement per node)."""
        return self._program.source

    def _check_inputs_cover(self, graph: Graph) -> None:
        given = {v.id for v in self.inputs}
        for v in graph.inputs:
            if v.id not in given:
                raise InputError(f"function: the outputs need input {v.label!r} "
                                 f"{format_shape(v.shape)}, which is not in the inputs "
                                 f"list{v.where()}")

    def _prepare(self, targets: list[Node]) -> None:
        sched, plan = self._schedule, self._plan
        # (dtype, ndim, (axis, size) of each known size) an argument is taken as is with
        self._expect = [(v.dtype, v.ndim, tuple((a, d) for a, d in enumerate(v.shape)
                                                if d is not None)) for v in self.inputs]
        position = {s: i for i, s in enumerate(self._program.returned)}
        slots = [sched.slot[t.id] for t in targets]
        n_out = len(self.outputs)
        # (index into the returned tuple, copy?) per output
        self._outs = [(position[s], s in plan.aliases_param) for s in slots[:n_out]]
        self._stores: list[tuple[Any, np.dtype, int, bool]] = []
        # Spare buffers, one per update written in place: (cell, dtype, shape) in the order
        # the generated ``run`` takes them; ``_spares`` holds the arrays (None: not yet made).
        self._spare_cells = [(sched.nodes[k].payload, sched.nodes[k].dtype, sched.nodes[k].shape)
                             for k in self._program.spares]
        self._spares: list[Any] = [None] * len(self._spare_cells)
        self._lock = threading.Lock() if self.updates else None
        for (p, _), t, s in zip(self.updates, targets[n_out:], slots[n_out:]):
            if t.id in plan.param_writes:
                continue
            # A stored value must not share memory with anything the caller gets back.
            shared = s in plan.aliases_leaf or s in plan.aliases_target or slots.count(s) > 1
            self._stores.append((p.payload, p.dtype, position[s], shared))
        # The cells a call stores into, in the order ``commit`` takes the new values.
        self._commit_cells = ([c for c, _, _, _ in self._stores]
                              + [c for c, _, _ in self._spare_cells])

    # --- calling ---------------------------------------------------------------------------
    def _convert(self, k: int, v: Node, value: Any) -> np.ndarray:
        if isinstance(value, dict):
            raise InputError(self._feed_dict_hint(k, v))
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"argument {k} ({v.label!r}): cannot make an array of it "
                             f"({exc}){v.where()}") from None
        if arr.dtype.kind not in "biufc":
            raise InputError(f"argument {k} ({v.label!r}): expected numbers of dtype "
                             f"{v.dtype}, got {type(value).__name__} of dtype {arr.dtype}"
                             f"{v.where()}")
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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise self._keyword_error(kwargs)
        if self._lock is None:
            return self._call(args)
        with self._lock:        # one call at a time: each sees the previous call's updates
            return self._call(args)

    def _call(self, args: tuple) -> Any:
        if len(args) != len(self.inputs):
            for k, a in enumerate(args[:len(self.inputs)]):
                if isinstance(a, dict):
                    raise InputError(self._feed_dict_hint(k, self.inputs[k]))
            names = ", ".join(repr(v.label) for v in self.inputs)
            plural = "argument" if len(self.inputs) == 1 else "arguments"
            raise InputError(f"function takes {len(self.inputs)} {plural} ({names}), got "
                             f"{len(args)}; compiled at {self.location or '?'}")
        arrays = []
        for k, (v, a, (dtype, ndim, known)) in enumerate(zip(self.inputs, args, self._expect)):
            # The common case, an array of the right dtype and shape, skips the conversion.
            if type(a) is np.ndarray and a.dtype == dtype and a.ndim == ndim:
                shape = a.shape
                for axis, size in known:
                    if shape[axis] != size:
                        break
                else:
                    arrays.append(a)
                    continue
            arrays.append(self._convert(k, v, a))
        if self.check_nan:
            self._check_leaves(arrays)
        spares = self._spares
        for j, (cell, dtype, shape) in enumerate(self._spare_cells):
            if spares[j] is None or not alone(spares, j):
                # First call, or someone holds this array (a snapshot of an old ``p.value``,
                # a returned output): never write into it, take a new one.
                spares[j] = np.empty(shape, dtype)
        try:
            results = self._program.run(*arrays, *spares)
        except codegen.NonFiniteValue as exc:
            raise self._nan_error(exc) from None
        except Exception as exc:
            raise self._runtime_error(exc) from exc
        new_values = []
        for cell, dtype, index, shared in self._stores:
            arr = np.asarray(results[index])
            if shared or arr.dtype != dtype or not arr.flags.owndata or not arr.flags.writeable:
                arr = np.array(arr, dtype=dtype)
            new_values.append(arr)
        outs = [np.array(results[i]) if copy else np.asarray(results[i]) for i, copy in self._outs]
        if self._commit_cells:
            # Every new value exists: store them all at once. The spares become the live
            # values; the old live arrays become the spares (``_call`` checks that nobody
            # holds one before writing into it, also if an interrupt lands right here).
            olds = [cell.value for cell, _, _ in self._spare_cells]
            commit(self._commit_cells, new_values + spares)
            spares[:] = olds
        return outs[0] if self._single else outs

    def _feed_dict_hint(self, k: int, v: Node) -> str:
        names = ", ".join(v.label for v in self.inputs)
        return (f"argument {k} ({v.label!r}) is a dict: a compiled function takes one array "
                f"per input, by position, f({names}); a dict {{node: array}} is what "
                f"node.eval takes")

    def _keyword_error(self, kwargs: dict) -> Exception:
        names = ", ".join(repr(v.label) for v in self.inputs)
        return InputError(f"function: a compiled function takes its inputs by position "
                          f"({names}), not as keywords ({', '.join(map(repr, kwargs))}); "
                          f"compiled at {self.location or '?'}")

    def _runtime_error(self, exc: Exception) -> Exception:
        found = codegen.failing_step(self._program, exc)
        if found is None:
            return EvaluationError(f"compiled function failed: {exc}")
        pos, local = found
        node = self._schedule.steps[pos].node
        shapes = ", ".join(self._describe(i, local) for i in node.inputs)
        return EvaluationError(f"{node.op} failed on inputs of shape {shapes}: {exc}"
                               f"{self._origin(node)}")

    def _check_leaves(self, arrays: list) -> None:
        """check_nan: a NaN or Inf that comes in through an input or a parameter is blamed
        on it by name, not on the first op that reads it."""
        for k, (v, arr) in enumerate(zip(self.inputs, arrays)):
            if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
                raise EvaluationError(f"check_nan: input {v.label!r} (argument {k}) holds "
                                      f"{_kinds(arr)} (shape {arr.shape}); the call was "
                                      f"made at {_user_location() or '?'}{v.where()}")
        for p in self.graph.params:
            value = np.asarray(p.value)
            if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
                raise EvaluationError(f"check_nan: parameter {p.label!r} holds {_kinds(value)} "
                                      f"(shape {value.shape}){p.where()}")

    def _nan_error(self, exc: "codegen.NonFiniteValue") -> Exception:
        node = self._schedule.steps[exc.position].node
        value = np.asarray(exc.value)
        for c in node.inputs:
            if c.op == "const" and np.asarray(c.payload).dtype.kind in "fc" and \
                    not np.all(np.isfinite(c.payload)):
                return self._constant_nan_error(node, c)
        return EvaluationError(f"check_nan: {node.op} produced {_kinds(value)} "
                               f"(shape {value.shape}){self._origin(node)}")

    def _constant_nan_error(self, node: Node, c: Node) -> Exception:
        """The NaN/Inf came from a constant: name the op that was folded into it."""
        folded = [f.old for f in self.provenance.fates.values()
                  if f.new is c and f.old.op != "const"]
        kinds = _kinds(np.asarray(c.payload))
        if not folded:
            return EvaluationError(f"check_nan: constant {c.label} holds {kinds}, read by "
                                   f"{node.op}{self._origin(node)}")
        first = _first_non_finite(max(folded, key=lambda n: n.id))
        return EvaluationError(f"check_nan: {first.op} produced {kinds} when it was computed "
                               f"at compile time (folded into a constant that {node.op} "
                               f"reads){self._origin(first)}")

    def _describe(self, node: Node, local: dict) -> str:
        k = self._schedule.slot[node.id]
        value = node.payload if node.op == "const" else local.get(f"v{k}")
        if value is None:
            return "?"
        return f"{np.shape(value)} {np.asarray(value).dtype}"

    def _origin(self, node: Node) -> str:
        """Where the user built ``node`` (or the nodes it stands for after rewriting)."""
        users = [f.old for f in self.provenance.fates.values()
                 if f.new is node and f.old.location is not None]
        where = node.location or (users[0].location if users else None)
        return f" (node {node.label}, built at {where})" if where else f" (node {node.label})"

    # --- facts -----------------------------------------------------------------------------
    def report(self) -> str:
        """Node counts before and after compiling, the fate counts, time per pass and the
        memory plan."""
        counts = self.provenance.counts()
        ops_before = sum(1 for n in self.user_graph if n.inputs)
        ops_after = sum(1 for n in self.graph if n.inputs)
        lines = [f"{len(self.user_graph)} -> {len(self.graph)} nodes "
                 f"({ops_before} -> {ops_after} op nodes, the rest inputs, parameters "
                 f"and constants)"]
        lines.append("fates: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        rules: dict[str, int] = {}
        for fate in self.provenance.fates.values():
            if fate.rule:
                rules[fate.rule] = rules.get(fate.rule, 0) + 1
        if rules:
            lines.append("rules: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())))
        kinds = [entry[0] for entry in self._plan.out.values()]
        lines.append(f"memory: {kinds.count('inplace')} in place, {kinds.count('reuse')} "
                     f"reused buffers, {len(self._spare_cells)} parameter updates in place")
        for name, seconds in self.pass_times:
            lines.append(f"  {name:<12} {seconds * 1e3:8.2f} ms")
        if self._tiers is not None:
            lines += self._tiers.describe()
        return "\n".join(lines)

    def explain(self, node: Node) -> str:
        """What the compiler did with ``node`` of the user's graph."""
        fate = self.provenance.fates.get(node.id)
        return str(fate) if fate is not None else f"{node.label}: not part of this function"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter display: the optimised graph as SVG (or DOT text without Graphviz)."""
        from symgraph.render.svg import mimebundle  # render is a higher stage
        return mimebundle(self)

    def __reduce__(self) -> tuple:
        # pickle and deepcopy go through the file format: recompiled from the user's graph
        from symgraph.io.pickling import reduce_function  # io is a higher stage
        return reduce_function(self)

    def __repr__(self) -> str:
        names = ", ".join(v.label for v in self.inputs)
        return f"<Function ({names}) -> {len(self.outputs)} outputs, {len(self.graph)} nodes>"


def _first_non_finite(root: Node) -> Node:
    """The first op below ``root`` (all of it constants, folded at compile time) whose value
    is NaN or Inf while its inputs are finite: the op to blame (``log`` in ``log(0) * 2``)."""
    from symgraph.ops.registry import get_op
    values: dict[int, Any] = {}
    with np.errstate(all="ignore"):
        for n in Graph([root]).nodes:
            if n.op == "const":
                values[n.id] = n.payload
                continue
            kernel = get_op(n.op).kernel
            if kernel is None or any(i.id not in values for i in n.inputs):
                continue
            try:
                value = np.asarray(kernel(*[values[i.id] for i in n.inputs], **dict(n.attrs)))
            except Exception:  # noqa: BLE001 - only looking for the culprit
                continue
            values[n.id] = value
            finite_in = all(np.all(np.isfinite(values[i.id])) for i in n.inputs
                            if np.asarray(values[i.id]).dtype.kind in "fc")
            if value.dtype.kind in "fc" and not np.all(np.isfinite(value)) and finite_in:
                return n
    return root


def _kinds(value: np.ndarray) -> str:
    kinds = [k for k, bad in (("NaN", np.isnan(value).any()), ("Inf", np.isinf(value).any()))
             if bad]
    return " and ".join(kinds)


def function(inputs: Sequence[Node], outputs: Any, updates: Optional[dict] = None,
             optimize: bool = True, name: Optional[str] = None,
             check_nan: bool = False, fusion: Optional[str] = None) -> Function:
    """Compile ``outputs`` of ``inputs`` (and ``updates`` ``{param: expr}``) into a callable.

    A call returns a list of arrays (one array when ``outputs`` is a single node); then every
    update, computed from the old values, is written at once. ``optimize=False`` runs the
    graph as written (no rewrites, no in-place writes); ``check_nan=True`` raises at the
    first node whose value holds NaN or Inf, naming the op, the node and the user's line.
    ``fusion`` ("auto", "force" or "off"; default ``$SYMGRAPH_FUSION`` or "auto") chooses
    when elementwise steps run as fused Numba kernels (docs/performance.md).
    """
    with collector_paused():
        return Function(inputs, outputs, updates, optimize, name, check_nan, fusion)
