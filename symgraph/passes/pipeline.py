"""The order the compiler runs its passes in, and nothing else."""
from __future__ import annotations

import time
from typing import Callable, Sequence

from symgraph.graph import Node
from symgraph.passes.dce import dce
from symgraph.passes.fused import rewrite
from symgraph.passes.provenance import PassResult, compose
from symgraph.passes.signs import signs

Pass = Callable[[Sequence[Node]], PassResult]

# One walk does CSE, stabilisation, folding and simplification (see fused.py for the order
# of the rules at each node and why one walk); the sign pass then moves negations out to
# the sums that absorb them (it needs to know who reads each node, which a local rule does
# not), and in the same walk scalar factors of matrix products onto their smaller operand
# (scales.py); DCE drops what nothing reads any more.
PASSES: list[tuple[str, Pass]] = [
    ("rewrite", rewrite),
    ("signs", signs),
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
        # A fused walk also says how long the rules of each pass it ran took.
        timings.extend((f"  {group}", seconds) for group, seconds in step.times.items())
        result = step if result is None else compose(result, step)
        current = step.outputs
    return result, timings
