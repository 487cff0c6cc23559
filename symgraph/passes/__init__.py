"""Graph rewrites. Each pass takes output nodes and returns new outputs plus the fate of
every old node; ``pipeline.optimize`` runs them in order."""
from symgraph.passes.cse import cse
from symgraph.passes.dce import dce
from symgraph.passes.fold import fold
from symgraph.passes.fused import rewrite
from symgraph.passes.pipeline import optimize
from symgraph.passes.provenance import Fate, PassResult, compose
from symgraph.passes.signs import signs
from symgraph.passes.simplify import simplify
from symgraph.passes.stabilize import stabilize

__all__ = ["cse", "dce", "fold", "rewrite", "signs", "simplify", "stabilize", "optimize",
           "Fate", "PassResult", "compose"]
