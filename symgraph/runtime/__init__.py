"""Scheduling and evaluation of compiled graphs."""
from symgraph.runtime.function import Function, function

__all__ = ["Function", "function"]
