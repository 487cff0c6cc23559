"""What to draw: turns any drawable object into a ``Figure`` in the requested style."""
from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from symgraph.graph import Graph, Node
from symgraph.render.budget import fit_cost
from symgraph.render.figure import Figure, Options
from symgraph.render.network import layers_figure, units_figure
from symgraph.render.styles import graph_figure
from symgraph.runtime.function import Function

STYLES = ("ops", "expr", "layers", "units")
RANKDIRS = ("TB", "BT", "LR", "RL")


def as_graph(obj: Any) -> Graph:
    """The graph a drawable object stands for (a compiled function: its optimised graph)."""
    if isinstance(obj, Graph):
        return obj
    if isinstance(obj, Function):
        return obj.graph
    if isinstance(obj, Node):
        return Graph([obj])
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(o, Node) for o in obj):
        return Graph(list(obj))
    raise TypeError(f"cannot draw {type(obj).__name__}: give a node, a list of nodes, a "
                    "Graph or a compiled Function")


def make_options(style: str, options: dict) -> Options:
    """Validated drawing options, with errors that list what is allowed."""
    if style not in STYLES:
        raise ValueError(f"unknown drawing style {style!r}; choose one of {', '.join(STYLES)}")
    allowed = [f.name for f in fields(Options) if f.name != "style"]
    unknown = sorted(k for k in options if k not in allowed)
    if unknown:
        raise TypeError(f"unknown drawing option(s) {', '.join(unknown)}; the options are "
                        f"{', '.join(allowed)}")
    rankdir = options.get("rankdir")
    if rankdir is not None and rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    budget = options.get("budget", 1)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"budget must be a whole number of boxes, at least 1, got {budget!r}")
    if "collapse" in options:
        given = options["collapse"]
        options = dict(options, collapse=(given,) if isinstance(given, str) else tuple(given))
    return Options(style=style, **options)


def build_figure(obj: Any, style: str, options: dict) -> Figure:
    """``obj`` drawn in ``style`` with ``options`` (see ``sg.to_dot``)."""
    opts = make_options(style, options)
    graph = as_graph(obj)
    draw = {"layers": layers_figure, "units": units_figure}.get(style, graph_figure)
    return fit_cost(lambda budget: draw(graph, replace(opts, budget=budget)), opts.budget,
                    "budget" in options)
