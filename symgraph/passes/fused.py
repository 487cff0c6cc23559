"""Stabilisation, folding, simplification and CSE in one walk over the graph.

Each of those passes is a list of local rules (see their modules); running the lists one
after another at each node, inputs first, gives the same rewrites as running the passes one
after another, but builds each changed node once instead of once per pass, which is what
compile time on big graphs is made of. At every node the stabilisation rules come first
(before simplification can take their patterns apart), then folding, then simplification,
and CSE last, so the node is merged in its final form and every user sees one node per value.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from symgraph.graph import Node
from symgraph.passes.cse import merge_rule
from symgraph.passes.fold import FOLD_RULES
from symgraph.passes.provenance import PassResult
from symgraph.passes.rewrite import run_rules
from symgraph.passes.simplify import SIMPLIFY_RULES
from symgraph.passes.stabilize import STABILIZE_RULES


def rewrite(outputs: Sequence[Node]) -> PassResult:
    """Stabilise, fold, simplify and merge, node by node in one walk."""
    groups = [("stabilize", STABILIZE_RULES), ("fold", FOLD_RULES),
              ("simplify", SIMPLIFY_RULES), ("cse", (merge_rule(),))]
    rules = [replace(r, group=group) for group, rs in groups for r in rs]
    return run_rules(outputs, rules, "rewrite")
