"""Differentiation passes: they append derivative nodes to a graph and return them."""
from symgraph.autodiff.forward import jvp
from symgraph.autodiff.reverse import grad, vjp
from symgraph.autodiff.higher import (DEFAULT_HVP_METHOD, HVP_METHODS, hessian, hvp, jacobian,
                                      nth_derivative, nth_derivatives)
from symgraph.autodiff.taylor import taylor_coefficients, taylor_derivatives

__all__ = ["grad", "vjp", "jvp", "hvp", "hessian", "jacobian", "nth_derivative",
           "nth_derivatives", "HVP_METHODS", "DEFAULT_HVP_METHOD", "taylor_coefficients",
           "taylor_derivatives"]
