"""Where the batch axis goes: which outputs of a graph are per-example and which are sums
over the examples, found by following the batch axis from the inputs through every op.

An input whose first size is ``None`` is *batched*: its rows are examples, and a Dask
array holds them in chunks of rows. Every node then gets a role:

- ``free``: does not read the examples (parameters, constants, the other inputs);
- ``per``: one slice per example along ``axis``; chunk k's slice needs chunk k's rows only;
- ``sum``: a sum over the examples (``sum`` over the batch axis, ``x.T @ d`` contracting
  it, ``sum_to_like`` undoing a broadcast along it): the sum of the chunks' partial sums;
- ``mixed``: computed from sums and free values after the sums are combined.

A mean over the batch is rewritten first into a sum divided by the *global* count (a
``batch_count`` input): the mean of chunk means is wrong for uneven chunks, the sum of
chunk sums divided by the total is exact. The split then gives two graphs: the chunk graph
(per-example outputs and the partial sums, parameters as inputs so their values can be
sent with each step) and the final graph (the outputs and parameter updates from the
combined sums). Nothing here imports Dask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

import symgraph as sg
from symgraph.errors import SymgraphError
from symgraph.graph import Node, toposort
from symgraph.ops.registry import apply, get_op
from symgraph.types import normalize_axes


class BatchAxisError(SymgraphError):
    """The graph uses the batch axis in a way that chunked evaluation cannot split."""


@dataclass(frozen=True)
class Role:
    kind: str          # "free" | "per" | "sum" | "mixed"
    axis: int = -1     # the batch axis of a "per" node


FREE, SUM, MIXED = Role("free"), Role("sum"), Role("mixed")


def per(axis: int) -> Role:
    return Role("per", axis)


@dataclass(frozen=True)
class BatchPlan:
    """A graph split at the batch sums. See the module docstring.

    The chunk graph reads ``(*param_vars, count, *free_inputs, *batched_inputs)`` and
    returns ``(*per-example outputs, *partial sums)``; the final graph reads
    ``(*sum_vars, count, *free_inputs)`` (and the parameters themselves) and returns the
    reduced outputs, with ``updates`` to apply after them.
    """

    inputs: tuple[Node, ...]          # the user's inputs, in the user's order
    batched: tuple[bool, ...]         # which of them are chunked along axis 0
    count: Node                       # var: the number of examples in the whole batch
    params: tuple[Node, ...]          # parameters the chunk graph reads
    param_vars: tuple[Node, ...]      # their stand-ins in the chunk graph
    chunk_outputs: tuple[Node, ...]   # per-example outputs, then partial sums
    per_axes: tuple[int, ...]         # the batch axis of each per-example output
    sum_vars: tuple[Node, ...]        # the final graph's placeholders for the sums
    final_outputs: tuple[Node, ...]   # the reduced outputs
    final_updates: tuple[tuple[Node, Node], ...]
    kinds: tuple[tuple[str, int], ...]  # per user output: ("per", k) or ("reduced", k)

    @property
    def free_inputs(self) -> tuple[Node, ...]:
        return tuple(v for v, b in zip(self.inputs, self.batched) if not b)

    @property
    def batched_inputs(self) -> tuple[Node, ...]:
        return tuple(v for v, b in zip(self.inputs, self.batched) if b)

    @property
    def chunk_inputs(self) -> tuple[Node, ...]:
        return (*self.param_vars, self.count, *self.free_inputs, *self.batched_inputs)

    @property
    def final_inputs(self) -> tuple[Node, ...]:
        return (*self.sum_vars, self.count, *self.free_inputs)

    @property
    def n_sums(self) -> int:
        return len(self.sum_vars)


# --- the walk ----------------------------------------------------------------------------
class _Walk:
    """State of one walk: the count placeholder and the batch sums found so far."""

    def __init__(self) -> None:
        self.count = sg.var("batch_count", (), "int64")
        self.sums: list[Node] = []
        self._seen: set[int] = set()

    def total(self, x: Node, axes: Sequence[int], dtype: np.dtype) -> Node:
        """How many entries a reduction of per-example ``x`` over ``axes`` gathers: the
        global count times the static sizes of the other reduced axes."""
        other = [x.shape[a] for a in axes[1:]]
        if None in other:
            raise BatchAxisError(f"{x.label}: a mean over the batch axis and an axis of "
                                 f"unknown size cannot be split into chunks{x.where()}")
        n = sg.cast(self.count, dtype)
        k = math.prod(other)
        return n if k == 1 else sg.multiply(n, np.asarray(k, dtype))

    def sum(self, node: Node) -> tuple[Node, Role]:
        if node.id not in self._seen:
            self._seen.add(node.id)
            self.sums.append(node)
        return node, SUM


def _rebuild(node: Node, ins: Sequence[Node]) -> Node:
    return node if all(a is b for a, b in zip(ins, node.inputs)) else node.with_inputs(ins)


def _fail(node: Node, why: str) -> BatchAxisError:
    return BatchAxisError(f"{node.op}: {why}; symgraph.dask evaluates a graph in one pass "
                          f"over chunks of examples{node.where()}")


def _value_inputs(node: Node) -> list[int]:
    skip = get_op(node.op).shape_only_inputs
    return [k for k in range(len(node.inputs)) if k not in skip]


def _aligned(node: Node, roles: Sequence[Role], positions: Sequence[int]) -> Optional[int]:
    """The output's batch axis for an op broadcasting its inputs NumPy-style (aligned from
    the right), or None when no input is per-example."""
    out_axis = None
    for k in positions:
        r = roles[k]
        if r.kind == "per":
            a = r.axis + node.ndim - node.inputs[k].ndim
            if out_axis is not None and a != out_axis:
                raise _fail(node, f"inputs have their examples along different axes "
                                  f"({out_axis} and {a})")
            out_axis = a
    if out_axis is None:
        return None
    for k in positions:
        x = node.inputs[k]
        p = out_axis - (node.ndim - x.ndim)
        if roles[k].kind != "per" and p >= 0 and x.shape[p] != 1:
            raise _fail(node, f"{x.label} {x.type} would be broadcast along the batch axis")
    return out_axis


Rule = Callable[[Node, list, list, _Walk], tuple[Node, Role]]


def _elementwise(node, ins, roles, walk):
    axis = _aligned(node, roles, _value_inputs(node))
    return _rebuild(node, ins), (FREE if axis is None else per(axis))


def _reduce(node, ins, roles, walk):
    r = roles[0]
    axes = normalize_axes(node.op, node.attr("axis"), node.inputs[0].ndim)
    keep = node.attr("keepdims")
    if r.axis not in axes:
        return _rebuild(node, ins), per(r.axis if keep else r.axis - sum(a < r.axis for a in axes))
    if node.op == "sum":
        return walk.sum(_rebuild(node, ins))
    if node.op == "mean":
        # mean over the batch -> sum over the batch / global count
        x = ins[0]
        total, _ = walk.sum(sg.sum(x, axes, keepdims=keep))
        moved = (r.axis, *[a for a in axes if a != r.axis])
        out = sg.divide(total, walk.total(node.inputs[0], moved, node.dtype))
        return out, MIXED
    raise _fail(node, "reducing over the batch axis with anything but a sum or a mean needs "
                      "every example at once")


def _softmax(node, ins, roles, walk):
    r = roles[0]
    if normalize_axes(node.op, node.attr("axis"), node.ndim) == (r.axis,):
        raise _fail(node, "a softmax across the examples needs every example at once")
    return _rebuild(node, ins), r


def _axis_size(node, ins, roles, walk):
    axes = normalize_axes(node.op, node.attr("axis"), node.inputs[0].ndim)
    r = roles[0]
    if r.axis not in axes:
        raise _fail(node, "the size of a per-example value's other axes is not supported")
    moved = (r.axis, *[a for a in axes if a != r.axis])
    # axis_size over the batch -> the global count (times the other sizes)
    return walk.total(node.inputs[0], moved, node.dtype), FREE


def _transpose(node, ins, roles, walk):
    return _rebuild(node, ins), per(tuple(node.attr("axes")).index(roles[0].axis))


def _expand_dims(node, ins, roles, walk):
    new = normalize_axes("expand_dims", node.attr("axis"), node.ndim)
    rest = [i for i in range(node.ndim) if i not in new]
    return _rebuild(node, ins), per(rest[roles[0].axis])


def _squeeze(node, ins, roles, walk):
    axes = normalize_axes("squeeze", node.attr("axis"), node.inputs[0].ndim)
    a = roles[0].axis
    if a in axes:
        raise _fail(node, "squeezing the batch axis")
    return _rebuild(node, ins), per(a - sum(b < a for b in axes))


def _reshape(node, ins, roles, walk):
    x = node.inputs[0]
    if roles[0].axis == 0 and node.shape[:1] == (None,) and None not in x.shape[1:] \
            and None not in node.shape[1:] \
            and math.prod(x.shape[1:]) == math.prod(node.shape[1:]):
        return _rebuild(node, ins), per(0)
    raise _fail(node, f"a reshape from {x.type} to {node.type} must keep the examples as "
                      f"its first axis")


def _broadcast_like(node, ins, roles, walk):
    if roles[1].kind == "per":
        axis = roles[1].axis
        if roles[0].kind == "per" and roles[0].axis + node.ndim - node.inputs[0].ndim != axis:
            raise _fail(node, "inputs have their examples along different axes")
        return _rebuild(node, ins), per(axis)
    return _elementwise(node, ins, roles, walk)


def _sum_to_like(node, ins, roles, walk):
    x = roles[0]
    if x.kind != "per":
        return _rebuild(node, ins), FREE
    if roles[1].kind == "per":
        return _rebuild(node, ins), per(roles[1].axis)
    # the broadcast along the batch axis is undone: a sum over the examples
    return walk.sum(_rebuild(node, ins))


def _matmul(node, ins, roles, walk):
    a, b = node.inputs
    ra, rb = roles
    # the contracted axis: a's last, b's second-to-last (its only one when 1-d)
    a_contract = ra.kind == "per" and ra.axis == a.ndim - 1
    b_contract = rb.kind == "per" and rb.axis == max(b.ndim - 2, 0)
    if a_contract and b_contract:
        if a.ndim > 2 or b.ndim > 2:
            raise _fail(node, "a stacked product contracting the batch axis")
        # A^T D over the examples -> the sum of the chunks' A_k^T D_k
        return walk.sum(_rebuild(node, ins))
    if a_contract or b_contract:
        raise _fail(node, "one factor has the examples along the contracted axis, the other "
                          "does not")
    if ra.kind == "per" and rb.kind == "per":
        raise _fail(node, "both factors have examples along kept axes")
    if ra.kind == "per":
        if a.ndim == 1:
            raise _fail(node, "the examples are the contracted axis")
        # a 1-d b only drops a's last axis; otherwise a's axes are aligned from the right
        return _rebuild(node, ins), per(ra.axis if b.ndim == 1 else ra.axis + node.ndim - a.ndim)
    if rb.axis == b.ndim - 1:
        return _rebuild(node, ins), per(node.ndim - 1)
    # a stacked axis of b: a 1-d a adds no axes in front
    return _rebuild(node, ins), per(rb.axis if a.ndim == 1 else rb.axis + node.ndim - b.ndim)


def _getitem(node, ins, roles, walk):
    if len(node.inputs) > 1 or roles[0].kind != "per":
        raise _fail(node, "indexing examples with index arrays")
    spec = node.attr("index")
    x, a = node.inputs[0], roles[0].axis
    taken = sum(1 for s in spec if s[0] in ("int", "slice"))
    i = o = 0
    for s in spec:
        if s[0] == "newaxis":
            o += 1
            continue
        if s[0] == "ellipsis":
            width = x.ndim - taken
            if i <= a < i + width:
                return _rebuild(node, ins), per(o + a - i)
            i, o = i + width, o + width
            continue
        if i == a:
            if s != ("slice", None, None, None):
                raise _fail(node, "indexing along the batch axis")
            return _rebuild(node, ins), per(o)
        i += 1
        o += 1 if s[0] == "slice" else 0
    return _rebuild(node, ins), per(o + a - i)


def _join(node, ins, roles, walk):
    """concatenate / stack: every input per-example along one axis, joined along another."""
    values = _value_inputs(node)
    axes = {roles[k].axis for k in values if roles[k].kind == "per"}
    if len(axes) != 1 or any(roles[k].kind != "per" for k in values):
        raise _fail(node, "inputs with and without examples joined together")
    axis = axes.pop()
    along = node.attr("axis") % node.ndim
    if node.op == "concatenate" and along == axis:
        raise _fail(node, "joining along the batch axis would interleave the chunks")
    if node.op == "stack" and along <= axis:
        axis += 1
    return _rebuild(node, ins), per(axis)


def _leading(node, ins, roles, walk):
    """Ops that treat their first axis as a batch (convolutions, pooling, one_hot)."""
    for k in _value_inputs(node):
        if roles[k].kind == "per" and roles[k].axis != 0:
            raise _fail(node, "the examples must be the first axis")
    return _rebuild(node, ins), per(0)


def _kernel_grad(node, ins, roles, walk):
    # dK = sum over examples of each example's correlation -> a sum over the batch
    return walk.sum(_rebuild(node, ins))


def _sce(node, ins, roles, walk):
    how = node.attr("reduction")
    if roles[0].kind == "per" and roles[0].axis == node.inputs[0].ndim - 1:
        raise _fail(node, "the examples cannot be the class axis")
    rows = apply("sparse_softmax_cross_entropy", list(ins), reduction="none")
    if how == "none":
        return rows, per(0)
    total, _ = walk.sum(sg.sum(rows))
    if how == "sum":
        return total, SUM
    # cross-entropy mean -> sum of rows / global count of rows
    labels = node.inputs[1]
    return sg.divide(total, walk.total(labels, tuple(range(labels.ndim)), node.dtype)), MIXED


def _sce_grad(node, ins, roles, walk):
    z, labels, g = ins
    how = node.attr("reduction")
    if how == "mean":
        # each row weighted g / rows -> the sum form with g / global count
        g = sg.divide(g, walk.total(node.inputs[1], tuple(range(labels.ndim)), g.dtype))
        how = "sum"
    return apply("sparse_softmax_cross_entropy_grad", [z, labels, g], reduction=how), per(0)


def _random(node, ins, roles, walk):
    raise _fail(node, "a random mask drawn for the whole batch would differ chunk by chunk")


_RULES: dict[str, Rule] = {
    "sum": _reduce, "mean": _reduce, "max": _reduce, "min": _reduce, "logsumexp": _reduce,
    "softmax": _softmax, "log_softmax": _softmax, "axis_size": _axis_size,
    "transpose": _transpose, "expand_dims": _expand_dims, "squeeze": _squeeze,
    "reshape": _reshape, "broadcast_like": _broadcast_like, "sum_to_like": _sum_to_like,
    "matmul": _matmul, "getitem": _getitem, "concatenate": _join, "stack": _join,
    "one_hot": _leading, "conv2d": _leading, "conv2d_input_grad": _leading,
    "max_pool2d": _leading, "avg_pool2d": _leading, "max_pool2d_route": _leading,
    "max_pool2d_gather": _leading, "avg_pool2d_grad": _leading,
    "conv2d_kernel_grad": _kernel_grad,
    "sparse_softmax_cross_entropy": _sce, "sparse_softmax_cross_entropy_grad": _sce_grad,
    "dropout_mask": _random,
}


def _step(node: Node, ins: list, roles: list, walk: _Walk) -> tuple[Node, Role]:
    values = _value_inputs(node)
    kinds = [roles[k].kind for k in values]
    shape_per = any(roles[k].kind == "per" for k in range(len(roles)) if k not in values)
    if "per" not in kinds and not shape_per:
        mixed = "sum" in kinds or "mixed" in kinds
        return _rebuild(node, ins), (MIXED if mixed else FREE)
    if "sum" in kinds or "mixed" in kinds:
        late = next(node.inputs[k] for k in values if roles[k].kind in ("sum", "mixed"))
        raise _fail(node, f"per-example values are combined with {late.label}, which needs "
                          f"the sum over all examples first (as batch normalisation does)")
    rule = _RULES.get(node.op)
    if rule is None:
        if get_op(node.op).elementwise:
            rule = _elementwise
        else:
            raise _fail(node, "this op has no rule saying where the batch axis goes")
    return rule(node, ins, roles, walk)


def substitute(outputs: Sequence[Node], mapping: dict[int, Node]) -> list[Node]:
    """``outputs`` rebuilt with the nodes whose id is in ``mapping`` replaced."""
    new: dict[int, Node] = {}
    for n in toposort(list(outputs)):
        new[n.id] = mapping[n.id] if n.id in mapping else _rebuild(n, [new[i.id] for i in n.inputs])
    return [new[o.id] for o in outputs]


def analyse(inputs: Sequence[Node], outputs: Sequence[Node],
            updates: Sequence[tuple[Node, Node]] = ()) -> BatchPlan:
    """Split ``outputs`` (and parameter ``updates``) of a graph over ``inputs`` at the
    sums over the batch: see ``BatchPlan``."""
    inputs = tuple(inputs)
    batched = tuple(v.ndim > 0 and v.shape[0] is None for v in inputs)
    if not any(batched):
        raise BatchAxisError("symgraph.dask: no input has a batch axis (a first size of None): "
                             + ", ".join(f"{v.label} {v.type}" for v in inputs))
    walk = _Walk()
    targets = [*outputs, *[e for _, e in updates]]
    new: dict[int, Node] = {}
    role: dict[int, Role] = {}
    given = {v.id: b for v, b in zip(inputs, batched)}
    for n in toposort(targets):
        if not n.inputs:
            new[n.id] = n
            role[n.id] = per(0) if given.get(n.id, False) else FREE
            continue
        out, r = _step(n, [new[i.id] for i in n.inputs], [role[i.id] for i in n.inputs], walk)
        new[n.id], role[n.id] = out, r
    kinds, per_outs, per_axes = [], [], []
    reduced = []
    for o in outputs:
        r = role[o.id]
        if r.kind == "per":
            kinds.append(("per", len(per_outs)))
            per_outs.append(new[o.id])
            per_axes.append(r.axis)
        else:
            kinds.append(("reduced", len(reduced)))
            reduced.append(new[o.id])
    for p, e in updates:
        if role[e.id].kind == "per":
            raise BatchAxisError(f"symgraph.dask: the update of {p.label} has one value per "
                                 f"example{e.where()}")
    # The chunk graph: parameters become inputs, so each step sends their current values.
    chunk_targets = [*per_outs, *walk.sums]
    params = [n for n in toposort(chunk_targets) if n.op == "param"] if chunk_targets else []
    param_vars = [sg.var(p.label, p.shape, p.dtype) for p in params]
    chunk_outputs = substitute(chunk_targets, {p.id: v for p, v in zip(params, param_vars)})
    # The final graph: each sum becomes a placeholder for the combined value.
    sum_vars = [sg.var(f"batch_sum{k}", s.shape, s.dtype) for k, s in enumerate(walk.sums)]
    final = substitute([*reduced, *[new[e.id] for _, e in updates]],
                       {s.id: v for s, v in zip(walk.sums, sum_vars)})
    final_updates = tuple((p, e) for (p, _), e in zip(updates, final[len(reduced):]))
    return BatchPlan(inputs, batched, walk.count, tuple(params), tuple(param_vars),
                     tuple(chunk_outputs), tuple(per_axes), tuple(sum_vars),
                     tuple(final[:len(reduced)]), final_updates, tuple(kinds))
