"""Forward mode: ``jvp`` walks the graph forwards once, appending tangent nodes (the dual
parts x' of the textbook's dual numbers x + x' eps) built from each op's JVP rule.

Zero tangents are never built: a missing entry means zero.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError
from symgraph.graph import Node, building_gradient, toposort
from symgraph.ops.elementwise import cast
from symgraph.ops.registry import as_node, const, get_op
from symgraph.ops.shape import broadcast_like, zeros_like
from symgraph.autodiff.reverse import _check_wrt, check_complex_rules
from symgraph.types import format_shape


def _fit(t: Node, node: Node, passed_through: bool) -> Node:
    """The tangent ``t`` broadcast to ``node``'s shape and cast to its dtype.

    ``passed_through`` marks a tangent that a broadcasting op handed on unchanged from one
    input, whose unknown sizes might still broadcast at run time.
    """
    if t.dtype != node.dtype:
        t = cast(t, node.dtype)
    if t.shape != node.shape or (passed_through and None in node.shape):
        t = broadcast_like(t, node)
    return t


def jvp(outputs: Node | Sequence[Node], wrt: Node | Sequence[Node],
        tangents: Any | Sequence[Any]) -> Node | list[Node]:
    """Jacobian-vector products: d outputs along the direction ``tangents`` of ``wrt``.

    A tangent of ``None`` is a symbolic zero: nothing is built for it.
    """
    single_out = isinstance(outputs, Node)
    outs = [outputs] if single_out else [as_node(o) for o in outputs]
    wrts = [wrt] if isinstance(wrt, Node) else list(wrt)
    tans = [tangents] if isinstance(wrt, Node) else list(tangents)
    if len(tans) != len(wrts):
        raise ArgumentError(f"jvp: {len(wrts)} wrt nodes but {len(tans)} tangents")
    _check_wrt(wrts, "jvp")
    tangent: dict[int, Node] = {}
    with building_gradient():
        for w, t in zip(wrts, tans):
            if t is None:   # a symbolic zero tangent: nothing to seed
                continue
            t = t if isinstance(t, Node) else const(np.asarray(t, dtype=w.dtype))
            if t.shape != w.shape and None not in w.shape:
                raise ShapeError(f"jvp: tangent of shape {format_shape(t.shape)} does not "
                                 f"match {w.label} of shape {format_shape(w.shape)}{w.where()}")
            tangent[id(w)] = _fit(t, w, False)
        forward_sweep(outs, tangent)
        result = [tangent[id(o)] if id(o) in tangent else zeros_like(o) for o in outs]
    return result[0] if single_out else result


def forward_sweep(outputs: Sequence[Node], tangent: dict[int, Node]) -> dict[int, Node]:
    """Extend ``tangent`` (``id(node) -> tangent node``) to every node ``outputs`` reach.

    Nodes already in ``tangent`` are not differentiated again, so a caller that keeps the
    map can differentiate a derivative graph along the same direction and only pay for
    the nodes the last pass added (``higher.nth_derivatives`` does this).
    """
    with building_gradient():
        for n in toposort(outputs):
            if id(n) in tangent:
                continue
            op = get_op(n.op)
            if op.leaf or not op.differentiable:
                continue
            ts = [tangent.get(id(i)) for i in n.inputs]
            if all(t is None for t in ts):
                continue
            check_complex_rules(n, "jvp")
            t = op.jvp(n, ts)
            if t is not None:
                through = op.elementwise and len(n.inputs) > 1 and any(t is s for s in ts)
                tangent[id(n)] = _fit(t, n, through)
    return tangent
