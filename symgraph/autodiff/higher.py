"""Derivatives of derivatives: Hessian-vector products, Hessians, Jacobians, n-th
derivatives, and the split of a Hessian-vector product into a part computed once at a point
and a part linear in the direction (the linearisation Krylov methods reuse).

Everything here is built from ``vjp`` and ``jvp``: because derivatives are graphs, they can
be differentiated again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from symgraph.errors import ArgumentError, ShapeError, SymgraphError
from symgraph.graph import Node, building_gradient, toposort
from symgraph.ops.elementwise import multiply, negative, stop_gradient
from symgraph.ops.leaves import var
from symgraph.ops.registry import as_node, const
from symgraph.ops.shape import reshape, stack, zeros_like
from symgraph.autodiff.forward import _fit, forward_sweep, jvp
from symgraph.autodiff.reverse import _check_wrt, grad, vjp
from symgraph.autodiff.taylor import taylor_derivatives
from symgraph.types import format_shape

HVP_METHODS = ("forward_over_reverse", "reverse_over_reverse")
# The default is the faster method on the MLP benchmark (benchmarks/bench_derivatives.py).
DEFAULT_HVP_METHOD = "forward_over_reverse"


def _as_list(x: Node | Sequence[Node]) -> tuple[list[Node], bool]:
    if isinstance(x, Node):
        return [x], True
    return list(x), False


def _static_shape(x: Node, fn: str) -> tuple[int, ...]:
    if None in x.shape:
        raise ShapeError(f"{fn}: needs a static shape, {x.label} has shape "
                         f"{format_shape(x.shape)}{x.where()}")
    return tuple(x.shape)


def _direction(v: Any, w: Node, fn: str) -> Node:
    """``v`` as a node of ``w``'s dtype; arrays become constants."""
    node = v if isinstance(v, Node) else const(np.asarray(v, dtype=w.dtype))
    if node.shape != w.shape and None not in w.shape and None not in node.shape:
        raise ShapeError(f"{fn}: direction of shape {format_shape(node.shape)} does not match "
                         f"{w.label} of shape {format_shape(w.shape)}{w.where()}")
    return node


# --- Hessian-vector products --------------------------------------------------------------
def hvp(y: Node, wrt: Node | Sequence[Node], v: Any | Sequence[Any],
        method: str = DEFAULT_HVP_METHOD) -> Node | list[Node]:
    """The Hessian of scalar ``y`` times ``v``: d/dt grad y(wrt + t v) at t = 0, as nodes.

    ``wrt`` is a node or a list; ``v`` matches it (nodes or arrays). ``method`` is
    ``"forward_over_reverse"`` (a JVP pass over the gradient graph) or
    ``"reverse_over_reverse"`` (the gradient of <grad y, v>). The graph that produced ``v``
    is never differentiated.
    """
    wrts, single = _as_list(wrt)
    vs = [v] if single else list(v)
    if len(vs) != len(wrts):
        raise ArgumentError(f"hvp: {len(wrts)} wrt nodes but {len(vs)} directions")
    if method not in HVP_METHODS:
        raise ArgumentError(f"hvp: method must be one of {HVP_METHODS}, got {method!r}")
    _check_wrt(wrts, "hvp")
    dirs = [_direction(d, w, "hvp") for d, w in zip(vs, wrts)]
    grads = grad(y, wrts)
    if method == "forward_over_reverse":
        out = jvp(grads, wrts, dirs)
    else:
        # H is symmetric, so H v = v^T H: one reverse pass over the gradient graph with v
        # as its cotangent. stop_gradient keeps v's own graph out of the derivative.
        out = vjp(grads, wrts, [stop_gradient(d) for d in dirs])
    return out[0] if single else out


# --- Jacobians and Hessians ---------------------------------------------------------------
def _basis(shape: tuple[int, ...], k: int, dtype: np.dtype) -> Node:
    e = np.zeros(math.prod(shape), dtype=dtype)
    e[k] = 1
    return const(e.reshape(shape))


def _jacobian_one(out: Node, x: Node, mode: str) -> Node:
    oshape, xshape = _static_shape(out, "jacobian"), _static_shape(x, "jacobian")
    m, n = math.prod(oshape), math.prod(xshape)
    if mode == "auto":
        # One reverse pass per output element or one forward pass per input element:
        # whichever needs fewer passes (ties go to forward, which builds no sums).
        mode = "reverse" if m < n else "forward"
    if mode == "reverse":
        rows = [vjp(out, x, _basis(oshape, i, out.dtype)) for i in range(m)]
        J = stack(rows, axis=0)                       # (m, *xshape)
    elif mode == "forward":
        cols = [jvp(out, x, _basis(xshape, j, x.dtype)) for j in range(n)]
        J = stack(cols, axis=-1) if cols else None    # (*oshape, n)
    else:
        raise ArgumentError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', got {mode!r}")
    if J is None or m == 0:
        return const(np.zeros(oshape + xshape, dtype=out.dtype))
    return reshape(J, oshape + xshape)


def jacobian(out: Node, x: Node | Sequence[Node], mode: str = "auto") -> Node | list[Node]:
    """d out / d x with shape ``out.shape + x.shape`` (a list for a list of ``x``).

    Built from one VJP per element of ``out`` or one JVP per element of ``x``, whichever
    is fewer (``mode="auto"``), or as ``mode`` says. The rows share the forward graph, and
    compiling merges the work they repeat (CSE). Shapes must be static.
    """
    xs, single = _as_list(x)
    _check_wrt(xs, "jacobian")
    out = as_node(out)
    result = [_jacobian_one(out, xi, mode) for xi in xs]
    return result[0] if single else result


def hessian(y: Node, x: Node | Sequence[Node], mode: str = "forward") -> Node | list[list[Node]]:
    """The Hessian of scalar ``y``: shape ``x.shape + x.shape`` for one ``x``.

    For a list of ``x`` the result is the block matrix ``H[i][j]`` of shape
    ``x[i].shape + x[j].shape``. ``mode`` picks how the gradient is differentiated again:
    ``"forward"`` (forward over reverse, one JVP per element) or ``"reverse"``.
    """
    xs, single = _as_list(x)
    _check_wrt(xs, "hessian")
    grads = grad(y, xs)
    blocks = [[_jacobian_one(g, xj, mode) for xj in xs] for g in grads]
    return blocks[0][0] if single else blocks


# --- n-th derivatives ---------------------------------------------------------------------
def nth_derivative(y: Node, x: Node, n: int, mode: str = "forward") -> Node:
    """The ``n``-th derivative of ``y`` with respect to the scalar ``x``, as a node.

    ``y`` may have any shape (each element is differentiated). ``y`` and ``x`` may also
    have one and the same shape when ``y`` is elementwise in ``x``
    (each element a function of the matching element of ``x``, like ``sg.tanh(x)``): the
    result is then every element's derivative, which plots a derivative on a grid in one go.
    ``mode`` is ``"forward"`` (repeated JVPs, the default), ``"taylor"`` (Taylor mode, one
    sweep of power-series coefficients: the smallest graphs from order 4 on, for the ops
    ``autodiff.taylor`` has rules for) or ``"reverse"`` (repeated ``grad``, scalar ``x`` only).
    """
    if n < 0 or int(n) != n:
        raise ArgumentError(f"nth_derivative: n must be a non-negative integer, got {n!r}")
    _check_wrt([x], "nth_derivative")
    if x.shape != () and y.shape != x.shape:
        raise ShapeError(f"nth_derivative: x must be a scalar, or y elementwise in x with "
                         f"x's shape; got y {format_shape(y.shape)} and x "
                         f"{format_shape(x.shape)}{y.where()}")
    return nth_derivatives(y, x, n, mode)[-1]


def nth_derivatives(y: Node, x: Node, n: int, mode: str = "forward") -> list[Node]:
    """``[y, y', y'', ..., y^(n)]`` with respect to ``x`` (see ``nth_derivative``)."""
    if mode not in ("forward", "reverse", "taylor"):
        raise ArgumentError(f"nth_derivatives: mode must be 'forward', 'reverse' or 'taylor', "
                         f"got {mode!r}")
    if mode == "reverse" and x.shape != ():
        raise ShapeError(f"nth_derivatives: mode='reverse' needs a scalar x, got "
                         f"{format_shape(x.shape)}{x.where()}")
    if mode == "taylor":
        return taylor_derivatives(y, x, n)
    out = [y]
    if mode == "reverse":
        for _ in range(n):
            out.append(grad(out[-1], x))
        return out
    # Every order differentiates along the same direction, so one tangent map serves them
    # all: order k+1 only differentiates the nodes order k added. Without this the graph
    # built before CSE grows by ~3x per order instead of ~2x.
    one = const(np.ones((), dtype=x.dtype))
    tangent: dict[int, Node] = {id(x): _fit(one, x, False)}
    with building_gradient():
        for _ in range(n):
            forward_sweep([out[-1]], tangent)
            d = tangent.get(id(out[-1]))
            out.append(d if d is not None else zeros_like(out[-1]))
    return out


# --- linearisation: split H v into a part at the point and a part linear in v ------------
@dataclass(frozen=True)
class Linearization:
    """A graph split for evaluating many directions at one point.

    ``primal`` are nodes computed once at the point (the values, gradients and every
    intermediate the tangent part reads, the ``residuals``). ``tangent`` are the outputs
    linear in ``directions``, rebuilt to read ``residual_inputs`` (placeholders, one per
    residual, in order) instead of the point's graph.
    """

    primal: tuple[Node, ...]
    residuals: tuple[Node, ...]
    directions: tuple[Node, ...]
    residual_inputs: tuple[Node, ...]
    tangent: tuple[Node, ...]


def _depends(order: Sequence[Node], roots: Sequence[Node]) -> set[int]:
    ids = {id(r) for r in roots}
    for n in order:
        if id(n) not in ids and any(id(i) in ids for i in n.inputs):
            ids.add(id(n))
    return ids


def _pick(n: Node, rebuilt: dict, placeholder: dict) -> Node:
    # Nodes refuse bool(), so no ``a or b`` here.
    if id(n) in rebuilt:
        return rebuilt[id(n)]
    return placeholder.get(id(n), n)


def _scaled(n: Node, on_dir: set[int]) -> Optional[tuple[Node, Node]]:
    """``(t, p)`` when ``n`` is ``t * p`` with ``t`` depending on a direction and ``p`` not."""
    if n.op != "multiply":
        return None
    a, b = n.inputs
    for t, p in ((a, b), (b, a)):
        if t.id in on_dir and p.id not in on_dir:
            return t, p
    return None


def _hoist_one(n: Node, on_dir: set[int]) -> Optional[Node]:
    """``n`` with its factors that do not depend on the directions gathered into one
    factor (which the split then computes at the point), or ``None``."""
    if n.op == "negative":
        # -(t * p) -> t * (-p)
        inner = _scaled(n.inputs[0], on_dir)
        if inner is not None:
            return multiply(inner[0], negative(inner[1]))
        return None
    outer = _scaled(n, on_dir)
    if outer is None:
        return None
    inner = _scaled(outer[0], on_dir)
    if inner is None:
        return None
    # (t * p1) * p2 -> t * (p1 * p2)
    return multiply(inner[0], multiply(inner[1], outer[1]))


def hoist_point_factors(outputs: Sequence[Node], directions: Sequence[Node]) -> list[Node]:
    """``outputs`` rebuilt so that scalings by values that do not depend on ``directions``
    are gathered into one factor per product: ``(t * a) * b`` becomes ``t * (a * b)`` and
    ``-(t * a)`` becomes ``t * (-a)`` for ``t`` depending on a direction.

    The results are equal up to rounding; ``a * b`` and ``-a`` are then computed once at the
    point instead of once per direction.
    """
    order = toposort(list(outputs))
    # By node id, not object id: nodes built and dropped here must never be mistaken for
    # later ones that reuse their memory.
    dep = _depends(order, directions)
    on_dir = {n.id for n in order if id(n) in dep}
    new: dict[int, Node] = {}
    with building_gradient():
        for n in order:
            if n.id not in on_dir:
                continue
            ins = [new.get(i.id, i) for i in n.inputs]
            m = n if all(a is b for a, b in zip(ins, n.inputs)) else n.with_inputs(ins)
            on_dir.add(m.id)
            for _ in range(8):   # a chain of k scalings collapses one factor per round
                try:
                    h = _hoist_one(m, on_dir)
                except SymgraphError:   # a factor of unknown size that would not broadcast
                    h = None
                if h is None or h.type != m.type:
                    break
                m = h
                on_dir.add(m.id)
            new[n.id] = m
    return [new.get(o.id, o) for o in outputs]


def split_linear(primal: Sequence[Node], tangent: Sequence[Node],
                 directions: Sequence[Node]) -> Linearization:
    """Cut the graph of ``tangent`` where it stops depending on ``directions``.

    Nodes that do not depend on a direction but do depend on some input or parameter
    become residuals: values computed once at the point and fed to the tangent part as
    placeholders. Constant-only subgraphs stay in the tangent part (they cost nothing and
    keep weak Python scalars weak). Products are first regrouped so that every factor not
    depending on the directions is computed at the point (``hoist_point_factors``).
    """
    tangent = hoist_point_factors(tangent, directions)
    order = toposort(list(primal) + list(tangent))
    on_dir = _depends(order, directions)
    leaves = [n for n in order if n.op in ("var", "param") and id(n) not in on_dir]
    on_point = _depends(order, leaves)
    residuals: list[Node] = []
    placeholder: dict[int, Node] = {}
    for n in order:
        if id(n) not in on_dir:
            continue
        for i in n.inputs:
            if id(i) in on_point and id(i) not in on_dir and id(i) not in placeholder:
                residuals.append(i)
                placeholder[id(i)] = var(f"residual{len(residuals)}", i.shape, i.dtype)
    rebuilt: dict[int, Node] = {id(d): d for d in directions}
    for n in order:
        if id(n) not in on_dir or id(n) in rebuilt:
            continue
        ins = [_pick(i, rebuilt, placeholder) for i in n.inputs]
        same = all(a is b for a, b in zip(ins, n.inputs))
        rebuilt[id(n)] = n if same else n.with_inputs(ins)
    for t in tangent:
        # An output that does not depend on the directions (a zero block of H v) is
        # computed at the point too, so the tangent part never reads the point's graph.
        if id(t) in on_point and id(t) not in on_dir and id(t) not in placeholder:
            residuals.append(t)
            placeholder[id(t)] = var(f"residual{len(residuals)}", t.shape, t.dtype)
    new_tangent = [_pick(t, rebuilt, placeholder) for t in tangent]
    return Linearization(tuple(primal), tuple(residuals), tuple(directions),
                         tuple(placeholder[id(r)] for r in residuals), tuple(new_tangent))


def hvp_graph(y: Node, wrt: Sequence[Node], method: str = DEFAULT_HVP_METHOD
              ) -> tuple[list[Node], list[Node], list[Node]]:
    """``([y, *grads], directions, H directions)`` with fresh placeholders as directions."""
    wrts = list(wrt)
    _check_wrt(wrts, "linearize_hvp")
    dirs = [var(f"v_{w.label}", w.shape, w.dtype) for w in wrts]
    grads = grad(y, wrts)
    if method == "forward_over_reverse":
        hv = jvp(grads, wrts, dirs)
    elif method == "reverse_over_reverse":
        hv = vjp(grads, wrts, dirs)
    else:
        raise ArgumentError(f"linearize_hvp: method must be one of {HVP_METHODS}, got {method!r}")
    return [y, *grads], dirs, hv


def linearize_hvp_graph(y: Node, wrt: Sequence[Node],
                        method: str = DEFAULT_HVP_METHOD) -> Linearization:
    """``y``, its gradients and ``H v`` split at the point: see ``Linearization``.

    ``primal`` is ``[y, *grads]``; ``directions`` are fresh placeholders ``v_k``, one per
    ``wrt``, and ``tangent`` the matching products ``H v``.
    """
    primal, dirs, hv = hvp_graph(y, wrt, method)
    return split_linear(primal, hv, dirs)
