"""The engine every local-rewrite pass shares: walk the graph once, inputs first, and let a
list of rules replace each node; plus the small helpers rules are written with.

A rule looks at one node (whose inputs are already rewritten) and returns a replacement
node or ``None``. The engine keeps applying rules to a node until none fires, records the
fate of every old node, and refuses any replacement whose static type differs from the
node it replaces, so a rule can never change what the rest of the graph was typed against.
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from symgraph.graph import Node, toposort
from symgraph.ops.registry import _freeze, get_op
from symgraph.passes.provenance import KEPT, REWRITTEN, Fate, PassResult
from symgraph.types import TensorType

RuleFn = Callable[[Node], Optional[Node]]

# A rule that keeps firing on its own output is a bug; stop rather than loop forever.
_MAX_REWRITES_PER_NODE = 16


@dataclass(frozen=True)
class Rule:
    """A named local rewrite: ``fn(node)`` returns the replacement or ``None``."""

    name: str
    fn: RuleFn
    how: str = REWRITTEN
    # The ops the rule can fire on (the engine offers it no others); empty means any op.
    ops: tuple[str, ...] = ()
    # The pass the rule belongs to, when one walk runs the rules of several (for timing).
    group: str = ""


def run_rules(outputs: Sequence[Node], rules: Sequence[Rule], name: str) -> PassResult:
    """Rewrite the graph of ``outputs`` bottom-up with ``rules``; fates for every old node."""
    order = toposort(outputs)
    engine = _Engine(rules, {n.id for n in order})
    new_of: dict[int, Node] = {}
    fates: dict[int, Fate] = {}
    # Rules compute with NumPy at compile time (folding, say); a floating-point warning
    # there is not the user's: the run-time call reports its own. One errstate for the walk.
    with np.errstate(all="ignore"):
        for n in order:
            _rewrite_one(n, engine, new_of, fates)
    groups = dict.fromkeys(r.group for r in rules if r.group)
    times = {group: engine.times.get(group, 0.0) for group in groups}
    return PassResult(tuple(new_of[o.id] for o in outputs), fates, name, times)


def _rewrite_one(n: Node, engine: "_Engine", new_of: dict, fates: dict) -> None:
    """Rewrite ``n`` (inputs already rewritten); record its replacement and its fate."""
    start = n
    if n.inputs:
        inputs = tuple([new_of[i.id] for i in n.inputs])
        if inputs != n.inputs:      # nodes compare by identity
            start = n.with_inputs(inputs)
    current, fired = engine.rewrite(start)
    new_of[n.id] = current
    if fired:
        how = fired[0].how if all(r.how == fired[0].how for r in fired) else REWRITTEN
        rule_names = "+".join(dict.fromkeys(r.name for r in fired))
        fates[n.id] = Fate(n, current, how, rule_names)
    else:
        fates[n.id] = Fate(n, current, KEPT)


class _Engine:
    """Applies rules to one node, then to the nodes those rules built, until nothing fires."""

    def __init__(self, rules: Sequence[Rule], old_ids: set[int]) -> None:
        self.any_op = [r for r in rules if not r.ops]
        self.by_op: dict[str, list[Rule]] = {}
        for r in rules:
            for op in r.ops:
                self.by_op.setdefault(op, []).append(r)
        # Keep the declared order among the rules one op is offered.
        order = {id(r): k for k, r in enumerate(rules)}
        for op, rs in self.by_op.items():
            rs.extend(self.any_op)
            rs.sort(key=lambda r: order[id(r)])
        self.old_ids = old_ids
        self.settled: dict[int, Node] = {}
        self.timed = any(r.group for r in rules)
        self.chunks: dict[int, list[tuple[str, list[Rule]]]] = {}
        self.times: dict[str, float] = {}

    def rules_for(self, node: Node) -> list[Rule]:
        return self.by_op.get(node.op, self.any_op)

    def rewrite(self, node: Node) -> tuple[Node, list[Rule]]:
        current, fired = self._local(node)
        if not fired:
            self.settled[current.id] = current
            return current, fired
        # Nodes a rule built were never offered to the rules themselves (a rule may build
        # ``sum(g)`` that another rule simplifies); settle them, inputs first, and re-offer
        # their users. Bounded: a rule set that keeps building is cut off.
        for _ in range(_MAX_REWRITES_PER_NODE):
            fresh = self._unsettled_below(current)
            if not fresh:
                break
            for m in fresh:
                inputs = [self.settled.get(i.id, i) for i in m.inputs]
                start = m if all(a is b for a, b in zip(inputs, m.inputs)) else m.with_inputs(inputs)
                result, more = self._local(start) if m is not current else (start, [])
                fired.extend(more)
                self.settled[m.id] = result
                self.settled[result.id] = result
            rebuilt = self.settled[current.id]
            current, more = self._local(rebuilt)
            fired.extend(more)
        self.settled[current.id] = current
        return current, fired

    def _local(self, node: Node) -> tuple[Node, list[Rule]]:
        fired: list[Rule] = []
        current = node
        for _ in range(_MAX_REWRITES_PER_NODE):
            rules = self.rules_for(current)
            if not rules:
                break
            match = self._timed_match(current, rules) if self.timed else _first_match(current, rules)
            if match is None:
                break
            rule, current = match
            fired.append(rule)
        return current, fired

    def _timed_match(self, node: Node, rules: Sequence[Rule]) -> Optional[tuple[Rule, Node]]:
        chunks = self.chunks.get(id(rules))
        if chunks is None:
            chunks = self.chunks[id(rules)] = _by_group(rules)
        times = self.times
        # One clock reading per chunk boundary: the end of one chunk starts the next.
        clock = time.perf_counter
        start = clock()
        for group, chunk in chunks:
            match = _first_match(node, chunk)
            end = clock()
            times[group] = times.get(group, 0.0) + end - start
            if match is not None:
                return match
            start = end
        return None

    def _unsettled_below(self, root: Node) -> list[Node]:
        """Nodes built during this pass under ``root`` that no rule has looked at yet."""
        found: dict[int, Node] = {}
        stack = list(root.inputs)
        while stack:
            m = stack.pop()
            if m.id in self.old_ids or m.id in self.settled or m.id in found:
                continue
            found[m.id] = m
            stack.extend(m.inputs)
        if not found:
            return []
        found[root.id] = root
        return [found[k] for k in sorted(found)]


def _by_group(rules: Sequence[Rule]) -> list[tuple[str, list[Rule]]]:
    """Consecutive rules of one group together, in order (timed as one piece)."""
    chunks: list[tuple[str, list[Rule]]] = []
    for r in rules:
        if chunks and chunks[-1][0] == r.group:
            chunks[-1][1].append(r)
        else:
            chunks.append((r.group, [r]))
    return chunks


def _first_match(node: Node, rules: Sequence[Rule]) -> Optional[tuple[Rule, Node]]:
    for rule in rules:
        out = rule.fn(node)
        if out is None or out is node:
            continue
        if out.type != node.type:
            # A rule must not change the static type; a mismatch means the rule's
            # preconditions were too loose for this node, so the node is left alone.
            continue
        return rule, out
    return None


# --- helpers for writing rules ------------------------------------------------------------
def relinked(n: Node, changed: dict[int, Node]) -> Node:
    """``n`` reading the replacements in ``changed`` (old node id -> new node) of its
    inputs; ``n`` itself when none of them changed."""
    if changed and any(i.id in changed for i in n.inputs):
        return n.with_inputs([changed.get(i.id, i) for i in n.inputs])
    return n


def build(op_name: str, inputs: Sequence[Node], like: Node, root: bool = False,
          **attrs: Any) -> Node:
    """A new node applying ``op_name``, credited to ``like``'s source line, scope and role.

    ``root=True`` also gives it ``like``'s name: use it for the node that stands for
    ``like`` itself, so the user's names survive rewriting.
    """
    op = get_op(op_name)
    frozen = tuple(sorted((k, _freeze(v)) for k, v in attrs.items()))
    type_ = op.infer([i.type for i in inputs], dict(frozen), like.where())
    node = Node(op_name, inputs, frozen, type_, name=like.name if root else None,
                location=like.location)
    _inherit(node, like)
    return node


def make_const(value: Any, like: Node, root: bool = False,
               type_: Optional[TensorType] = None) -> Node:
    """A constant holding ``value`` with exactly ``like``'s static type (or ``type_``),
    credited to ``like``."""
    t = like.type if type_ is None else type_
    if t.weak:
        payload: Any = np.asarray(value, dtype=t.dtype).item()
    else:
        arr = np.asarray(value, dtype=t.dtype)
        if arr.shape != t.shape:
            # A read-only broadcast view: a constant of zeros costs one element.
            payload = np.broadcast_to(arr, t.shape)
        else:
            payload = np.array(arr, copy=True)
            payload.setflags(write=False)
    node = Node("const", (), (), t, name=like.name if root else None, payload=payload,
                location=like.location)
    _inherit(node, like)
    return node


def _inherit(node: Node, like: Node) -> None:
    # The node is brand new and not yet shared, so giving it its origin's scope and
    # gradient flag here is part of building it, not a mutation of a published node.
    object.__setattr__(node, "scope", like.scope)
    object.__setattr__(node, "is_grad", like.is_grad)


def const_value(n: Node) -> Optional[np.ndarray]:
    """The value of a constant node as an array, or ``None`` for any other node."""
    if n.op != "const":
        return None
    return np.asarray(n.payload)


def is_const_equal(n: Node, value: float) -> bool:
    """True when ``n`` is a constant whose every element equals ``value``."""
    if n.op != "const":
        return False
    p = n.payload
    if type(p) is float or type(p) is int:
        # Weak Python-scalar constants are most of them; NumPy costs ~10x more per test.
        return p == value
    v = np.asarray(p)
    if v.size == 0 or v.dtype.kind not in "biufc":
        return False
    return bool(np.all(v == value))


def static(shape: tuple) -> bool:
    """True when every size of ``shape`` is known at compile time."""
    return None not in shape


def operands(n: Node) -> list[tuple[Node, Node]]:
    """``(a, b)`` and, for a commutative op, ``(b, a)`` too: both ways to match a pattern."""
    a, b = n.inputs
    pairs = [(a, b)]
    if get_op(n.op).commutative and a is not b:
        pairs.append((b, a))
    return pairs


# Ops whose run-time shape follows from one input's whatever its sizes: they cannot fail
# on shapes (elementwise ops of one input are added below).
_SHAPE_TOTAL = frozenset({"sum", "mean", "max", "min", "logsumexp", "transpose",
                          "expand_dims", "softmax", "log_softmax", "cast", "stop_gradient",
                          "axis_size"})
_shape_safe: "weakref.WeakKeyDictionary[Node, bool]" = weakref.WeakKeyDictionary()


def _may_fail_on_shapes(n: Node) -> bool:
    """``n`` combines or reshapes a size unknown until run time, which may not fit."""
    if not any(None in i.shape for i in n.inputs):
        return False
    if len(n.inputs) == 1 and (n.op in _SHAPE_TOTAL or get_op(n.op).elementwise):
        return False
    return True


def shape_safe(n: Node) -> bool:
    """Computing ``n`` cannot fail on shapes: no node it reaches combines sizes that are
    unknown until run time. A rule may drop a node (or read only its static shape) only
    when it is shape-safe; otherwise the run-time shape error that ``optimize=False`` raises
    would be hidden, e.g. ``(x + y) - y -> x`` with ``x: (3,)``, ``y: (?,)`` fed 4 values.
    """
    found = _shape_safe.get(n)
    if found is not None:
        return found
    stack = [n]
    while stack:            # iterative: graphs may be a million nodes deep
        top = stack[-1]
        if top in _shape_safe:
            stack.pop()
            continue
        todo = [i for i in top.inputs if i not in _shape_safe]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        _shape_safe[top] = (not _may_fail_on_shapes(top)
                         and all(_shape_safe[i] for i in top.inputs))
    return _shape_safe[n]


_witness: "weakref.WeakKeyDictionary[Node, Node]" = weakref.WeakKeyDictionary()


def shape_witness(n: Node) -> Node:
    """A node whose run-time shape ``n`` provably has, whatever sizes are unknown: through
    elementwise ops whose other inputs are scalars or share the witness, and through
    ``broadcast_like(x, ref)`` (shape of ``ref``); else ``n`` itself."""
    found = _witness.get(n)
    if found is not None:
        return found
    stack = [n]
    while stack:            # iterative: graphs may be a million nodes deep
        top = stack[-1]
        if top in _witness:
            stack.pop()
            continue
        follow = _witness_inputs(top)
        todo = [i for i in follow if i not in _witness]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        _witness[top] = _witness_of(top, follow)
    return _witness[n]


def _witness_inputs(n: Node) -> tuple[Node, ...]:
    if n.op == "broadcast_like":
        return (n.inputs[1],)
    if n.inputs and get_op(n.op).elementwise:
        return tuple(i for i in n.inputs if i.shape != ())
    return ()


def _witness_of(n: Node, follow: tuple[Node, ...]) -> Node:
    if n.op == "broadcast_like":
        ref = n.inputs[1]
        return _witness[ref] if ref.shape == n.shape else n
    found = {id(_witness[i]): _witness[i] for i in follow if i.shape == n.shape}
    if len(found) == 1 and all(i.shape == n.shape for i in follow):
        return next(iter(found.values()))
    return n


def same_run_time_shape(a: Node, b: Node) -> bool:
    """``a`` and ``b`` provably have one shape at run time (equal static shapes that are
    fully known, or one shape witness)."""
    if a.shape != b.shape:
        return False
    return static(a.shape) or shape_witness(a) is shape_witness(b)
