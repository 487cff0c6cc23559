"""How each kind of node and each compiler fate looks: shape, fill, border and legend text.

Kinds differ in shape and border as well as colour, and the fills step through distinct
grey levels, so a drawing printed in greyscale still tells them apart.
"""
from __future__ import annotations

from symgraph.graph import Node

INPUT, PARAMETER, CONSTANT, OPERATION, GRADIENT, OUTPUT = (
    "input", "parameter", "constant", "operation", "gradient", "output")
COLLAPSED, ELLIPSIS = "collapsed", "ellipsis"

# kind -> DOT node attributes. Fills are chosen so their grey levels differ clearly.
KIND_LOOK: dict[str, dict[str, str]] = {
    INPUT: {"shape": "box", "style": "filled,rounded", "fillcolor": "#cfe3f7"},
    PARAMETER: {"shape": "box", "style": "filled,bold", "fillcolor": "#f6c98e",
                "penwidth": "2"},
    CONSTANT: {"shape": "box", "style": "filled,dashed", "fillcolor": "#f2f2f2",
               "fontsize": "9"},
    OPERATION: {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff"},
    GRADIENT: {"shape": "octagon", "style": "filled", "fillcolor": "#e8a0a0"},
    OUTPUT: {"shape": "ellipse", "style": "filled,bold", "fillcolor": "#a9d79a",
             "peripheries": "2"},
    COLLAPSED: {"shape": "folder", "style": "filled", "fillcolor": "#d9d2e9"},
    ELLIPSIS: {"shape": "plaintext", "style": "", "fillcolor": ""},
}

LEGEND_TEXT: dict[str, str] = {
    INPUT: "input", PARAMETER: "parameter", CONSTANT: "constant", OPERATION: "operation",
    GRADIENT: "gradient node", OUTPUT: "output", COLLAPSED: "collapsed scope",
}

KEPT, MERGED, FOLDED, REWRITTEN, DEAD = "kept", "merged", "folded", "rewritten", "dead"
FATE_ORDER = (KEPT, MERGED, FOLDED, REWRITTEN, DEAD)

# fate -> attributes laid over the kind's look in the optimisation view.
FATE_LOOK: dict[str, dict[str, str]] = {
    KEPT: {"fillcolor": "#ffffff"},
    MERGED: {"fillcolor": "#ffe680", "style": "filled,dashed", "penwidth": "2"},
    FOLDED: {"fillcolor": "#9cc3e6", "style": "filled,bold", "penwidth": "2"},
    REWRITTEN: {"fillcolor": "#b4a7d6", "style": "filled,bold"},
    DEAD: {"fillcolor": "#bfbfbf", "style": "filled,dotted", "fontcolor": "#555555"},
}

# Words the caption uses for each fate ("CSE merged 5, folded 3, ...").
FATE_WORDS: dict[str, str] = {
    MERGED: "CSE merged", FOLDED: "folded", REWRITTEN: "simplified", DEAD: "dead",
}

ADDED, REMOVED, SHARED = "added", "removed", "shared"
# A diff keeps each node's kind fill and shape and marks its status on the border: thick
# and green for added, dashed and red with a pale fill for removed (both show in greyscale).
DIFF_LOOK: dict[str, dict[str, str]] = {
    SHARED: {},
    ADDED: {"color": "#1b7f3b", "penwidth": "3", "style": "filled,bold"},
    REMOVED: {"color": "#c00000", "penwidth": "2", "style": "filled,dashed",
              "fillcolor": "#f2f2f2", "fontcolor": "#666666"},
}

# Symbols the textbook's figures write beside a variable for the op that made it.
OP_SYMBOLS: dict[str, str] = {
    "add": "+", "subtract": "−", "multiply": "×", "divide": "÷", "negative": "−",
    "power": "^", "sigmoid": "σ", "maximum": "max", "minimum": "min", "matmul": "matmul",
    "dot": "dot", "square": "sqr", "sum": "sum", "mean": "mean",
}


def node_kind(node: Node) -> str:
    """The kind a graph node is drawn as (output is a separate flag, see ``Box.output``)."""
    if node.op == "var":
        return INPUT
    if node.op == "param":
        return PARAMETER
    if node.op == "const":
        return CONSTANT
    return GRADIENT if node.is_grad else OPERATION


def look(kind: str, output: bool = False) -> dict[str, str]:
    """DOT attributes for a box of ``kind``; outputs keep their kind's shape (so a gradient
    output is still an octagon) but take the output fill and a double border."""
    attrs = dict(KIND_LOOK[kind])
    if output:
        out = KIND_LOOK[OUTPUT]
        attrs.update({k: v for k, v in out.items() if k != "shape"})
    return attrs
