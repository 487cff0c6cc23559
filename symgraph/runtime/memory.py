"""Memory planning: which buffer each step writes into, and when each name is dropped.

Three ways a step avoids a fresh allocation, all through NumPy's ``out=``:

- *in place*: an elementwise step overwrites one of its inputs when nothing reads that
  input's storage afterwards;
- *reuse*: a step writes into a dead buffer of the same shape and dtype;
- *parameter update*: the last step of ``p <- f(p, ...)`` writes into ``p``'s own buffer
  (such steps run after everything else, so every reader of the old value runs first).

Storage is tracked conservatively: a step whose kernel is not known to return a fresh array
(reshape, transpose, indexing, ...) may return a view, so its value is assumed to share
storage with all its inputs. Inputs, constants and parameters (except as above) are never
written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from symgraph.graph import Node
from symgraph.ops.registry import get_op
from symgraph.runtime.schedule import Schedule

# Ops whose registered kernels always allocate their result (besides plain NumPy ufuncs).
FRESH_OPS = frozenset({
    "softmax", "log_softmax", "sum", "mean", "max", "min", "logsumexp", "getitem_grad",
    "concatenate", "stack", "one_hot", "sigmoid", "relu", "softplus", "reciprocal", "where",
    "clip", "axis_size",
})


@dataclass(frozen=True)
class Plan:
    """Per step (by position): where it writes and which names die after it."""

    # position -> ("inplace" | "reuse" | "param", slot whose array the step writes into[,
    # slots whose run-time shape must equal it for an in-place write])
    out: dict = field(default_factory=dict)
    # position -> slots whose names are dropped after the step
    free: dict = field(default_factory=dict)
    # update step node id -> slot of the parameter it overwrites
    param_writes: dict = field(default_factory=dict)
    # target slots whose value may share memory with a leaf (input, constant, parameter)
    aliases_leaf: frozenset = frozenset()
    # target slots whose value may share memory with a parameter
    aliases_param: frozenset = frozenset()
    # target slots whose value may share memory with another target
    aliases_target: frozenset = frozenset()


def ufunc_of(node: Node) -> Optional[np.ufunc]:
    """The NumPy ufunc that computes ``node`` when called directly, else ``None``.

    Elementwise kernels wrap their ufunc only to keep all-Python-scalar results weak; with
    some input an array, calling the ufunc itself gives the same result.
    """
    found = _UFUNCS.get(node.op)
    if found is None:
        kernel = get_op(node.op).kernel
        raw = getattr(kernel, "__wrapped__", kernel)
        found = _UFUNCS[node.op] = (raw if isinstance(raw, np.ufunc) else None, raw is not kernel)
    raw, wrapped = found
    if raw is None or node.attrs:
        return None
    if wrapped and all(i.type.weak for i in node.inputs):
        return None
    return raw


_UFUNCS: dict[str, tuple[Optional[np.ufunc], bool]] = {}   # op name -> (ufunc, wrapped?)


def takes_out(node: Node, static_only: bool = True) -> bool:
    """True when the node runs as a plain ufunc call (so it has ``out=``) and its result
    is an array (of a fully known shape, unless ``static_only`` is false)."""
    return (ufunc_of(node) is not None and node.ndim > 0 and node.dtype.kind in "biufc"
            and (not static_only or None not in node.shape))


def _fresh(node: Node) -> bool:
    """The kernel always returns a new array (or a new scalar), never a view of an input."""
    return ufunc_of(node) is not None or node.op in FRESH_OPS


def storage_roots(sched: Schedule) -> dict[int, tuple[int, ...]]:
    """slot -> the storages (slots of owning nodes) its value may share memory with,
    before any in-place planning."""
    roots: dict[int, tuple[int, ...]] = {}
    for k, n in enumerate(sched.nodes):
        if get_op(n.op).leaf or _fresh(n):
            roots[k] = (k,)
        else:
            merged: dict[int, None] = {}
            for i in n.inputs:
                merged.update(dict.fromkeys(roots[sched.slot[i.id]]))
            roots[k] = tuple(merged)
    return roots


def param_writers(sched: Schedule, targets: Sequence[Node],
                  updates: Sequence[tuple[Node, Node]]) -> dict[int, int]:
    """Update steps that may write into their parameter's buffer: node id -> param slot."""
    roots = storage_roots(sched)
    target_ids = [t.id for t in targets]
    readers: dict[int, int] = {}
    for n in sched.nodes:
        for i in dict.fromkeys(x.id for x in n.inputs):
            readers[i] = readers.get(i, 0) + 1
    chosen: dict[int, int] = {}
    for p, u in updates:
        if not get_op(u.op).elementwise or not takes_out(u) or p.id not in sched.slot:
            continue
        if u.shape != p.shape or u.dtype != p.dtype or readers.get(u.id, 0):
            continue
        if target_ids.count(u.id) != 1 or u.id in chosen:
            continue
        chosen[u.id] = sched.slot[p.id]
    # A parameter's old value must not be returned or read by another late step.
    safe: dict[int, int] = {}
    for uid, ps in chosen.items():
        members = {k for k, r in roots.items() if ps in r}
        clash = any(sched.slot[t] in members for t in target_ids if t != uid)
        for other in chosen:
            if other != uid:
                node = sched.nodes[sched.slot[other]]
                clash = clash or any(sched.slot[i.id] in members for i in node.inputs)
        if not clash:
            safe[uid] = ps
    return _with_feeders(sched, safe, target_ids, readers)


def _with_feeders(sched: Schedule, writers: dict[int, int], target_ids: list[int],
                  readers: dict[int, int]) -> dict[int, int]:
    """``writers`` plus, per update, the chain of steps feeding it that nothing else reads
    (``lr * g`` and the ``matmul`` that made ``g``): they write into the same spare buffer,
    each elementwise one in place, so ``p - lr * g`` costs what writing into ``p`` costs
    and needs no temporary (``p`` itself is never written: the buffer is the parameter's
    spare, swapped in when the call commits)."""
    out = dict(writers)
    for uid, ps in writers.items():
        u = sched.nodes[sched.slot[uid]]
        while get_op(u.op).elementwise:
            fed = None
            for t in u.inputs:
                if (t.id in out or t.id in target_ids or readers.get(t.id, 0) != 1
                        or get_op(t.op).leaf or not takes_out(t)
                        or t.shape != u.shape or t.dtype != u.dtype):
                    continue
                fed = t
                break
            if fed is None:
                break
            out[fed.id] = ps
            u = fed     # a matmul ends the chain: it cannot write over its own inputs
    return out


class _Storages:
    """Who shares memory with whom, built step by step as the plan is made."""

    def __init__(self, sched: Schedule, target_slots: set[int]) -> None:
        self.last_use = sched.last_use
        self.targets = target_slots
        self.roots: dict[int, tuple[int, ...]] = {}
        self.death: dict[int, int] = {}        # storage -> last position a member is read
        self.escaped: set[int] = set()         # a member is returned or stored
        self.array_of: dict[int, int] = {}     # slot -> storage whose array object it is
        self.holder: dict[int, int] = {}       # storage -> latest slot naming its array
        self.dying_at: dict[int, list[int]] = {}

    def new(self, k: int, owned: bool) -> None:
        self.roots[k] = (k,)
        self.death[k] = -1
        if owned:
            self.array_of[k] = k
            self.holder[k] = k
        self.join(k, k)

    def join(self, s: int, k: int) -> None:
        use = self.last_use.get(k, -1)
        if use > self.death[s]:
            self.death[s] = use
            self.dying_at.setdefault(use, []).append(s)
        if k in self.targets:
            self.escaped.add(s)

    def free_for_writing(self, s: int, position: int) -> bool:
        return s in self.holder and s not in self.escaped and self.death[s] <= position


def plan(sched: Schedule, targets: Sequence[Node], writers: dict[int, int],
         reuse: bool = True, inplace: bool = True) -> Plan:
    """Choose in-place writes and buffer reuse for ``sched``; ``writers`` from ``param_writers``."""
    target_slots = {sched.slot[t.id] for t in targets}
    st = _Storages(sched, target_slots)
    leaves = set()
    for k, n in enumerate(sched.nodes):
        if get_op(n.op).leaf:
            st.new(k, owned=False)
            leaves.add(k)
    out: dict[int, tuple[str, int]] = {}
    pool: dict[tuple, list[int]] = {}
    released: set[int] = set()
    kept_for: dict[int, int] = {}     # holder slot -> position of the step reusing it
    for pos, step in enumerate(sched.steps):
        n, k = step.node, step.out
        for s in st.dying_at.pop(pos - 1, ()):
            if reuse and st.death[s] == pos - 1 and s not in released and \
                    st.free_for_writing(s, pos - 1):
                released.add(s)
                h = sched.nodes[st.holder[s]]
                if None not in h.shape:     # reuse needs sizes known now
                    pool.setdefault((h.shape, h.dtype.str), []).append(s)
        if n.id in writers:
            out[pos] = ("param", writers[n.id])
            st.roots[k] = (writers[n.id],)
            st.join(writers[n.id], k)
            continue
        if inplace and takes_out(n, static_only=False):
            # Only elementwise steps read each input element before writing the same
            # output element; a matmul writing over its own input would need a copy.
            elementwise = get_op(n.op).elementwise
            found = _inplace_target(sched, st, n, pos, released) if elementwise else None
            if found is not None:
                target, guards = found
                s = st.array_of[target]
                out[pos] = ("inplace", target, guards)
                st.roots[k] = (s,)
                st.array_of[k] = s
                st.holder[s] = k
                st.join(s, k)
                continue
            bucket = pool.get((n.shape, n.dtype.str)) if None not in n.shape else None
            if reuse and bucket:
                s = bucket.pop()
                out[pos] = ("reuse", st.holder[s])
                kept_for[st.holder[s]] = pos
        if _fresh(n):
            st.new(k, owned=n.ndim > 0)
        else:
            merged: dict[int, None] = {}
            for i in n.inputs:
                merged.update(dict.fromkeys(st.roots[sched.slot[i.id]]))
            st.roots[k] = tuple(merged)
            for s in st.roots[k]:
                st.join(s, k)
    params = {k for k in leaves if sched.nodes[k].op == "param"}
    aliases_leaf = frozenset(t for t in target_slots if any(r in leaves for r in st.roots[t]))
    aliases_param = frozenset(t for t in target_slots if any(r in params for r in st.roots[t]))
    owners: dict[int, set[int]] = {}
    for t in target_slots:
        for r in st.roots[t]:
            owners.setdefault(r, set()).add(t)
    aliases_target = frozenset(t for t in target_slots
                               if any(len(owners[r]) > 1 for r in st.roots[t]))
    return Plan(out, _frees(sched, kept_for, target_slots), dict(writers), aliases_leaf,
                aliases_param, aliases_target)


def _inplace_target(sched: Schedule, st: _Storages, n: Node, pos: int,
                    released: set[int]) -> Optional[tuple[int, tuple[int, ...]]]:
    """An input whose array this elementwise step may overwrite: its slot and the slots
    of the inputs whose run-time shape must equal it (sizes unknown until run time)."""
    for i in n.inputs:
        ki = sched.slot[i.id]
        s = st.array_of.get(ki)
        if s is None or s in released or st.roots[ki] != (s,):
            continue
        if i.shape == n.shape and i.dtype == n.dtype and st.free_for_writing(s, pos):
            return ki, _shape_guards(sched, n, i)
    return None


def _shape_guards(sched: Schedule, n: Node, target: Node) -> tuple[int, ...]:
    """Inputs that might broadcast ``target`` along an axis of unknown size.

    With every size known, the result having ``target``'s shape settles it. Where a size
    is unknown, another input with an unknown (or bigger) size on that axis could stretch
    ``target`` at run time; the generated code then checks that input's shape first.
    """
    if None not in n.shape:
        return ()
    guards = []
    for j in n.inputs:
        if j is target:
            continue
        lead = n.ndim - j.ndim
        risky = any(n.shape[lead + a] is None and d != 1 for a, d in enumerate(j.shape))
        if risky:
            guards.append(sched.slot[j.id])
    return tuple(dict.fromkeys(guards))


def _frees(sched: Schedule, kept_for: dict, target_slots: set) -> dict:
    free: dict[int, list[int]] = {}
    for pos, step in enumerate(sched.steps):
        for a in step.free:
            if a not in kept_for:
                free.setdefault(pos, []).append(a)
    for holder_slot, pos in kept_for.items():
        if holder_slot not in target_slots:
            free.setdefault(pos, []).append(holder_slot)
    return {p: tuple(sorted(v)) for p, v in free.items()}
