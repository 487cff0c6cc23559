"""Reverse mode: ``vjp`` walks the graph backwards once, appending cotangent nodes built
from each op's VJP rule; ``grad`` is its scalar-output form.

Zero cotangents are never built: a missing entry means zero, and only nodes that depend on
some ``wrt`` are visited.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from symgraph.errors import (ArgumentError, DisconnectedError, DisconnectedWarning, DTypeError,
                             ShapeError)
from symgraph.graph import Node, _user_location, building_gradient, collector_paused, toposort
from symgraph.ops.elementwise import add, cast
from symgraph.ops.registry import as_node, const, get_op
from symgraph.ops.shape import sum_to_like, zeros_like
from symgraph.types import format_shape, is_float


def unbroadcast(ct: Node, x: Node, loose: bool = False) -> Node:
    """The cotangent ``ct`` summed back to ``x``'s shape and cast to ``x``'s dtype.

    The one place broadcasting is undone. ``loose`` marks cotangents of broadcasting ops
    whose static shapes agree but whose unknown (``None``) sizes might still have
    broadcast at run time; they get a ``sum_to_like`` too, which costs nothing when the
    run-time shapes agree.
    """
    if ct.dtype != x.dtype:
        # A complex cotangent reaching a real input keeps its real part (JAX's convention,
        # docs/higher-order.md "Complex numbers"): the real input moves only along reals.
        ct = cast(ct, x.dtype)
    if ct.shape != x.shape or (loose and None in x.shape):
        ct = sum_to_like(ct, x)
    return ct


def _sum(terms: list[Node]) -> Node:
    out = terms[0]
    for t in terms[1:]:
        out = add(out, t)
    return out


def _depends_on(order: Sequence[Node], wrt_ids: set[int]) -> set[int]:
    """Ids of the nodes in ``order`` that some ``wrt`` node reaches through differentiable ops."""
    live: set[int] = set()
    for n in order:
        if id(n) in wrt_ids:
            live.add(id(n))
            continue
        op = get_op(n.op)
        if op.leaf or not op.differentiable or n.op == "stop_gradient":
            continue
        if any(id(i) in live for i in n.inputs):
            live.add(id(n))
    return live


def check_complex_rules(n: Node, fn: str) -> None:
    """A clear error when ``n``'s op has complex operands but no complex derivative rules."""
    if get_op(n.op).complex_ok:
        return
    if n.dtype.kind == "c" or any(i.dtype.kind == "c" for i in n.inputs):
        listed = ", ".join(f"{i.label}: {i.type}" for i in n.inputs)
        raise DTypeError(f"{fn}: op {n.op!r} has no derivative rules for complex operands "
                         f"(inputs {listed}); differentiate it on real inputs, or split "
                         f"the complex values with sg.real/sg.imag{n.where()}")


def _check_wrt(wrt: Sequence[Node], fn: str) -> None:
    for w in wrt:
        if not isinstance(w, Node):
            raise ArgumentError(f"{fn}: wrt must be nodes, got {type(w).__name__}")
        if not is_float(w.dtype):
            raise DTypeError(f"{fn}: cannot differentiate with respect to {w.label} of dtype "
                             f"{w.dtype}; only floating-point nodes have derivatives{w.where()}")


def vjp(outputs: Node | Sequence[Node], wrt: Node | Sequence[Node],
        cotangents: Any | Sequence[Any], disconnected: str = "zeros") -> Node | list[Node]:
    """Vector-Jacobian products: sum_k <cotangents[k], d outputs[k] / d wrt> as new nodes.

    Returns one node per ``wrt`` (a single node for a single ``wrt``). ``disconnected``
    is ``"zeros"`` (a ``wrt`` the outputs do not depend on gets zeros) or ``"raise"``.
    """
    single_out = isinstance(outputs, Node)
    outs = [outputs] if single_out else [as_node(o) for o in outputs]
    cts = [cotangents] if single_out else list(cotangents)
    if len(cts) != len(outs):
        raise ArgumentError(f"vjp: {len(outs)} outputs but {len(cts)} cotangents")
    single_wrt = isinstance(wrt, Node)
    if not single_wrt and not isinstance(wrt, (list, tuple)):
        raise ArgumentError(f"vjp: wrt must be a node or a list of nodes, got "
                            f"{type(wrt).__name__}")
    wrts = [wrt] if single_wrt else list(wrt)
    _check_wrt(wrts, "vjp")
    if disconnected not in ("zeros", "raise"):
        raise ArgumentError(f"vjp: disconnected must be 'zeros' or 'raise', got {disconnected!r}")
    with collector_paused():
        return _vjp(outs, cts, wrts, single_wrt, disconnected)


def _vjp(outs: list[Node], cts: list[Any], wrts: list[Node], single_wrt: bool,
         disconnected: str) -> Node | list[Node]:
    order = toposort(outs)
    wrt_ids = {id(w) for w in wrts}
    live = _depends_on(order, wrt_ids)
    found: dict[int, Node] = {}
    with building_gradient():
        pending: dict[int, list[Node]] = {}
        for o, c in zip(outs, cts):
            c = as_node(c) if isinstance(c, Node) else const(np.asarray(c, dtype=o.dtype))
            if c.shape != o.shape and None not in o.shape:
                raise ShapeError(f"vjp: cotangent of shape {format_shape(c.shape)} does not "
                                 f"match output {o.label} of shape {format_shape(o.shape)}{o.where()}")
            if id(o) in live:
                pending.setdefault(id(o), []).append(unbroadcast(c, o))
        for n in reversed(order):
            terms = pending.pop(id(n), None)
            if not terms:
                continue
            g = _sum(terms)
            if id(n) in wrt_ids:
                found[id(n)] = g
            op = get_op(n.op)
            if op.leaf or not op.differentiable:
                continue
            needed = [id(i) in live for i in n.inputs]
            if not any(needed):
                continue
            check_complex_rules(n, "vjp")
            loose = op.elementwise and len(n.inputs) > 1
            for x, ct, need in zip(n.inputs, op.vjp(n, g), needed):
                if need and ct is not None:
                    pending.setdefault(id(x), []).append(unbroadcast(ct, x, loose))
        result = []
        in_graph = None
        for w in wrts:
            if id(w) in found:
                result.append(found[id(w)])
            elif disconnected == "raise":
                raise DisconnectedError(f"vjp: the outputs do not depend on {w.label}{w.where()}")
            else:
                if in_graph is None:
                    in_graph = {id(n) for n in order}
                if id(w) not in in_graph:
                    _warn_not_in_graph(w)
                result.append(zeros_like(w))
    return result[0] if single_wrt else result


_warned_at: set[tuple[str, int]] = set()


def _warn_not_in_graph(w: Node) -> None:
    """Warn (once per call site) that ``w`` is not in the graph at all: its derivative is
    zero, but more likely the wrong node was passed. A ``wrt`` cut off by stop_gradient is
    in the graph and gets its zeros silently."""
    where = _user_location()
    key = (where.filename, where.lineno) if where else ("?", 0)
    if key in _warned_at:
        return
    _warned_at.add(key)
    message = (f"grad/vjp: {w.label} is not in the graph of the outputs, so its derivative "
               f"is zeros; pass disconnected='raise' to make this an error")
    warnings.warn_explicit(message, DisconnectedWarning, key[0], key[1])


def grad(y: Node, wrt: Node | Sequence[Node], disconnected: str = "zeros") -> Node | list[Node]:
    """d y / d wrt as graph nodes, for a scalar ``y``; one node per ``wrt``."""
    if not isinstance(y, Node):
        raise ArgumentError(f"grad: y must be a node, got {type(y).__name__}")
    if any(d != 1 for d in y.shape):   # a scalar, or one element such as shape (1, 1)
        raise ShapeError(f"grad: y must be a scalar, got {y.label} of shape "
                         f"{format_shape(y.shape)}; reduce it (e.g. y.sum()) or use "
                         f"sg.vjp with a cotangent{y.where()}")
    if y.dtype.kind == "c":
        raise DTypeError(f"grad: y must be real, got {y.label} of dtype {y.dtype}; take "
                         f"sg.real(y) or sg.abs(y), or use sg.vjp with a complex cotangent "
                         f"(docs/higher-order.md, \"Complex numbers\"){y.where()}")
    if not is_float(y.dtype):
        raise DTypeError(f"grad: y must be floating point, got {y.dtype}{y.where()}")
    with building_gradient():   # the seed dy/dy = 1 is a gradient node like the rest
        seed = const(np.ones(y.shape, y.dtype))
    return vjp(y, wrt, seed, disconnected=disconnected)
