"""The order the compiler runs its passes in, and nothing else."""
from __future__ import annotations

import time
from typing import Callable, Sequence

from symgraph.graph import Node
from symgraph.passes.cse import cse
from symgraph.passes.dce import dce
from symgraph.passes.fold import fold
from symgraph.passes.provenance import PassResult, compose
from symgraph.passes.simplify import simplify
from symgraph.passes.stabilize import stabilize

Pass = Callable[[Sequence[Node]], PassResult]

# CSE first, so patterns see one node per value; stabilisation before folding and
# simplification, which could otherwise take apart the patterns it looks for; folding
# before simplification, which then sees the folded constants (and folds again what its
# own rewrites leave constant); a second CSE merges what the rewrites built twice; DCE last.
PASSES: list[tuple[str, Pass]] = [
    ("cse", cse),
    ("stabilize", stabilize),
    ("fold", fold),
    ("simplify", simplify),
    ("cse2", cse),
    ("dce", dce),
]


def optimize(outputs: Sequence[Node]) -> tuple[PassResult, list[tuple[str, float]]]:
    """Run every pass in order; returns the composed result and (name, seconds) per pass."""
    result = None
    timings = []
    current = tuple(outputs)
    for name, fn in PASSES:
        start = time.perf_counter()
        step = fn(current)
        timings.append((name, time.perf_counter() - start))
        result = step if result is None else compose(result, step)
        current = step.outputs
    return result, timings
