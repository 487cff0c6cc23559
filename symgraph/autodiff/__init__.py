"""Differentiation passes: they append derivative nodes to a graph and return them."""
from symgraph.autodiff.forward import jvp
from symgraph.autodiff.reverse import grad, vjp

__all__ = ["grad", "vjp", "jvp"]
