"""Graph rewrites. Each pass takes output nodes and returns new outputs plus the fate of
every old node; ``pipeline.optimize`` runs them in order."""
from symgraph.passes.cse import cse
from symgraph.passes.pipeline import optimize
from symgraph.passes.provenance import Fate, PassResult

__all__ = ["cse", "optimize", "Fate", "PassResult"]
