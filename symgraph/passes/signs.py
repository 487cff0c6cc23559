"""Sign propagation: move negations out of products and differences, up to the sum that
absorbs them (``x + -(y)`` is ``x - y``), where a negation costs no pass over the array.

Differentiation builds negations eagerly (the rules of ``subtract``, ``negative``, ``cos``,
``reciprocal``...), and second derivatives then hold terms like ``x + (-a) * b``. A
negation moves only when nothing else reads it, so this pass never adds a node: the moved
negation either cancels or replaces the one it came from. The same walk moves a scalar
factor of a matrix product onto its smaller operand (``scales.py``), the other rewrite
that needs to know who reads a node.
"""
from __future__ import annotations

from typing import Optional, Sequence

from symgraph.graph import Node, toposort
from symgraph.passes.provenance import KEPT, REWRITTEN, Fate, PassResult
from symgraph.passes.rewrite import build, relinked
from symgraph.passes.scales import move_scale


# Negations, and the nodes a moved negation comes out of.
_MAY_NEGATE = frozenset({"negative", "multiply", "subtract"})
# The nodes whose readers are counted: those, and the products a factor moves into.
_COUNTED = _MAY_NEGATE | {"matmul"}


def _users(order: Sequence[Node], outputs: Sequence[Node]) -> dict[int, int]:
    """node id -> how many nodes (and output slots) read it, for the nodes that are or may
    become negations, and the matrix products."""
    count: dict[int, int] = {}
    for n in order:
        for i in dict.fromkeys(x for x in n.inputs if x.op in _COUNTED):
            count[i.id] = count.get(i.id, 0) + 1
    for o in outputs:
        count[o.id] = count.get(o.id, 0) + 1
    return count


def _lone_negation(x: Node, uses: dict[int, int]) -> bool:
    return x.op == "negative" and uses.get(x.id, 0) == 1


def _move(n: Node, uses: dict[int, int]) -> Optional[tuple[Node, str]]:
    """The replacement of ``n`` with its negation moved outwards, and the rule's name."""
    if n.op == "multiply":
        a, b = n.inputs
        if a.op == "negative" and b.op == "negative":
            # (-a) * (-b) -> a * b
            out = build("multiply", [a.inputs[0], b.inputs[0]], n, root=True)
            return out, "negatives_cancel"
        for neg, other in ((a, b), (b, a)):
            if _lone_negation(neg, uses) and other.op != "reciprocal":
                # (-a) * b -> -(a * b)   (g * reciprocal(s) stays whole: the stabilisation
                # rules have already looked for it, and later passes may again)
                inner = build("multiply", [neg.inputs[0], other], n)
                return build("negative", [inner], n, root=True), "negative_out_of_product"
    if n.op == "subtract":
        a, b = n.inputs
        if _lone_negation(a, uses):
            # (-a) - b -> -(a + b)
            inner = build("add", [a.inputs[0], b], n)
            return build("negative", [inner], n, root=True), "negative_out_of_difference"
        if b.op == "negative":
            # a - (-b) -> a + b
            return build("add", [a, b.inputs[0]], n, root=True), "subtract_negative"
    if n.op == "add":
        a, b = n.inputs
        for neg, other in ((b, a), (a, b)):
            if neg.op == "negative":
                # a + (-b) -> a - b
                return build("subtract", [other, neg.inputs[0]], n, root=True), "add_negative"
    if n.op == "negative" and n.inputs[0].op == "negative":
        # -(-a) -> a
        return n.inputs[0].inputs[0], "double_negative"
    return None


def signs(outputs: Sequence[Node]) -> PassResult:
    """Move negations outwards where they cancel, and scalar factors of matrix products
    onto their smaller operand; the fate of every old node."""
    order = toposort(outputs)
    if not any(n.op == "negative" or n.op == "matmul" for n in order):
        return PassResult(tuple(outputs), {n.id: Fate(n, n, KEPT) for n in order}, "signs")
    uses = _users(order, outputs)
    changed: dict[int, Node] = {}      # old node id -> the node standing for it now
    fates: dict[int, Fate] = {}
    for n in order:
        current = relinked(n, changed)
        if current is not n:
            uses[current.id] = uses.get(n.id, 0)
        rules: list[str] = []
        # Every move needs a negation among the inputs: the cheap test first.
        while len(rules) < 4 and any(i.op == "negative" for i in current.inputs):
            moved = _move(current, uses)
            if moved is None or moved[0].type != current.type:
                break
            replacement, rule = moved
            # The replacement is read wherever ``n`` was read (an existing node keeps its
            # own readers too); a negation it dropped was read only here.
            uses[replacement.id] = uses.get(replacement.id, 0) + uses.get(n.id, 0)
            current = replacement
            rules.append(rule)
        if current.op == "multiply" and any(i.op == "matmul" for i in current.inputs):
            scaled = move_scale(current, uses)
            if scaled is not None:
                uses[scaled.id] = uses.get(scaled.id, 0) + uses.get(n.id, 0)
                current = scaled
                rules.append("scale_smaller_operand")
        if current is not n:
            changed[n.id] = current
        fates[n.id] = (Fate(n, current, REWRITTEN, "+".join(dict.fromkeys(rules))) if rules
                       else Fate(n, current, KEPT))
    return PassResult(tuple(changed.get(o.id, o) for o in outputs), fates, "signs")
