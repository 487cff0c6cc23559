"""Drawing graphs: DOT text (``to_dot``), files through Graphviz (``render``), and the
gradient, optimisation and diff views."""
from symgraph.render.dot import draw, to_dot
from symgraph.render.html import explore
from symgraph.render.figure import Drawing
from symgraph.render.svg import GraphvizError, mimebundle, render
from symgraph.render.views import diff, gradient_view, optimization_view

__all__ = ["to_dot", "draw", "render", "diff", "gradient_view", "optimization_view", "Drawing",
           "GraphvizError", "mimebundle", "explore"]
