"""The network styles of the textbook's Figure 6.2: ``"layers"`` (one node per layer
vector, the weights that map one layer to the next written on the edge: x -W-> h -w-> y)
and ``"units"`` (one node per scalar unit, x1, x2 -> h1, h2 -> y, for small static sizes).

A *layer* is an input, an output, a named node, or the result of an activation; the ops
between two layers (affine maps, bias adds) are folded into the edge.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from symgraph.graph import Graph, Node
from symgraph.render import labels, palette
from symgraph.render.budget import (CollapsePlan, collapsed_box, join_caption, merge_links,
                                    plan_collapse)
from symgraph.render.figure import Box, Figure, Link, Options

ACTIVATIONS = ("tanh", "sigmoid", "relu", "softmax", "log_softmax", "softplus")
WEIGHT_CONSUMERS = ("matmul", "dot", "multiply", "outer", "conv2d")


@dataclass(frozen=True)
class Layer:
    """One drawn layer: its node, label and the layers (and weights) that feed it."""

    node: Node
    label: str
    sources: tuple[Node, ...]
    # (parameter, the layers that meet it at the op consuming it) in topological order
    weights: tuple[tuple[Node, tuple[Node, ...]], ...]
    biases: tuple[Node, ...]


def _is_activation(n: Node) -> bool:
    if n.op in ACTIVATIONS:
        return True
    # max(0, u) is the textbook's rectifier.
    return n.op == "maximum" and any(i.op == "const" for i in n.inputs)


def _is_layer(n: Node, outputs: set[int], names: dict[int, str], leaves_scope: set[int]) -> bool:
    if n.op == "var" or id(n) in outputs:
        return True
    if n.op in ("param", "const"):
        return False
    return bool(labels.given_name(n, names)) or _is_activation(n) or id(n) in leaves_scope


def _scope_outputs(graph: Graph) -> set[int]:
    """Nodes read from outside their name scope: what a layer object hands on (the logits
    of a model's last, linear layer among them)."""
    out: set[int] = set()
    for n in graph.nodes:
        for i in n.inputs:
            if i.scope and i.scope != n.scope and not n.scope.startswith(i.scope + "/"):
                out.add(id(i))
    return out


SUPERSCRIPT = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def hidden_name(k: int) -> str:
    """The textbook's name of the k-th unnamed hidden layer: ``h⁽¹⁾``, ``h⁽²⁾``, ..."""
    return "h" + f"({k})".translate(SUPERSCRIPT)


def unit_name(layer: str, j: int) -> str:
    """Unit ``j`` of a layer, never readable as another layer: a one-letter name takes a
    subscript (``x₁``, ``h₂⁽¹⁾``), any other name an index (``layer1[2]``)."""
    head, rest = layer[:1], layer[1:]
    if head.isalpha() and (not rest or all(c in "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾" for c in rest)):
        return head + str(j).translate(SUBSCRIPT) + rest
    return f"{layer}[{j}]"


def _is_loss(n: Node, outputs: set[int]) -> bool:
    # A scalar computed output of a network drawing is its loss (or cost).
    return id(n) in outputs and n.ndim == 0 and bool(n.inputs)


def find_layers(graph: Graph, names: dict[int, str]) -> list[Layer]:
    """Every layer of ``graph`` in topological order, with what feeds it."""
    outputs = {id(o) for o in graph.outputs}
    leaves_scope = _scope_outputs(graph)
    is_layer = [_is_layer(n, outputs, names, leaves_scope) for n in graph.nodes]
    layer_ids = {id(n) for n, flag in zip(graph.nodes, is_layer) if flag}
    # An unnamed layer alone in its name scope is called after the scope ("hidden");
    # a scalar output is the loss; other unnamed layers are h⁽¹⁾, h⁽²⁾, ... as in the
    # textbook.
    per_scope: dict[str, int] = {}
    for n, flag in zip(graph.nodes, is_layer):
        if flag and n.scope and not labels.given_name(n, names):
            per_scope[n.scope] = per_scope.get(n.scope, 0) + 1
    layers = []
    hidden = 0
    for n, flag in zip(graph.nodes, is_layer):
        if not flag:
            continue
        name = labels.given_name(n, names)
        if not name and _is_loss(n, outputs):
            name = "loss"
        if not name and per_scope.get(n.scope) == 1:
            name = n.scope.rpartition("/")[2]
        if not name:
            hidden += 1
            name = hidden_name(hidden)
        layers.append(_feeds(graph, n, name, layer_ids))
    return layers


def warn_without_weights(layers: list[Layer], style: str) -> None:
    """Warn when a graph of several layers has no weight at all: it is not a network, and
    the network styles would draw its activations as a chain of unlabelled layers."""
    hidden = sum(1 for l in layers if l.node.op != "var")
    if hidden >= 3 and not any(l.weights for l in layers):
        warnings.warn(f"style {style!r}: this graph has {hidden} layers but no weights "
                      "(parameters read by matmul, dot, multiply, outer or conv2d), so it is "
                      "not drawn as a network; style='ops' draws it node by node",
                      RuntimeWarning, stacklevel=4)


def check_network(graph: Graph, style: str) -> None:
    """Refuse a graph the network styles cannot draw: one with gradient nodes, whose
    layers would be a tangle of back-propagated values."""
    n_grad = sum(1 for n in graph.nodes if n.is_grad)
    if n_grad:
        raise ValueError(f"style {style!r} draws a network's forward graph, but this graph "
                         f"holds {n_grad} gradient nodes; draw it with style='ops' or "
                         "'expr', or draw the forward graph and use sg.gradient_view")


def _feeds(graph: Graph, layer: Node, name: str, layer_ids: set[int]) -> Layer:
    """Walk back from ``layer`` through non-layer ops (iteratively) to the layers and
    parameters it is computed from. A weight is written on the edge of the layers that
    reach the op consuming it through its other operands (through reshapes, pooling...)."""
    region: dict[int, Node] = {}
    params: dict[int, Node] = {}
    stack = [] if layer.op == "var" else [layer]
    while stack:
        n = stack.pop()
        for i in n.inputs:
            if id(i) in layer_ids or id(i) in region:
                continue
            if i.op == "param":
                params[id(i)] = i
            elif i.inputs:
                region[id(i)] = i
                stack.append(i)
    order = graph.index
    # upstream: the layers each op of the region reads, directly or through other ops.
    upstream: dict[int, dict[int, Node]] = {}
    walk = sorted(region.values(), key=order) + ([layer] if layer.op != "var" else [])
    weights: dict[int, tuple[Node, dict[int, Node]]] = {}
    for n in walk:
        reach: dict[int, Node] = {}
        for i in n.inputs:
            if id(i) in layer_ids:
                reach[id(i)] = i
            elif id(i) in upstream:
                reach.update(upstream[id(i)])
        upstream[id(n)] = reach
        if n.op in WEIGHT_CONSUMERS:
            for p in n.inputs:
                if p.op == "param":
                    meet = weights.setdefault(id(p), (p, {}))[1]
                    for j in n.inputs:
                        if j is not p:
                            meet.update({id(j): j} if id(j) in layer_ids
                                        else upstream.get(id(j), {}))
    sources = upstream.get(id(layer), {})
    biases = [p for p in params.values() if id(p) not in weights]
    return Layer(layer, name,
                 tuple(sorted(sources.values(), key=order)),
                 tuple((p, tuple(sorted(meet.values(), key=order)))
                       for p, meet in sorted(weights.values(), key=lambda w: order(w[0]))),
                 tuple(sorted(biases, key=order)))


def _edge_labels(layer: Layer, show_biases: bool, param_names: dict[int, str]
                 ) -> dict[int, list[str]]:
    """Parameter names per source layer: a weight goes on the edge of the layer it
    multiplies, or on every incoming edge when it meets no layer directly."""
    out: dict[int, list[str]] = {id(s): [] for s in layer.sources}
    for p, meet in layer.weights:
        targets = [s for s in meet if id(s) in out] or list(layer.sources)
        for s in targets:
            out[id(s)].append(param_names.get(id(p), p.name or "θ"))
    if show_biases:
        for p in layer.biases:
            for s in layer.sources:
                out[id(s)].append(param_names.get(id(p), p.name or "b"))
    return out


def _layer_kind(layer: Layer) -> str:
    return palette.INPUT if layer.node.op == "var" else palette.OPERATION


def _layer_look(layer: Layer, text: str) -> tuple[tuple[str, str], ...]:
    # A loss is a box (a number, not a vector of units); short names fit a circle.
    if layer.node.ndim == 0 and layer.node.op != "var" and layer.label == "loss":
        return (("shape", "box"),)
    return (("shape", "circle"),) if len(text) <= 4 else ()


def _layer_tooltip(layer: Layer, opts: Options) -> str:
    tip = labels.tooltip(layer.node, opts.locations)
    if layer.biases:
        tip += "\nintercepts " + ", ".join(p.name or "b" for p in layer.biases)
    return tip


def _folded(layers: list[Layer], plan: CollapsePlan) -> tuple[dict[int, str], dict[str, Box]]:
    """For each layer the budget folds away, the key of its collapsed box
    (``id(node) -> key``), and those boxes by key."""
    members: dict[str, int] = {}
    for layer in layers:
        path = plan.group_of.get(id(layer.node))
        if path is not None:
            members[path] = members.get(path, 0) + 1
    key_of: dict[int, str] = {}
    boxes: dict[str, Box] = {}
    made: dict[str, str] = {}
    for layer in layers:
        path = plan.group_of.get(id(layer.node))
        if path is None:
            continue
        if path not in made:
            made[path] = f"s{len(made)}"
            boxes[made[path]] = collapsed_box(made[path], path, members[path], noun="layers")
        key_of[id(layer.node)] = made[path]
    return key_of, boxes


def layers_figure(graph: Graph, opts: Options) -> Figure:
    """The ``"layers"`` style (see the module docstring); above the budget, layers in the
    deepest scopes fold into one box per scope, then the middle layers into one box."""
    check_network(graph, "layers")
    names = labels.name_map(opts.names)
    layers = find_layers(graph, names)
    warn_without_weights(layers, "layers")
    outputs = {id(o) for o in graph.outputs}
    plan = plan_collapse([l.node for l in layers], opts.budget, opts.collapse, noun="layers")
    key_of, folded = _folded(layers, plan)
    param_names = labels.leaf_names(graph.params, names)
    for layer in layers:
        key_of.setdefault(id(layer.node), f"n{graph.index(layer.node)}")
    boxes: list[Box] = []
    placed: set[str] = set()
    links = []
    for layer in layers:
        key = key_of[id(layer.node)]
        if key in folded:
            if key not in placed:   # drawn where its first layer would be
                placed.add(key)
                boxes.append(folded[key])
        else:
            text = layer.label
            if opts.types:
                text += f"\n{labels.type_text(layer.node)}"
            boxes.append(Box(key, text, _layer_kind(layer), "", "",
                             _layer_tooltip(layer, opts), output=id(layer.node) in outputs,
                             attrs=_layer_look(layer, text)))
        per_source = _edge_labels(layer, opts.show_biases, param_names)
        for s in layer.sources:
            links.append(Link(key_of[id(s)], key, ", ".join(per_source[id(s)])))
    return Figure(tuple(boxes), tuple(merge_links(links)), join_caption(opts.caption, plan.note),
                  opts.rankdir or "BT", legend=_legend(boxes) if opts.legend else (),
                  clusters=False)


def _legend(boxes: list[Box]) -> tuple[str, ...]:
    kinds = [k for k in (palette.INPUT, palette.OPERATION, palette.COLLAPSED)
             if any(b.kind == k for b in boxes)]
    if any(b.output for b in boxes):
        kinds.append(palette.OUTPUT)
    return tuple("kind:" + k for k in kinds)


def unit_count(node: Node) -> Optional[int]:
    """Scalar units in one example of a layer: the last axis of a vector or matrix (a
    vector of unknown length is a batch of scalars: one unit), every axis after the batch
    axis of a higher-rank tensor (an image's channels x height x width); ``None`` when
    unknown."""
    if not node.shape:
        return 1
    if node.ndim >= 3:
        rest = node.shape[1:]
        return None if None in rest else int(np.prod(rest))
    last = node.shape[-1]
    if last is None:
        return 1 if node.ndim == 1 else None
    return last


def _unit_boxes(layer: Layer, key: str, opts: Options, output: bool) -> list[Box]:
    count = unit_count(layer.node)
    kind = _layer_kind(layer)
    tip = _layer_tooltip(layer, opts)
    if count is None:
        return [Box(key, f"{layer.label} (? units)", kind, tooltip=tip, output=output)]
    if count == 1:
        return [Box(key, layer.label, kind, tooltip=tip, output=output,
                    attrs=_layer_look(layer, layer.label))]
    shown = list(range(count))
    if count > opts.max_units:
        # The first units, an ellipsis standing for the rest, and the last unit.
        shown = list(range(opts.max_units - 1)) + [-1, count - 1]
    boxes = []
    for j in shown:
        if j < 0:
            hidden = count - opts.max_units
            boxes.append(Box(f"{key}_more", f"… {hidden} more", palette.ELLIPSIS,
                             tooltip=f"{hidden} units of {layer.label} not drawn"))
            continue
        boxes.append(Box(f"{key}_{j + 1}", unit_name(layer.label, j + 1), kind, tooltip=tip,
                         output=output, attrs=(("shape", "circle"),)))
    return boxes


def _unit_slots(layer: Layer, max_units: int) -> int:
    """How many boxes ``_unit_boxes`` draws for ``layer``."""
    count = unit_count(layer.node)
    if count is None or count == 1:
        return 1
    return count if count <= max_units else max_units + 1


def units_figure(graph: Graph, opts: Options) -> Figure:
    """The ``"units"`` style: every layer drawn unit by unit, consecutive layers fully
    connected, each layer's units on one rank. The budget counts unit boxes: above it,
    whole layers fold into scope boxes, then the middle layers into one box."""
    check_network(graph, "units")
    names = labels.name_map(opts.names)
    layers = find_layers(graph, names)
    warn_without_weights(layers, "units")
    outputs = {id(o) for o in graph.outputs}
    plan = plan_collapse([l.node for l in layers], opts.budget, opts.collapse,
                         weights=[_unit_slots(l, opts.max_units) for l in layers],
                         noun="layers")
    key_of, folded = _folded(layers, plan)
    units: dict[int, list[Box]] = {}
    boxes: list[Box] = []
    placed: set[str] = set()
    ranks = []
    for layer in layers:
        key = key_of.get(id(layer.node))
        if key is not None:
            units[id(layer.node)] = [folded[key]]
            if key not in placed:   # drawn where its first layer would be
                placed.add(key)
                boxes.append(folded[key])
            continue
        made = _unit_boxes(layer, f"n{graph.index(layer.node)}", opts, id(layer.node) in outputs)
        units[id(layer.node)] = made
        boxes.extend(made)
        if len(made) > 1:
            ranks.append(tuple(b.key for b in made))
    links = []
    for layer in layers:
        for s in layer.sources:
            for a in units[id(s)]:
                for b in units[id(layer.node)]:
                    links.append(Link(a.key, b.key))
    return Figure(tuple(boxes), tuple(merge_links(links)), join_caption(opts.caption, plan.note),
                  opts.rankdir or "BT", legend=_legend(boxes) if opts.legend else (),
                  clusters=False, ranks=tuple(ranks))
